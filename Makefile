# Hotline — `make run` starts everything, `make test` runs every test. `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

UV := $(shell command -v uv 2>/dev/null || echo uv)
STAMP := .make
APT_RUN_PACKAGES := espeak-ng sox fonts-wqy-microhei
APT_TEST_PACKAGES := $(APT_RUN_PACKAGES) postgresql redis-server chromium sip-tester baresip-core kannel kannel-extras coturn rtpengine-daemon kamailio kamailio-tls-modules
APT_CLUSTER_PACKAGES := $(APT_RUN_PACKAGES) postgresql redis-server kamailio kamailio-tls-modules kamailio-extra-modules rtpengine-daemon openssl curl
export UV_LINK_MODE := copy

.PHONY: help walk run serve install python-deps frontend-deps frontend test lint typecheck test-sqlite system-run-deps \
        test-postgres test-frontend test-e2e check-api-client api-client bench bench-voice system-test-deps clean \
        cluster-deps cluster cluster-stop cluster-status bench-cluster \
        fuzz

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

# ------------------------------------------------------------------ install

$(STAMP):
	@mkdir -p $(STAMP)

uv-bin:
	@command -v uv >/dev/null 2>&1 || { echo "installing uv"; python3 -m pip install --quiet uv; }

python-deps: uv-bin ## Install Python and its packages (uv sync from uv.lock)
	@uv sync --frozen --quiet

$(STAMP)/npm: frontend/package-lock.json | $(STAMP)
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend-deps: $(STAMP)/npm ## Install the web UI's npm packages

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/package.json -type f 2>/dev/null)
frontend/dist/index.html: $(STAMP)/npm $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build
	@touch $@

frontend: frontend/dist/index.html ## Build the web UI (Vue) into frontend/dist

install: python-deps frontend system-run-deps ## Everything `make run` needs

# Installs the Debian packages in $(1) that are missing (idempotent; one apt-get run at most).
define apt_install
	@missing=""; \
	for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-run-deps: ## Debian packages `make run` uses: espeak-ng and sox (spoken prompts), a Chinese font (PDFs)
	$(call apt_install,$(APT_RUN_PACKAGES))

system-test-deps: ## Debian packages the tests use: the above, PostgreSQL, Redis, Chromium, SIPp, baresip, Kannel, coturn
	$(call apt_install,$(APT_TEST_PACKAGES))

# ------------------------------------------------------------------ run

run: install ## Install, migrate, load demo data and start Hotline on http://127.0.0.1:8000
	@uv run --frozen hotline db upgrade
	@uv run --frozen hotline demo-data
	@echo ""
	@echo "  Hotline is starting on http://127.0.0.1:8000   (API docs: /docs)"
	@echo "  Logins (password hotline-demo): admin supervisor teamlead agent1..agent5 planner frontdesk finance qa dept1"
	@echo "  SIP: 127.0.0.1:5060 UDP/TCP, extensions 1001-1010 (password sip<ext>); call 4008001000 or 4008002000"
	@echo ""
	@uv run --frozen hotline serve --no-migrate

cluster-deps: ## Debian packages `make cluster` uses: the above, PostgreSQL, Redis, Kamailio (with TLS), rtpengine
	$(call apt_install,$(APT_CLUSTER_PACKAGES))

cluster: python-deps frontend cluster-deps ## A whole site on loopback: PostgreSQL, Redis, Kamailio on :5060, two voice nodes, an API+jobs node on :8000 (docs/deployment.md)
	@scripts/cluster.sh start

cluster-stop: ## Stop everything `make cluster` started
	@scripts/cluster.sh stop

cluster-status: ## What `make cluster` runs, and where
	@scripts/cluster.sh status

# ------------------------------------------------------------------ test

test: python-deps frontend-deps system-test-deps ## Install what the tests need and run them all (lint, types, SQLite, PostgreSQL, vitest, browser)
	@$(MAKE) lint typecheck check-api-client
	@eval "$$(scripts/services.sh start)"; trap 'scripts/services.sh stop' EXIT; \
	  scripts/test-pair.sh && $(MAKE) test-frontend && $(MAKE) test-e2e

lint: python-deps frontend-deps ## ruff format check and lint, the architecture's import contracts (pyproject.toml); eslint and prettier --check on the web UI
	uv run --frozen ruff format --check src tests benchmarks
	uv run --frozen ruff check src tests benchmarks
	uv run --frozen lint-imports
	cd frontend && npm run --silent lint

typecheck: python-deps ## mypy --strict on src/
	uv run --frozen mypy

test-sqlite: python-deps ## pytest on SQLite (HOTLINE_TEST_REDIS_URL enables the Redis tests)
	env -u HOTLINE_TEST_DATABASE_URL uv run --frozen pytest -q -m "not e2e" tests

test-postgres: python-deps ## pytest on PostgreSQL (needs HOTLINE_TEST_DATABASE_URL; `make test` starts one)
	@test -n "$${HOTLINE_TEST_DATABASE_URL:-}" || { echo "HOTLINE_TEST_DATABASE_URL is not set"; exit 1; }
	uv run --frozen pytest -q -m "not e2e" tests

test-frontend: frontend-deps ## vitest unit tests of the web UI
	cd frontend && npm test --silent

test-e2e: python-deps frontend ## Playwright (Debian chromium) against a real server
	env -u HOTLINE_TEST_DATABASE_URL uv run --frozen pytest -q -m e2e tests/e2e

walk: python-deps frontend ## The walk in full: every role's pages in zh-CN and English at 1366×768 and 1920×1080
	env -u HOTLINE_TEST_DATABASE_URL HOTLINE_WALK=full uv run --frozen pytest -q -m e2e -rxf tests/e2e/test_walk.py

fuzz: python-deps ## Fuzz the API harder than `make test`, new seed each run; adds failing inputs to tests/api/fuzz-examples
	HOTLINE_FUZZ=deep HOTLINE_FUZZ_PROGRESS=1 uv run --frozen pytest -q -s -p no:cacheprovider tests/api/test_schemathesis.py

api-client: python-deps frontend-deps ## Regenerate frontend/openapi.json and the TypeScript API types
	uv run --frozen hotline openapi > frontend/openapi.json
	cd frontend && npm run --silent gen:api

check-api-client: api-client ## Fail if the checked-in API client is stale
	@git diff --exit-code --stat -- frontend/openapi.json frontend/src/api/schema.d.ts \
	  || { echo "the API client is stale: run 'make api-client' and commit"; exit 1; }

bench: python-deps ## Run the API benchmark (see benchmarks/README.md)
	uv run --frozen python benchmarks/api_throughput.py

bench-voice: python-deps system-test-deps ## Run the voice benchmarks with SIPp (several minutes)
	uv run --frozen python benchmarks/voice.py bridge --calls 400 --seconds 20 --uvloop --runs 3
	uv run --frozen python benchmarks/voice.py ivr --calls 400 --seconds 20 --uvloop --runs 3
	uv run --frozen python benchmarks/voice.py setup --rate 100 --seconds 60 --uvloop --runs 3
	uv run --frozen python benchmarks/voice.py dtmf --calls 1000 --uvloop

clean: ## Remove build output, caches and the embedded database
	rm -rf $(STAMP) frontend/dist var .pytest_cache .mypy_cache .ruff_cache

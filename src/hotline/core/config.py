"""Settings from `HOTLINE_*` environment variables and an optional `hotline.toml`.

Defaults are the embedded mode of `make run`: one process, SQLite under `var/`,
in-process events and jobs, web on 127.0.0.1:8000, SIP on 127.0.0.1:5060.
"""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parents[3]
"""The project checkout (holds `var/`, `frontend/dist`)."""

NodeRole = Literal["api", "voice", "jobs"]
_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        extra="forbid",
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'hotline.db'}"
    redis_url: str | None = None
    """When set, domain events travel over Redis pub/sub to every node."""
    cluster: bool = False
    """Voice nodes of a cluster (needs `redis_url`): each serves its calls to the site's one
    router over Redis, and the node holding the router's lease runs the contact layer for all
    (docs/deployment.md)."""
    internal_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+$")
    """How the cluster's other nodes reach this node's API (`http://10.0.0.5:8000`): the node
    holding the router's lease takes, from the others, the requests only it can carry out.
    Default: http://host:port."""
    cluster_name: str = Field(default="site", pattern=r"^[a-z0-9-]{1,40}$")
    """The cluster's name, the same on all its nodes: keeps two clusters on one Redis apart."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    sip_host: str = "127.0.0.1"
    sip_port: int = Field(default=5060, ge=1, le=65535)
    sip_realm: str = "hotline"
    sip_max_calls: int = Field(default=200, ge=1)
    """Concurrent calls this node takes; beyond it new calls get 503 and go to another node."""
    sip_digest_algorithms: list[Literal["MD5", "SHA-256"]] = Field(default=["MD5"], min_length=1)
    """Challenges the registrar sends, in order (docs/decisions/0002: MD5 alone by default)."""
    sip_udp_receive_buffer: int = Field(default=4 * 1024 * 1024, ge=65_536, le=256 * 1024 * 1024)
    """Bytes of UDP receive buffer for SIP, so bursts wait in the kernel instead of being dropped
    there; capped by the sysctl net.core.rmem_max unless the process has CAP_NET_ADMIN
    (docs/voice.md, "Bursts")."""
    sip_source_rate: float = Field(default=500.0, ge=0, le=100_000)
    """SIP requests a second one source (address and port) may keep sending before it gets 503
    with Retry-After; 0 turns the limit off. Requests inside a call in progress never count."""
    sip_source_burst: int = Field(default=1000, ge=1, le=1_000_000)
    """SIP requests one source may send at once after a quiet spell."""
    sip_edge_proxies: list[str] = Field(default=[], max_length=16)
    """The SIP edges (Kamailio, deploy/kamailio) in front of this voice node, as IP:port of their
    UDP socket (`["127.0.0.1:5060"]`): only requests from them may name their real sender in
    X-Hotline-Source, and only their Path is kept for a registration (docs/deployment.md)."""
    rtp_ports: tuple[int, int] = (20000, 30000)
    desk_grace_seconds: float = Field(default=8.0, ge=0, le=300)
    """How long an agent's last desktop tab may be gone (a reload, a network blip) before they
    stop being offered calls."""
    roles: list[NodeRole] = ["api", "voice", "jobs"]
    node_id: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")

    frontend_dist: Path = ROOT / "frontend" / "dist"
    prompt_cache: Path = ROOT / "var" / "prompts"
    recordings_dir: Path = ROOT / "var" / "recordings"
    """Where calls answered by agents are recorded (a folder per call: a.wav, b.wav, mix.wav)."""
    recordings_node: str = Field(default_factory=lambda: os.uname().nodename, min_length=1, max_length=120)
    """The name of the machine that keeps the files this node records (the recordings library
    says where each file is; docs/qa.md, "Other machines"): its host name by default."""
    recordings_media_secret: SecretStr | None = None
    """The key recordings' media links are signed with, the same on every node; unset, a random
    key is made once and kept in the database."""
    phone_secret: SecretStr | None = None
    """The key browsers' phone credentials are signed with (docs/voice.md, "SIP over WebSocket"),
    the same on every node; unset, a random key is made once and kept in the database, so issued
    credentials stay valid across restarts either way."""
    phone_stun_urls: list[str] = Field(default=[], max_length=8)
    """STUN servers the browser phone asks for its public address (`stun:host:3478`); none is
    needed on the engine's own network (docs/voice.md, "Agents outside the LAN")."""
    phone_turn_urls: list[str] = Field(default=[], max_length=8)
    """TURN servers (coturn) that relay a browser phone's media when nothing else gets through
    (`turn:host:3478?transport=udp`, `turns:host:5349?transport=tcp`); needs `phone_turn_secret`."""
    phone_turn_secret: SecretStr | None = None
    """coturn's `static-auth-secret` (`use-auth-secret`): each browser gets a TURN credential of its
    own that ends with its phone credential; no TURN password is ever shared or stored."""
    media_address: str | None = Field(default=None, min_length=1, max_length=255)
    """The address browsers reach the engine's media at when it is not `sip_host` (a public or NAT
    address in front of it): offered to them as a second ICE candidate."""
    media_relay: Literal["builtin", "rtpengine"] = "builtin"
    """What relays a bridged call's RTP: the engine itself (`builtin`, a single node's default) or
    rtpengine, controlled over its ng protocol at `rtpengine_ng` (docs/voice.md, "rtpengine")."""
    rtpengine_ng: str | None = Field(default=None, pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$")
    """rtpengine's ng control address, `host:port` (its `listen-ng`), e.g. `127.0.0.1:2223`."""
    rtpengine_recordings: Path | None = None
    """rtpengine's `--recording-dir` as this node reads it (the same machine or a shared mount): its
    captures become the call's recording files. Unset, recorded calls stay on the built-in relay."""
    recordings_default_days: int = Field(default=180, ge=1, le=36_500)
    """How long the recordings of a queue without a retention rule are kept (never below 30)."""
    speech_engine: str = "none"
    """Transcripts of recorded calls (docs/qa.md): none, sherpa-onnx (installed by the operator with
    a model folder) or package.module:factory for an engine of one's own."""
    speech_model_dir: Path | None = None
    """The sherpa-onnx model's folder (model.onnx or model.int8.onnx, and tokens.txt)."""
    speech_model_kind: Literal["sense-voice", "paraformer"] = "sense-voice"
    speech_threads: int = Field(default=1, ge=1, le=16)
    """Threads one transcription uses inside its worker."""
    speech_seconds: float = Field(default=600.0, gt=0, le=3600)
    """A worker's time to transcribe one recording before it is stopped and the recording refused."""
    exports_dir: Path = ROOT / "var" / "exports"
    """Where export files are written (docs/reports.md, "Exports"); each is removed when it expires."""
    exports_keep_hours: int = Field(default=24, ge=1, le=720)
    """How long an export's file may be downloaded."""
    exports_seconds: float = Field(default=900.0, gt=0, le=7200)
    """An export's time limit: one still running then is stopped and its file removed."""
    exports_max_rows: int = Field(default=2_000_000, ge=1, le=20_000_000)
    exports_parallel: int = Field(default=2, ge=1, le=16)
    """Exports one node writes at once (each a process using a core); the rest wait their turn."""
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"

    # Sessions and login protection (SPEC X5).
    session_cookie: str = "hotline_session"
    cookie_secure: bool = False
    session_idle_minutes: int = Field(default=8 * 60, ge=1)
    session_max_hours: int = Field(default=14, ge=1)
    session_cache_seconds: float = Field(default=5.0, ge=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    password_min_length: int = Field(default=10, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)

    # Public routes (docs/security.md, "Rate limits, proxies and CORS").
    rate_limit_login: int = Field(default=20, ge=0, le=100_000)
    """Sign-in attempts a minute from one client address (0: no limit). Beside the account lockout,
    which stops guessing one user's password, this stops trying many users' from one address; an
    office of agents behind one NAT address signing in at once needs it above its head count."""
    rate_limit_links: int = Field(default=120, ge=0, le=100_000)
    """Requests a minute from one address to signed links: recordings' media (a player seeking asks
    for several ranges) and surveys sent by SMS."""
    rate_limit_callbacks: int = Field(default=600, ge=0, le=100_000)
    """Requests a minute from one address to gateways' callbacks (Kannel's delivery reports and
    incoming SMS, WeChat) and any other public route; a gateway is one address that sends them all."""
    rate_limit_chat: int = Field(default=1200, ge=0, le=100_000)
    """Requests a minute from one address to the web chat's visitor API (a visitor polls for
    answers every 2 seconds: 30 a minute, so 40 visitors behind one address)."""
    # Files in the web chat (notify/chat_files.py, docs/channels.md "Files").
    chat_image_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    """The largest image (JPEG, PNG, GIF, WebP) a visitor or an agent may send in a web chat."""
    chat_pdf_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    chat_image_max_pixels: int = Field(default=40_000_000, ge=10_000, le=200_000_000)
    """Width × height an image may say it has (a small file can claim a huge image: a bomb for
    the browsers that show it)."""
    chat_files_per_conversation: int = Field(default=20, ge=0, le=1000)
    chat_files_bytes_per_conversation: int = Field(default=50 * 1024 * 1024, ge=0, le=1024 * 1024 * 1024)
    trusted_proxies: list[str] = Field(default=["127.0.0.1"], max_length=64)
    """Addresses or networks (10.0.0.0/8) of reverse proxies whose X-Forwarded-For and
    X-Forwarded-Proto are believed; a request from anywhere else is its socket's peer, whatever
    headers it sends. `[]` believes none; `["*"]` every peer (only when nothing else can reach
    the port)."""
    cors_origins: list[str] = Field(default=[], max_length=64)
    """Sites whose pages may call the API from the browser (`https://www.example-hotel.com`):
    the chat widget's. None by default: same origin only. Never with cookies."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    compute_workers: int = Field(default=0, ge=0, le=64)
    """Worker processes for CPU-heavy requests and jobs (core/compute.py); 0: all cores but one."""
    compute_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How long one such computation may run before it is stopped (503 computation-too-long)."""
    compute_memory_mib: int = Field(default=1024, ge=256, le=65536)
    compute_warm: bool = True
    """Start a first worker with the node, so the first heavy request does not wait for it."""
    jobs_poll_seconds: float = Field(default=1.0, gt=0)
    jobs_lease_seconds: int = Field(default=300, ge=5)
    default_timezone: str = "Asia/Shanghai"
    company_name: str = Field(default="英冠酒店集团", min_length=1, max_length=40)
    """How the site names itself to the people it calls (a predictive dialer's message when no
    agent is free, docs/outbound.md)."""
    public_url: str = Field(default="", max_length=200, pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")
    """The address customers reach the site at (https://hotline.example.com), for links sent to
    them (a survey by SMS); '' uses http://host:port, right for `make run` only."""
    survey_link_days: int = Field(default=7, ge=1, le=30)
    """How long a survey sent by SMS can be answered."""

    # Audit checkpoints (docs/security.md): the chain's head, signed with a key the database does
    # not hold, written where the database's users cannot reach.
    audit_key_file: Path = ROOT / "var" / "audit" / "signing.key"
    """The Ed25519 private key that signs checkpoints (`hotline audit keygen`). Outside production
    a missing one is generated on first use, so `make run` works as it is."""
    audit_key: SecretStr | None = None
    """The same key inline (base64 of its 32-byte seed); wins over the file when set."""
    audit_keyring_file: Path = ROOT / "var" / "audit" / "keyring.json"
    """Public keys (by key id) that checkpoints may be signed with: the current one and retired ones."""
    audit_checkpoint_file: Path = ROOT / "var" / "audit" / "checkpoints.jsonl"
    audit_checkpoint_minutes: int = Field(default=5, ge=1, le=60)
    """A checkpoint every this many minutes (a divisor of 60), at start-up and at shutdown."""
    audit_mail_to: list[str] = []
    """Auditors' addresses that receive checkpoints by e-mail (none: the file only)."""
    audit_mail_every_minutes: int = Field(default=60, ge=1, le=1440)
    """Interval checkpoints mailed at most this often; start-up, shutdown, backup and restore always."""
    audit_smtp: dict[str, str | int | bool] = {}
    """The SMTP server for those mails, set here and not in the database (keys as the notify
    gateway's: host, port, username, sender, starttls, tls, timeout, ca_file)."""
    audit_smtp_password: SecretStr | None = None

    @field_validator("audit_checkpoint_minutes")
    @classmethod
    def _divides_the_hour(cls, minutes: int) -> int:
        if 60 % minutes:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return minutes

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            if proxy == "*":
                continue
            try:
                ipaddress.ip_network(proxy)  # strict: 10.0.0.1/8 is a mistake
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address, a network (10.0.0.0/8) or *") from None
        return proxies

    @field_validator("sip_edge_proxies")
    @classmethod
    def _edges(cls, edges: list[str]) -> list[str]:
        for edge in edges:
            host, _, port = edge.rpartition(":")
            try:
                ipaddress.ip_address(host.strip("[]"))
                ok = port.isascii() and port.isdigit() and 0 < int(port) < 65536
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"{edge!r} is not an edge address: IP:port, such as 127.0.0.1:5060")
        return edges

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin: scheme://host[:port], no path nor *")
        return origins

    @field_validator("phone_stun_urls", "phone_turn_urls")
    @classmethod
    def _ice_urls(cls, urls: list[str], info: ValidationInfo) -> list[str]:
        schemes = ("stun:", "stuns:") if info.field_name == "phone_stun_urls" else ("turn:", "turns:")
        for url in urls:
            if not url.startswith(schemes) or len(url) > 255 or any(c.isspace() for c in url):
                raise ValueError(f"{url!r} is not a {' or '.join(schemes)} URL (RFC 7064, RFC 7065)")
        return urls

    @model_validator(mode="after")
    def _turn_needs_its_secret(self) -> Settings:
        if self.phone_turn_urls and self.phone_turn_secret is None:
            raise ValueError("phone_turn_urls needs phone_turn_secret (coturn's static-auth-secret)")
        if self.media_relay == "rtpengine" and self.rtpengine_ng is None:
            raise ValueError("media_relay rtpengine needs rtpengine_ng (its listen-ng host:port)")
        return self

    @model_validator(mode="after")
    def _cluster_needs_redis(self) -> Settings:
        if self.cluster and not self.redis_url:
            raise ValueError("cluster needs redis_url: the voice nodes and the router talk over Redis")
        return self

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments win, then the environment, then hotline.toml.
        toml_file = Path(os.environ.get("HOTLINE_CONFIG", "hotline.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

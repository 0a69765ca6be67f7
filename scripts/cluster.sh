#!/usr/bin/env bash
# A whole Hotline site on one machine, for trying the cluster (docs/deployment.md):
# PostgreSQL and Redis (scripts/services.sh), Kamailio in front (deploy/kamailio/kamailio.cfg),
# rtpengine relaying the bridged calls' media (deploy/rtpengine/rtpengine.conf, userspace), two
# voice nodes and one API-and-jobs node, all on loopback.
#   scripts/cluster.sh start | stop | status
# Settings (environment): CLUSTER_DIR (var/cluster), EDGE_PORT (5060), EDGE_TLS_PORT (5061),
# CLUSTER_PG_PORT (55433), CLUSTER_REDIS_PORT (56380), VOICE_NODES (2), HTTP_PORT (8000),
# SIP_BASE (5080), MEDIA_RELAY (rtpengine; builtin: the voice nodes relay media themselves),
# RTPENGINE_NG_PORT (2223), RTPENGINE_PORTS (40000-40999), RTP_BASE (20000), RTP_SPAN (5000: the RTP
# ports of each voice node).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/var/cluster}"
EDGE_PORT="${EDGE_PORT:-5060}"
EDGE_TLS_PORT="${EDGE_TLS_PORT:-5061}"
PG_PORT="${CLUSTER_PG_PORT:-55433}"
REDIS_PORT="${CLUSTER_REDIS_PORT:-56380}"
VOICE_NODES="${VOICE_NODES:-2}"
HTTP_PORT="${HTTP_PORT:-8000}"  # the API node; voice node i serves http on HTTP_PORT + i
SIP_BASE="${SIP_BASE:-5080}"    # voice node i listens for SIP on SIP_BASE + i
RTP_BASE="${RTP_BASE:-20000}"   # voice node i relays media on RTP_SPAN ports from RTP_BASE + (i - 1) * RTP_SPAN
RTP_SPAN="${RTP_SPAN:-5000}"
KAMAILIO="$(command -v kamailio || echo /usr/sbin/kamailio)"
RTPENGINE="${RTPENGINE:-$(command -v rtpengine || echo /usr/bin/rtpengine)}"
MEDIA_RELAY="${MEDIA_RELAY:-rtpengine}"
RTPENGINE_NG_PORT="${RTPENGINE_NG_PORT:-2223}"
RTPENGINE_PORTS="${RTPENGINE_PORTS:-40000-40999}"
MEDIA=()  # the voice nodes' media relay settings (set by start_rtpengine)
UV="$(command -v uv || echo uv)"

services() {
  HOTLINE_SERVICES_DIR="$DIR/services" HOTLINE_TEST_PG_PORT="$PG_PORT" HOTLINE_TEST_REDIS_PORT="$REDIS_PORT" \
    "$ROOT/scripts/services.sh" "$@"
}

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

# waits until $1 (a command) succeeds, up to $2 tenths of a second
wait_for() {
  for _ in $(seq "$2"); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

node() {  # name, roles, http port, sip port, rtp first, rtp last
  local name=$1 roles=$2 http=$3 sip=$4
  alive "$name" && { echo "  $name already runs"; return; }
  env HOTLINE_DATABASE_URL="$DATABASE_URL" HOTLINE_REDIS_URL="$REDIS_URL" HOTLINE_NODE_ID="$name" \
      HOTLINE_CLUSTER=true HOTLINE_CLUSTER_NAME=cluster \
      HOTLINE_SIP_PORT="$sip" HOTLINE_SIP_EDGE_PROXIES="[\"127.0.0.1:$EDGE_PORT\"]" \
      HOTLINE_RTP_PORTS="[$5,$6]" HOTLINE_PROMPT_CACHE="$DIR/prompts" "${MEDIA[@]}" \
      nohup "$UV" run --frozen --project "$ROOT" hotline serve --no-migrate --roles "$roles" --port "$http" \
      >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

start_rtpengine() {  # rtpengine in the foreground under its pid file; ng on loopback
  if [ "$MEDIA_RELAY" != rtpengine ]; then
    echo "  MEDIA_RELAY=$MEDIA_RELAY: the voice nodes relay media themselves"
    return
  fi
  if [ ! -x "$RTPENGINE" ]; then
    echo "  rtpengine is not installed (Debian: rtpengine-daemon, 'make cluster-deps'): the voice" \
      "nodes relay media themselves" >&2
    return
  fi
  mkdir -p "$DIR/rtpengine"
  MEDIA=(HOTLINE_MEDIA_RELAY=rtpengine HOTLINE_RTPENGINE_NG="127.0.0.1:$RTPENGINE_NG_PORT"
    HOTLINE_RTPENGINE_RECORDINGS="$DIR/rtpengine")
  alive rtpengine && return
  (cd "$DIR" || exit 1  # (rtpengine writes a core file there if it crashes; $! is rtpengine itself)
    nohup "$RTPENGINE" --config-file="$ROOT/deploy/rtpengine/rtpengine.conf" \
    --config-section=rtpengine-loopback --listen-ng="127.0.0.1:$RTPENGINE_NG_PORT" \
    --port-min="${RTPENGINE_PORTS%-*}" --port-max="${RTPENGINE_PORTS#*-}" \
    --recording-dir="$DIR/rtpengine" >"$DIR/rtpengine.log" 2>&1 &
    echo $! >"$DIR/rtpengine.pid")
  wait_for "alive rtpengine && ss -Huln 'sport = :$RTPENGINE_NG_PORT' | grep -q ." 100 \
    || { echo "  rtpengine did not start: see $DIR/rtpengine.log; the voice nodes relay media themselves" >&2
         MEDIA=(); }
}

start() {
  mkdir -p "$DIR"
  [ -x "$KAMAILIO" ] || { echo "kamailio is not installed: run 'make cluster-deps'" >&2; exit 1; }
  eval "$(services start)"
  DATABASE_URL="$HOTLINE_TEST_DATABASE_URL"
  REDIS_URL="$HOTLINE_TEST_REDIS_URL"
  echo "DATABASE_URL=$DATABASE_URL" >"$DIR/env"
  echo "REDIS_URL=$REDIS_URL" >>"$DIR/env"
  HOTLINE_DATABASE_URL="$DATABASE_URL" "$UV" run --frozen --project "$ROOT" hotline db upgrade >/dev/null
  HOTLINE_DATABASE_URL="$DATABASE_URL" "$UV" run --frozen --project "$ROOT" hotline demo-data >/dev/null

  : >"$DIR/dispatcher.list"
  for i in $(seq "$VOICE_NODES"); do
    echo "1 sip:127.0.0.1:$((SIP_BASE + i)) 0 0 weight=50" >>"$DIR/dispatcher.list"
  done
  if [ ! -f "$DIR/edge.crt" ]; then  # SIP over TLS ends at the edge; a real site uses its own
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/edge.key" -out "$DIR/edge.crt" -days 3650 \
      -subj "/CN=hotline-edge" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
  fi

  start_rtpengine
  for i in $(seq "$VOICE_NODES"); do
    node "voice-$i" voice $((HTTP_PORT + i)) $((SIP_BASE + i)) $((RTP_BASE + (i - 1) * RTP_SPAN)) \
      $((RTP_BASE + i * RTP_SPAN - 1))
  done
  rtp_api=$((RTP_BASE + VOICE_NODES * RTP_SPAN))  # (its SIP and RTP ports are unused: no voice role)
  node api api,jobs "$HTTP_PORT" "$SIP_BASE" "$rtp_api" $((rtp_api + 999))

  if ! alive kamailio; then
    nohup "$KAMAILIO" -DD -E -f "$ROOT/deploy/kamailio/kamailio.cfg" -m 128 -M 16 \
      -A EDGE_PORT="$EDGE_PORT" -A EDGE_TLS_PORT="$EDGE_TLS_PORT" \
      -A DISPATCHER_LIST="\"$DIR/dispatcher.list\"" -A CTL_SOCKET="\"unix:$DIR/kamailio.ctl\"" \
      -A TLS_CERTIFICATE="\"$DIR/edge.crt\"" -A TLS_PRIVATE_KEY="\"$DIR/edge.key\"" \
      >"$DIR/kamailio.log" 2>&1 &
    echo $! >"$DIR/kamailio.pid"
  fi
  wait_for "curl -sf -o /dev/null http://127.0.0.1:$HTTP_PORT/healthz" 600 \
    || echo "  the API node is not answering yet: see $DIR/api.log" >&2
  for i in $(seq "$VOICE_NODES"); do
    wait_for "grep -q 'SIP listening' '$DIR/voice-$i.log'" 600 || echo "  voice-$i did not start: see $DIR/voice-$i.log" >&2
  done
  status
}

status() {
  echo "Hotline cluster ($DIR):"
  printf "  %-10s %-8s %s\n" what state where
  for name in kamailio rtpengine api $(for i in $(seq "$VOICE_NODES"); do echo "voice-$i"; done); do
    state=stopped; alive "$name" && state=running
    case $name in
      kamailio) where="SIP udp+tcp 127.0.0.1:$EDGE_PORT, tls 127.0.0.1:$EDGE_TLS_PORT (log $DIR/kamailio.log)";;
      rtpengine) where="ng 127.0.0.1:$RTPENGINE_NG_PORT, media $RTPENGINE_PORTS, recordings $DIR/rtpengine (log $DIR/rtpengine.log)";;
      api) where="http://127.0.0.1:$HTTP_PORT (API, web UI, jobs)";;
      voice-*) i=${name#voice-}; where="SIP 127.0.0.1:$((SIP_BASE + i)), http 127.0.0.1:$((HTTP_PORT + i)) (behind the edge)";;
    esac
    printf "  %-10s %-8s %s\n" "$name" "$state" "$where"
  done
  [ -f "$DIR/env" ] && sed 's/^/  /' "$DIR/env"
  if alive kamailio && command -v kamcmd >/dev/null; then
    echo "  voice nodes as the edge sees them (AP: active and probed, IP: down):"
    kamcmd -s "unix:$DIR/kamailio.ctl" dispatcher.list 2>/dev/null | grep -E "URI|FLAGS" | paste - - \
      | awk '{print "    " $2 "  " $4}' || true
  fi
  echo "  Call 4008001000 at sip:4008001000@127.0.0.1:$EDGE_PORT; phones register extensions 1001-1010"
  echo "  (password sip<ext>) at 127.0.0.1:$EDGE_PORT; logins as in 'make run'."
}

stop() {  # rtpengine last: the voice nodes delete their calls there first (docs/voice.md)
  for name in kamailio api $(for i in $(seq "$VOICE_NODES"); do echo "voice-$i"; done) rtpengine; do
    if alive "$name"; then
      pid=$(cat "$DIR/$name.pid")
      kill -TERM -- "$pid" 2>/dev/null || true
      wait_for "! kill -0 $pid" 100 || kill -KILL -- "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/$name.pid"
  done
  services stop
  echo "Hotline cluster stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

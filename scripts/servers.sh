# shellcheck shell=bash
# scripts/servers.sh — start and stop the real servers that the integration
# tests talk to. A library: `source` it, do not execute it.
#
# Usage (from scripts/test, or by hand from the repository root):
#
#   source scripts/servers.sh
#   trap servers_stop_all EXIT
#   dynalite_start                 # exports ITEMCRYPTO_DYNAMODB_ENDPOINT
#   go test ./...                  # integration tests now run instead of skipping
#   dynalite_stop                  # optional: servers_stop_all does it too
#
# dynalite_start
#   Installs the pinned dynalite (testservers/dynalite/package-lock.json) with
#   `npm ci` when node_modules is missing or older than the lockfile, starts it
#   in memory on 127.0.0.1 on a port the kernel picks, waits (up to
#   DYNALITE_START_TIMEOUT seconds, default 30) until it answers HTTP, and
#   exports ITEMCRYPTO_DYNAMODB_ENDPOINT=http://127.0.0.1:<port>.
#   Its log goes to $DYNALITE_LOG (a temp file). Returns 1 loudly — with the
#   log — when node/npm are missing, the install fails or the server does not
#   come up.
# dynalite_stop
#   Stops it and unsets ITEMCRYPTO_DYNAMODB_ENDPOINT. Safe to call twice or
#   when it was never started.
# servers_stop_all
#   Stops every server this file started; meant for `trap servers_stop_all EXIT`.
#
# The server also exits by itself when the shell that started it goes away.

_servers_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

DYNALITE_PID=
DYNALITE_LOG=

_servers_err() { echo "servers.sh: $*" >&2; }

# _dynalite_install: npm ci in testservers/dynalite unless node_modules is
# already newer than the lockfile.
_dynalite_install() {
  local dir="$_servers_root/testservers/dynalite"
  local stamp="$dir/node_modules/.package-lock.json"  # written by npm on every install
  if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    return 0
  fi
  echo "servers.sh: npm ci in testservers/dynalite"
  # --ignore-scripts: dynalite's only install script is classic-level's
  # `node-gyp-build`, which would just find the prebuilt binary that the
  # package ships (prebuilds/linux-x64) — or else try a native build. Skipping
  # it keeps the install offline-safe; the binary is loaded at run time and
  # checked right below.
  if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts); then
    _servers_err "npm ci failed in $dir"
    return 1
  fi
  if ! (cd "$dir" && node -e "require('dynalite')" ); then
    _servers_err "dynalite was installed but does not load (native classic-level binary missing for $(uname -sm)?)"
    return 1
  fi
}

dynalite_start() {
  if [ -n "$DYNALITE_PID" ] && kill -0 "$DYNALITE_PID" 2>/dev/null; then
    echo "servers.sh: dynalite already running (pid $DYNALITE_PID) at $ITEMCRYPTO_DYNAMODB_ENDPOINT"
    return 0
  fi
  local tool
  for tool in node npm curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      _servers_err "'$tool' is not installed; it is needed to run dynalite for the DynamoDB integration tests"
      _servers_err "(Debian: apt-get install -y nodejs npm curl; node >= 20)"
      return 1
    fi
  done

  _dynalite_install || return 1

  DYNALITE_LOG=$(mktemp "${TMPDIR:-/tmp}/dynalite.XXXXXX.log")
  local started=$SECONDS
  node "$_servers_root/testservers/dynalite/start.js" --host 127.0.0.1 --port 0 --parent-pid $$ \
    >"$DYNALITE_LOG" 2>&1 </dev/null &
  DYNALITE_PID=$!

  local timeout=${DYNALITE_START_TIMEOUT:-30}
  local deadline=$((SECONDS + timeout)) port=
  while :; do
    if ! kill -0 "$DYNALITE_PID" 2>/dev/null; then
      _servers_err "dynalite exited during startup; its log ($DYNALITE_LOG):"
      cat "$DYNALITE_LOG" >&2
      DYNALITE_PID=
      return 1
    fi
    if [ -z "$port" ]; then
      port=$(sed -n 's/^DYNALITE_LISTENING port=\([0-9][0-9]*\)$/\1/p' "$DYNALITE_LOG" | head -n 1)
    fi
    # dynalite answers a plain GET / with 200 once it serves requests.
    if [ -n "$port" ] && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null; then
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      _servers_err "dynalite did not answer within ${timeout}s; its log ($DYNALITE_LOG):"
      cat "$DYNALITE_LOG" >&2
      dynalite_stop
      return 1
    fi
    sleep 0.1
  done

  export ITEMCRYPTO_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  echo "servers.sh: dynalite up at $ITEMCRYPTO_DYNAMODB_ENDPOINT (pid $DYNALITE_PID, $((SECONDS - started))s, log $DYNALITE_LOG)"
}

dynalite_stop() {
  if [ -n "$DYNALITE_PID" ]; then
    if kill "$DYNALITE_PID" 2>/dev/null; then
      # Give it a moment to go, then make sure it is gone.
      local i
      for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        kill -0 "$DYNALITE_PID" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$DYNALITE_PID" 2>/dev/null || true
    fi
    wait "$DYNALITE_PID" 2>/dev/null || true
    DYNALITE_PID=
  fi
  unset ITEMCRYPTO_DYNAMODB_ENDPOINT
  return 0
}

servers_stop_all() {
  dynalite_stop
}

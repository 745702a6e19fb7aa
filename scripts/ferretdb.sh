# shellcheck shell=bash
# scripts/ferretdb.sh — build, start and stop the MongoDB-wire-compatible test
# server (FerretDB v1 embedded in internal/testsupport/testdb, SQLite backend in a temp
# dir). A library: `source` it, do not execute it.
#
# Usage (from scripts/test, or by hand from the repository root):
#
#   source scripts/ferretdb.sh
#   trap ferretdb_stop EXIT        # or call it from your own EXIT trap
#   ferretdb_start                 # exports ITEMCRYPTO_MONGODB_URI
#   go test ./...                  # MongoDB integration tests now run instead of skipping
#   ferretdb_stop                  # optional when trapped; safe to call twice
#
# ferretdb_build
#   Builds internal/testsupport/testdb (its own Go module; the library's go.mod never sees
#   FerretDB's dependencies) to $FERRETDB_BIN, by default
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-itemcrypto/itemcrypto-testdb. Skips the
#   build when a stamp (hash of go.mod, go.sum, *.go, `go version` and the
#   build flags) matches. A cold build (empty Go build cache) costs about two
#   minutes of 2-core CPU, mostly modernc.org/sqlite and its libc; to overlap
#   it with other work run `ferretdb_build &` early and `wait` before
#   ferretdb_start (which then finds it up to date).
# ferretdb_start
#   ferretdb_build, then starts the server on 127.0.0.1 on a port the kernel
#   picks, waits (up to FERRETDB_START_TIMEOUT seconds, default 60) for it to
#   accept connections, and exports ITEMCRYPTO_MONGODB_URI=mongodb://127.0.0.1:<port>/.
#   Its log goes to $FERRETDB_LOG (a temp file). Returns 1 loudly — with the
#   log tail — when go is missing, the build fails or the server does not come up.
# ferretdb_stop
#   SIGTERM, waits for it to exit (SIGKILL after 15 s), removes its temp
#   files and unsets ITEMCRYPTO_MONGODB_URI. Safe to call twice or when it
#   was never started. The server removes its own data directory on exit.
#
# The server also exits by itself when the shell that started it goes away.

_ferretdb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

FERRETDB_BIN=${FERRETDB_BIN:-"${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/go-itemcrypto/itemcrypto-testdb"}
FERRETDB_PID=
FERRETDB_LOG=
_ferretdb_urifile=

# The PostgreSQL backend is left out: smaller binary, less to compile.
_ferretdb_buildflags=(-tags ferretdb_no_postgresql -ldflags=-s\ -w)

_ferretdb_err() { echo "ferretdb.sh: $*" >&2; }

_ferretdb_stamp() {
  local dir="$_ferretdb_root/internal/testsupport/testdb"
  {
    go version
    echo "${_ferretdb_buildflags[*]}"
    (cd "$dir" && cat go.mod go.sum ./*.go)
  } | sha256sum | cut -d' ' -f1
}

ferretdb_build() {
  if ! command -v go >/dev/null 2>&1; then
    _ferretdb_err "'go' is not installed; it is needed to build FerretDB for the MongoDB integration tests"
    return 1
  fi
  local dir="$_ferretdb_root/internal/testsupport/testdb"
  local stamp
  stamp=$(_ferretdb_stamp) || { _ferretdb_err "cannot hash $dir"; return 1; }
  if [ -x "$FERRETDB_BIN" ] && [ "$(cat "$FERRETDB_BIN.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$FERRETDB_BIN")" || { _ferretdb_err "cannot create $(dirname "$FERRETDB_BIN")"; return 1; }
  echo "ferretdb.sh: building $FERRETDB_BIN from internal/testsupport/testdb (slow the first time: FerretDB + SQLite)"
  local started=$SECONDS
  # Build to a temp name and rename, so concurrent runs never see half a binary.
  local tmp="$FERRETDB_BIN.tmp.$$"
  # GOWORK=off: internal/testsupport/testdb is its own module; GOFLAGS=-mod=readonly so a
  # stale go.sum fails loudly instead of being rewritten.
  if ! (cd "$dir" && GOWORK=off GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly" \
        go build "${_ferretdb_buildflags[@]}" -o "$tmp" ./); then
    rm -f "$tmp"
    _ferretdb_err "go build in $dir failed"
    return 1
  fi
  if ! { mv -f "$tmp" "$FERRETDB_BIN" && echo "$stamp" >"$FERRETDB_BIN.stamp"; }; then
    _ferretdb_err "cannot install $FERRETDB_BIN"
    return 1
  fi
  echo "ferretdb.sh: built in $((SECONDS - started))s"
}

ferretdb_start() {
  if [ -n "$FERRETDB_PID" ] && kill -0 "$FERRETDB_PID" 2>/dev/null; then
    echo "ferretdb.sh: FerretDB already running (pid $FERRETDB_PID) at $ITEMCRYPTO_MONGODB_URI"
    return 0
  fi
  ferretdb_build || return 1

  FERRETDB_LOG=$(mktemp "${TMPDIR:-/tmp}/ferretdb.XXXXXX.log") || { _ferretdb_err "mktemp failed"; return 1; }
  _ferretdb_urifile="$FERRETDB_LOG.uri"
  rm -f "$_ferretdb_urifile"
  local started=$SECONDS
  "$FERRETDB_BIN" -listen 127.0.0.1:0 -uri-file "$_ferretdb_urifile" -parent-pid $$ \
    >"$FERRETDB_LOG" 2>&1 </dev/null &
  FERRETDB_PID=$!

  local timeout=${FERRETDB_START_TIMEOUT:-60}
  local deadline=$((SECONDS + timeout)) uri=
  while :; do
    # The helper writes the URI file (atomically) only once it accepts connections.
    if [ -s "$_ferretdb_urifile" ]; then
      uri=$(head -n 1 "$_ferretdb_urifile")
      [ -n "$uri" ] && break
    fi
    if ! kill -0 "$FERRETDB_PID" 2>/dev/null; then
      _ferretdb_err "FerretDB exited during startup; the end of its log ($FERRETDB_LOG):"
      tail -n 50 "$FERRETDB_LOG" >&2
      wait "$FERRETDB_PID" 2>/dev/null || true
      FERRETDB_PID=
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      _ferretdb_err "FerretDB not ready within ${timeout}s; the end of its log ($FERRETDB_LOG):"
      tail -n 50 "$FERRETDB_LOG" >&2
      ferretdb_stop
      return 1
    fi
    sleep 0.1
  done

  export ITEMCRYPTO_MONGODB_URI="$uri"
  echo "ferretdb.sh: FerretDB up at $ITEMCRYPTO_MONGODB_URI (pid $FERRETDB_PID, $((SECONDS - started))s, log $FERRETDB_LOG)"
}

ferretdb_stop() {
  if [ -n "$FERRETDB_PID" ]; then
    if kill -TERM "$FERRETDB_PID" 2>/dev/null; then
      local i
      for ((i = 0; i < 150; i++)); do
        kill -0 "$FERRETDB_PID" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$FERRETDB_PID" 2>/dev/null; then
        _ferretdb_err "FerretDB (pid $FERRETDB_PID) ignored SIGTERM for 15s; killing it. Its log: $FERRETDB_LOG"
        kill -KILL "$FERRETDB_PID" 2>/dev/null || true
      fi
    fi
    wait "$FERRETDB_PID" 2>/dev/null || true
    FERRETDB_PID=
  fi
  [ -n "$_ferretdb_urifile" ] && rm -f "$_ferretdb_urifile"
  _ferretdb_urifile=
  unset ITEMCRYPTO_MONGODB_URI
  return 0
}

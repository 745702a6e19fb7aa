# shellcheck shell=bash
# Sourced by scripts/test: a SoftHSM2 token for the PKCS#11 module's tests
# (cmp/pkcs11, tests under the build tag softhsm).
#
#   softhsm_deps   installs Debian's softhsm2 when softhsm2-util or the
#                  library is missing (apt-get update once; as root).
#   softhsm_start  initialises a fresh token in a temporary directory, with
#                  its own SOFTHSM2_CONF, and exports what the tests read:
#                  ITEMCRYPTO_PKCS11_MODULE (the library),
#                  ITEMCRYPTO_PKCS11_TOKEN (the token label) and
#                  ITEMCRYPTO_PKCS11_PIN (the user PIN).
#   softhsm_stop   removes the token directory.
#   softhsm_test   runs the module's tests against the token, with -race.

softhsm_lib=${ITEMCRYPTO_SOFTHSM_LIB:-/usr/lib/softhsm/libsofthsm2.so}

softhsm_deps() {
  if command -v softhsm2-util >/dev/null 2>&1 && [ -e "$softhsm_lib" ]; then
    return 0
  fi
  echo "== installing softhsm2"
  if [ -z "${_interop_apt_updated:-}" ]; then
    apt-get update
    _interop_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y softhsm2
}

softhsm_start() {
  _softhsm_dir=$(mktemp -d /tmp/itemcrypto-softhsm.XXXXXX)
  mkdir "$_softhsm_dir/tokens"
  cat > "$_softhsm_dir/softhsm2.conf" <<CONF
directories.tokendir = $_softhsm_dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
  export SOFTHSM2_CONF="$_softhsm_dir/softhsm2.conf"
  export ITEMCRYPTO_PKCS11_MODULE="$softhsm_lib"
  export ITEMCRYPTO_PKCS11_TOKEN=itemcrypto-test
  export ITEMCRYPTO_PKCS11_PIN=1234
  softhsm2-util --init-token --free --label "$ITEMCRYPTO_PKCS11_TOKEN" \
    --so-pin 123456 --pin "$ITEMCRYPTO_PKCS11_PIN" >/dev/null
}

softhsm_stop() {
  if [ -n "${_softhsm_dir:-}" ]; then
    rm -rf "$_softhsm_dir"
    _softhsm_dir=
  fi
}

softhsm_test() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  echo "== PKCS#11 module against SoftHSM2 (cmp/pkcs11, -tags softhsm)"
  (cd "$root/cmp/pkcs11" && go vet -tags softhsm ./... && go tool staticcheck -tags softhsm ./... &&
    go test -tags softhsm -race "$@" ./...)
}

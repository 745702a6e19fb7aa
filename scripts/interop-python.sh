# shellcheck shell=bash
# Sourced by scripts/test: the differential tests against the Python DynamoDB
# Encryption Client (internal/testsupport/interop/ddbec, a module of its own).
#
#   interop_python_deps  installs Debian's python3-boto3, python3-cryptography
#                        and python3-attr when python3 cannot import boto3,
#                        cryptography and attr (apt-get update once; as root).
#   interop_ddbec_test   runs the tests. They find the client's source at
#                        ../shared/oracles/ddbec-python beside the repository
#                        root, or at ITEMCRYPTO_DDBEC_PYTHON; without it, python3
#                        or the packages they skip, and fail under CI=true.
#                        ITEMCRYPTO_INTEROP_SEED and ITEMCRYPTO_INTEROP_ITEMS
#                        choose the seed (printed by every run) and the count.

_interop_root() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd
}

interop_python_deps() {
  if python3 -c 'import boto3, cryptography, attr' >/dev/null 2>&1; then
    return 0
  fi
  echo "== installing python3-boto3 python3-cryptography python3-attr"
  if [ -z "${_interop_apt_updated:-}" ]; then
    apt-get update
    _interop_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-boto3 python3-cryptography python3-attr
}

interop_ddbec_test() {
  local root
  root=$(_interop_root)
  echo "== differential tests against the Python DDBEC"
  (cd "$root/internal/testsupport/interop" && GOWORK=off go test "$@" ./ddbec/...)
}

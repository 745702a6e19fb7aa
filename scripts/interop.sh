# shellcheck shell=bash
# scripts/interop.sh — differential tests against the reference
# implementations (internal/testsupport/interop, a module of its own). A
# library: `source` it, do not execute it.
#
#   source scripts/interop.sh
#   interop_dbesdk_test [go test flags...]
#
# interop_dbesdk_test runs package dbesdk (go-itemcrypto against the DB-ESDK's
# Go edition in ../shared/oracles/dynamodb-esdk-go): at least 2,000 generated
# items per direction over raw AES/RSA, multi, KMS (cmp/kmstest) and
# hierarchical keyrings, and, when ITEMCRYPTO_DYNAMODB_ENDPOINT is set (start
# dynalite first, as scripts/test does), the hierarchical keyring over a
# dynalite key store; under CI=true a missing dynalite fails the run.
# Extra arguments go to go test (e.g. -run, -dbesdk.seed=N, -dbesdk.items=N).
#
# No -race: the tests are sequential (nothing to race) and the reference's
# Dafny-translated code runs 5-10 times slower under the race detector,
# which would push the run far past its 3-minute CPU budget; the library's
# own concurrency is raced by `go test -race ./...` in the root module.
# The first build of the reference takes about 8 minutes on 2 cores (then
# the Go build cache has it).
interop_dbesdk_test() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ ! -d "$root/../shared/oracles/dynamodb-esdk-go" ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "interop.sh: the DB-ESDK reference is missing ($root/../shared/oracles/dynamodb-esdk-go) under CI=true" >&2
      return 1
    fi
    echo "interop.sh: skipping the DB-ESDK differential tests: no $root/../shared/oracles/dynamodb-esdk-go"
    return 0
  fi
  (cd "$root/internal/testsupport/interop" && GOWORK=off go test -count=1 ./dbesdk "$@")
}

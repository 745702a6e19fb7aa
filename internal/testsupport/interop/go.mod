// Differential tests of go-itemcrypto against the reference implementations in
// ../shared/oracles (the DB-ESDK's Go edition and the Python DDBEC). A module of
// its own so that the library's go.mod never requires the reference or its
// dependencies; the repository root's ./... does not include it.
module github.com/itemcrypto/go-itemcrypto/internal/testsupport/interop

go 1.24

replace github.com/itemcrypto/go-itemcrypto => ../../..

// Differential tests of go-itemcrypto against the reference implementations in
// ../shared/oracles (the DB-ESDK's Go edition and the Python DDBEC). A module of
// its own so that the library's go.mod never requires the reference or its
// dependencies; the repository root's ./... does not include it.
module github.com/itemcrypto/go-itemcrypto/internal/testsupport/interop

go 1.26.8

replace github.com/itemcrypto/go-itemcrypto => ../../..

require (
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2
	github.com/itemcrypto/go-itemcrypto v0.0.0-00010101000000-000000000000
)

require (
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/sync v0.24.0 // indirect
)

// Package dbesdk holds differential tests of go-itemcrypto against the AWS
// Database Encryption SDK's Go edition (../shared/oracles/dynamodb-esdk-go):
// random items from a seed, encrypted by one side and decrypted by the
// other, mutated items refused by the other side, and beacon values compared.
// Everything is in the _test.go files.
package dbesdk

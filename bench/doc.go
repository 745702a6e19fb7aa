// Package bench holds the performance benchmarks of go-itemcrypto on the
// workload of the AWS Database Encryption SDK's Go edition, and a
// standard-library floor doing the same cryptography by hand, so that the
// ratio ours/floor is measured in one run.
//
// Run them with scripts/bench; see bench_test.go for the workload.
package bench

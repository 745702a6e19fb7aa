// Package keyring holds the key model of the AWS Database Encryption SDK
// (DB-ESDK), after the AWS Cryptographic Material Providers Library (MPL): a
// [Keyring] wraps and unwraps the data key of one item, a [MaterialsManager]
// turns a keyring into the materials an item needs (data key, encrypted data
// keys, per-recipient HMAC keys and, for the signing suite, an ECDSA P-384 key
// pair), and the two algorithm suites of the DB-ESDK are [SuiteHMAC] (0x6700)
// and [SuiteECDSAP384] (0x6701, the DB-ESDK default).
//
// Built-in keyrings: [NewRawAES] (AES-GCM wrapping under a key namespace and
// name, provider info as the MPL lays it out). Others live beside this
// package: the hierarchical keyring in cmp/keyring/hierarchy.
//
// Both DB-ESDK suites use the MPL's intermediate key wrapping: every
// encrypted data key carries the data key encrypted under a key derived from
// a fresh intermediate key, and the keyring wraps only that intermediate key.
// [WrapIntermediate] and [UnwrapIntermediate] do that part for every keyring,
// so a keyring only implements the wrapping of one 32-byte secret.
//
// Keys live in unexported fields; materials print without them.
package keyring

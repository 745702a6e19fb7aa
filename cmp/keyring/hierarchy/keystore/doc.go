// Package keystore is the branch key store of the hierarchical keyring: branch
// keys and beacon keys kept in a DynamoDB table, each wrapped under AWS KMS,
// in the layout of the AWS Cryptographic Material Providers Library (MPL),
// so Java, .NET, Rust and Go services share one table.
//
// Use [New] with a *dynamodb.Client and a *kms.Client, [Store.CreateKeyStore]
// once, [Store.CreateKey] per branch key (per tenant), [Store.VersionKey] to
// rotate, and pass the store to [hierarchy.New]: a *Store is a
// [hierarchy.Source]. [Store.GetBeaconKey] returns the beacon key for
// searchable encryption.
//
// # Table layout
//
// Partition key "branch-key-id" (S), sort key "type" (S), no index,
// on-demand billing. Each branch key has these items:
//
//	type                        enc holds                     extra attribute
//	branch:version:<version>    that version's branch key     -
//	branch:ACTIVE               the active version's key      version = branch:version:<version>
//	beacon:ACTIVE               the beacon key                -
//
// Every item also has "enc" (B, the KMS ciphertext), "kms-arn" (S, the KMS
// key ARN), "create-time" (S, UTC ISO 8601 with microseconds,
// 2006-01-02T15:04:05.000000Z), "hierarchy-version" (N, 1), and one
// "aws-crypto-ec:<key>" (S) per pair of the branch key's custom encryption
// context. Versions and generated branch key ids are version 4 UUIDs.
//
// # KMS encryption context
//
// The enc of an item is encrypted under the context made of every other
// attribute of the item, as strings ("hierarchy-version" as "1"), plus
// "tablename" = Options.LogicalName, which is never stored. A changed,
// added or removed attribute, an enc moved to another item, or another
// logical name makes KMS refuse the Decrypt, and the read fails with
// [ErrAuthentication]. Keys are made with GenerateDataKeyWithoutPlaintext
// (32 bytes) under the version item's context; the active item's enc is the
// same key moved to the active context with ReEncrypt; the beacon key is a
// second GenerateDataKeyWithoutPlaintext. VersionKey first authenticates the
// active item with a ReEncrypt from its context to itself. Branch keys reach
// this process in plaintext only as the result of a KMS Decrypt when read.
//
// # Concurrency
//
// CreateKey writes its three items in one TransactWriteItems, each put
// conditional on attribute_not_exists(branch-key-id): a second CreateKey of
// the id fails with [ErrBranchKeyExists] and writes nothing. VersionKey
// writes the new version item (conditional on absence) and the new active
// item conditional on the active item's enc being the one it authenticated
// (the optimistic lock of specification 0.9.0): of two concurrent VersionKey
// calls one fails with [ErrConflict] and writes nothing.
//
// # Compatibility
//
// The layout, attribute types, KMS operations, KMS key ids, grant tokens,
// encryption contexts and condition expressions follow the specification
// (framework/branch-key-store.md, 0.9.0) and the MPL's Dafny (Structure.dfy,
// CreateKeys.dfy, GetKeys.dfy, DDBKeystoreOperations.dfy,
// KMSKeystoreOperations.dfy). The package's tests check every attribute
// and type of the three items, and every KMS request with its exact
// context, against those definitions, against dynalite and the fake KMS of
// cmp/kmstest. No item written by the MPL itself is among the tests (the
// shared vectors use a static branch key), so reading MPL-written tables is
// proven by the specification, not by an MPL oracle. Differences that
// change no stored byte: create-time is always UTC (the MPL's Go runtime
// formats local time with a literal Z); VersionKey reads the active item
// with ConsistentRead; the lock's condition uses a placeholder for "enc".
//
// The KMS configurations are the MPL's: [KeyARN] (exact kms-arn), [MRKeyARN]
// (the same multi-Region key in any Region), and the read-only [Discovery]
// and [MRDiscovery].
//
// # Security considerations
//
// Errors name the table, the branch key id and attribute names, never key
// material. [BeaconKeyMaterials] and hierarchy.BranchKey print redacted.
// The custom encryption context is stored in plaintext: it is not secret.
// The store caches nothing; the hierarchical keyring caches branch keys.
package keystore

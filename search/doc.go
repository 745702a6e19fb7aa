// Package search is the searchable encryption of the AWS Database
// Encryption SDK (DB-ESDK): beacons, truncated HMACs of encrypted values
// stored beside the item so that a query (through a global secondary index)
// can find items by an encrypted attribute's value or prefix.
//
// Build a Search with New from a Config (the DB-ESDK's SearchConfig:
// standard beacons, compound beacons, virtual fields, beacon partitions, a
// single or multi-tenant beacon key source) and the table's actions.Policy.
// Writing an item: AddSignedBeacons on the plaintext before encryption,
// then EncryptedBeacons (plaintext, encrypted item) and add its attributes
// to the encrypted item. Querying: TransformQuery or TransformScan rewrite
// the request for the beacons; ResultFilter.Keep drops, after decryption,
// the items only beacon collisions returned. RemoveBeacons strips the beacon
// attributes from a returned item. SuggestLength helps choose a length.
//
// These calls are for code that writes and queries items itself. A user of
// the DynamoDB adapter (adapters/dynamodbenc, its Client, its SDK option,
// its typed Table) only sets TableConfig.Search to a Config: the adapter
// builds the Search and calls AddSignedBeacons, EncryptedBeacons,
// TransformQuery, TransformScan and ResultFilter itself on every write,
// query and scan, removes the beacons from the items it returns, and
// refuses a key condition on a beacon sent without the IndexName of a
// global secondary index keyed on the beacon. Package streams of the
// adapter removes them from stream records.
//
// # Security considerations
//
// A beacon reveals which items probably share a value: choose its length
// with SuggestLength's rule so that collisions hide the distribution, and
// use beacon partitions for skewed data. Conditions a beacon cannot answer
// exactly (orderings and begins_with on standard beacons, <> and NOT over a
// beacon) are refused rather than answered wrongly. Beacon keys and the HMAC
// keys derived from them never appear in errors or in any String, GoString
// or LogValue; errors name beacons, attributes and placeholders, never values.
//
// # Compatibility
//
// Beacon values are byte for byte the DB-ESDK's (specification
// searchable-encryption/*.md and the Dafny implementation; the tests check
// the known answers of its Beacon.dfy, BeaconTestFixtures.dfy and
// Virtual.dfy). Where the specification and the Dafny code differ, the
// Dafny code is followed: transform positions past the end clamp to the
// last element, numbers in compound beacons and virtual fields are used as
// written (standard beacons hash them normalized).
package search

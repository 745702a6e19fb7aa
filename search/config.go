package search

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
)

// Item is a DynamoDB item, as the SDK holds it (the same type as
// itemcrypto.Item).
type Item = map[string]types.AttributeValue

// Config is the DB-ESDK SearchConfig: the beacon versions of a table and the
// one used for writing.
type Config struct {
	// Versions holds the beacon versions. The DB-ESDK supports exactly one
	// today, with version number 1; New refuses anything else.
	Versions []BeaconVersion
	// WriteVersion is the version number new items are written with: 1.
	WriteVersion int
}

// BeaconVersion is one version of a table's beacons (the DB-ESDK's
// BeaconVersion).
type BeaconVersion struct {
	// Version is the version number: 1.
	Version int
	// KeyStore gives the beacon keys: a *keystore.Store, or StaticKeys.
	// Required. It should be the branch key store of the table's
	// hierarchical keyring.
	KeyStore BeaconKeys
	// KeySource says which beacon key each item uses: exactly one of
	// Single and Multi.
	KeySource KeySource
	// StandardBeacons: at least one.
	StandardBeacons []StandardBeacon
	CompoundBeacons []CompoundBeacon
	VirtualFields   []VirtualField
	// EncryptedParts and SignedParts are the global parts list: parts any
	// compound beacon's constructors may name.
	EncryptedParts []EncryptedPart
	SignedParts    []SignedPart
	// MaximumNumberOfPartitions is the number of beacon partitions of the
	// table, 1..255; 0 means 1 (no partitions).
	MaximumNumberOfPartitions int
	// DefaultNumberOfPartitions is the number of partitions of a standard
	// beacon that sets none; 0 means MaximumNumberOfPartitions. When set it
	// must be less than MaximumNumberOfPartitions.
	DefaultNumberOfPartitions int
	// PartitionSelector picks the partition of an item being written; nil
	// picks one at random, as the DB-ESDK's default does.
	PartitionSelector PartitionSelector
}

// KeySource says where an item's beacon key comes from: one key for the
// table (Single) or one per tenant (Multi). Set exactly one.
type KeySource struct {
	Single *SingleKeySource
	Multi  *MultiKeySource
}

// SingleKeySource is the DB-ESDK's SingleKeyStore: every item uses the
// beacon key of one branch key.
type SingleKeySource struct {
	// BranchKeyID is the branch key whose beacon key is used. Required.
	BranchKeyID string
	// CacheTTL is how long a beacon key is used before it is read again
	// from the key store. Required (greater than zero).
	CacheTTL time.Duration
	// CacheSize is the number of beacon keys kept; 0 means 1.
	CacheSize int
}

// MultiKeySource is the DB-ESDK's MultiKeyStore: each item uses the beacon
// key of its own branch key (multi-tenant tables).
type MultiKeySource struct {
	// KeyFieldName is the attribute that names an item's branch key; a
	// query names it through this field or a signed part of a compound
	// beacon located at it. It must not be EncryptAndSign. If its action
	// is DoNothing it is not stored. Required.
	KeyFieldName string
	// CacheTTL is how long a beacon key is used before it is read again.
	// Required (greater than zero).
	CacheTTL time.Duration
	// CacheSize is the number of beacon keys kept; 0 means 1000.
	CacheSize int
}

// BeaconKeys reads beacon keys. *keystore.Store implements it; StaticKeys
// is one for tests and vectors. Implementations must be safe for concurrent
// use; errors must not contain key material.
type BeaconKeys interface {
	GetBeaconKey(ctx context.Context, branchKeyID string) (*keystore.BeaconKeyMaterials, error)
}

var _ BeaconKeys = (*keystore.Store)(nil)

// PartitionSelector picks the beacon partition of an item being written
// (the DB-ESDK's GetPartitionNumber). It must return a number in
// 0..numberOfPartitions-1.
type PartitionSelector interface {
	PartitionNumber(item Item, numberOfPartitions int, logicalTableName string) (int, error)
}

// PartitionSelectorFunc is a function that is a PartitionSelector.
type PartitionSelectorFunc func(item Item, numberOfPartitions int, logicalTableName string) (int, error)

// PartitionNumber calls f.
func (f PartitionSelectorFunc) PartitionNumber(item Item, n int, table string) (int, error) {
	return f(item, n, table)
}

// StandardBeacon is a truncated HMAC of one value, for equality (the
// DB-ESDK's StandardBeacon). It is stored as aws_dbe_b_<Name>, and queried
// as <Name>.
type StandardBeacon struct {
	// Name is the beacon's name in queries. Required.
	Name string
	// Length is the number of bits kept, 1..63. Required. See
	// SuggestLength.
	Length int
	// Loc is the terminal location of the value ("email", "a.b[2].c") or
	// the name of a virtual field; "" means Name.
	Loc string
	// Style is the beacon's style; the zero value is a plain beacon.
	Style Style
	// NumberOfPartitions constrains the beacon to fewer partitions than
	// the version's maximum; 0 means the version's default.
	NumberOfPartitions int
}

// StyleKind is a beacon style.
type StyleKind uint8

// The beacon styles.
const (
	// StylePlain is a standard beacon that is stored and queried.
	StylePlain StyleKind = iota
	// StylePartOnly is only a part of compound beacons: never stored, not
	// queryable by itself.
	StylePartOnly
	// StyleShared computes its value as if it were the beacon Other (same
	// HMAC key), so the two can be compared.
	StyleShared
	// StyleAsSet is a beacon of a set attribute: a set of beacons.
	StyleAsSet
	// StyleSharedSet is both Shared and AsSet.
	StyleSharedSet
)

// Style is a standard beacon's style (the DB-ESDK's BeaconStyle). Build it
// with PartOnly, Shared, AsSet or SharedSet.
type Style struct {
	Kind StyleKind
	// Other is the beacon shared with (StyleShared, StyleSharedSet).
	Other string
}

// PartOnly is the style of a beacon used only in compound beacons.
func PartOnly() Style { return Style{Kind: StylePartOnly} }

// Shared is the style of a beacon that hashes as the beacon other.
func Shared(other string) Style { return Style{Kind: StyleShared, Other: other} }

// AsSet is the style of a beacon over a set attribute.
func AsSet() Style { return Style{Kind: StyleAsSet} }

// SharedSet is Shared and AsSet.
func SharedSet(other string) Style { return Style{Kind: StyleSharedSet, Other: other} }

// CompoundBeacon joins literal prefixes, standard beacons (encrypted parts)
// and plaintext values (signed parts), for equality and begins_with on
// combinations. A compound beacon with no encrypted part is a signed beacon,
// stored under its own name (and SIGN_ONLY); any other is stored as
// aws_dbe_b_<Name>.
type CompoundBeacon struct {
	// Name is the beacon's name in queries. Required.
	Name string
	// Split is the one character between parts. Required.
	Split string
	// Encrypted and Signed are the beacon's local parts.
	Encrypted []EncryptedPart
	Signed    []SignedPart
	// Constructors are tried in order when an item is written; the first
	// whose required parts are all present builds the beacon. None means
	// one constructor of all local parts, signed then encrypted, all
	// required.
	Constructors []Constructor
}

// EncryptedPart is a prefix followed by the value of a standard beacon.
type EncryptedPart struct {
	// Name is a standard beacon's name.
	Name string
	// Prefix is a non-empty literal that no other part's prefix starts
	// with or is the start of.
	Prefix string
}

// SignedPart is a prefix followed by a plaintext value of a SIGN_ONLY
// attribute.
type SignedPart struct {
	Name   string
	Prefix string
	// Loc is the terminal location; "" means Name.
	Loc string
}

// Constructor is an ordered list of parts.
type Constructor struct {
	Parts []ConstructorPart
}

// ConstructorPart names a part (local or global) and whether it is
// required.
type ConstructorPart struct {
	Name     string
	Required bool
}

// VirtualField is a string computed from parts of an item and never stored,
// for a standard beacon to hash (e.g. the lower-cased first letter of a first
// name followed by the last name).
type VirtualField struct {
	Name  string
	Parts []VirtualPart
}

// VirtualPart is the value at Loc (a string, a number or a boolean),
// transformed by each of Transforms in order.
type VirtualPart struct {
	Loc        string
	Transforms []Transform
}

// TransformKind is a virtual transform.
type TransformKind uint8

// The transforms.
const (
	TransformUpper TransformKind = iota + 1
	TransformLower
	TransformInsert
	TransformPrefix
	TransformSuffix
	TransformSubstring
	TransformSegment
	TransformSegments
)

// Transform is one virtual transform. Build it with Upper, Lower, Insert,
// Prefix, Suffix, Substring, Segment or Segments.
type Transform struct {
	Kind    TransformKind
	Literal string // Insert
	Length  int    // Prefix, Suffix
	Low     int    // Substring, Segments
	High    int    // Substring, Segments
	Split   string // Segment, Segments: one character
	Index   int    // Segment
}

// Upper turns ASCII lower-case letters into upper case.
func Upper() Transform { return Transform{Kind: TransformUpper} }

// Lower turns ASCII upper-case letters into lower case.
func Lower() Transform { return Transform{Kind: TransformLower} }

// Insert appends literal.
func Insert(literal string) Transform { return Transform{Kind: TransformInsert, Literal: literal} }

// Prefix keeps the first n characters (n >= 0), or all but the last -n.
func Prefix(n int) Transform { return Transform{Kind: TransformPrefix, Length: n} }

// Suffix keeps the last n characters (n >= 0), or all but the first -n.
func Suffix(n int) Transform { return Transform{Kind: TransformSuffix, Length: n} }

// Substring keeps the characters from position low to high (exclusive);
// negative positions count from the end (-1 is the last).
func Substring(low, high int) Transform {
	return Transform{Kind: TransformSubstring, Low: low, High: high}
}

// Segment splits on split and keeps the segment at position index.
func Segment(split string, index int) Transform {
	return Transform{Kind: TransformSegment, Split: split, Index: index}
}

// Segments splits on split and keeps segments low to high (exclusive),
// joined on split.
func Segments(split string, low, high int) Transform {
	return Transform{Kind: TransformSegments, Split: split, Low: low, High: high}
}

// Package refkat is the schema of the known answers the DB-ESDK's Go
// edition (the reference, ../shared/oracles/dynamodb-esdk-go) wrote for
// strings beyond ASCII: itemcrypto/testdata/reference/nonascii.json. The
// generator is TestWriteKAT in internal/testsupport/interop/dbesdk (run with
// -dbesdk.writekat=PATH); the readers are the root module's tests in
// itemcrypto and search. Only data lives here: the floors check keeps this
// package from importing search, so each side converts the beacon
// configurations itself.
package refkat

import (
	"encoding/json"
	"fmt"
	"os"
)

// File is the whole known-answer file.
type File struct {
	Comment string `json:"comment"`
	// Keyring is the raw AES keyring of every item.
	Keyring RawAES `json:"keyring"`
	// CanonicalPaths are the reference's StructuredEncryptionPaths.SimpleCanon.
	CanonicalPaths []CanonicalPath `json:"canonicalPaths"`
	// CanonicalOrder is one table's attribute names in the order SortCanon
	// puts their canonical paths (the order of the signed fields).
	CanonicalOrder CanonicalOrder `json:"canonicalOrder"`
	// AttributeBytes are DynamoToStruct.TopLevelAttributeToBytes of values.
	AttributeBytes []AttributeBytes `json:"attributeBytes"`
	// Items are items the reference's item encryptor encrypted.
	Items []Item `json:"items"`
	// Beacons are beacon values the reference's transforms client wrote.
	Beacons Beacons `json:"beacons"`
}

// RawAES is a raw AES-256 keyring.
type RawAES struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"` // hex, 32 bytes
}

// CanonicalPath is the canonical path of a top-level attribute.
type CanonicalPath struct {
	Table string `json:"table"`
	Name  string `json:"name"`
	// UTF16Len is the length the reference writes for the name.
	UTF16Len int    `json:"utf16Len"`
	Path     string `json:"path"` // hex
}

// CanonicalOrder is names in the reference's canonical order in Table.
type CanonicalOrder struct {
	Table string   `json:"table"`
	Names []string `json:"names"`
}

// AttributeBytes is a value and its serialized form (without the type).
type AttributeBytes struct {
	Value json.RawMessage `json:"value"` // DynamoDB JSON of one value
	Bytes string          `json:"bytes"` // hex
}

// TableConfig is an item encryptor's configuration.
type TableConfig struct {
	Table   string            `json:"table"`
	PK      string            `json:"pk"`
	SK      string            `json:"sk,omitempty"`
	Actions map[string]string `json:"actions"` // DB-ESDK names: ENCRYPT_AND_SIGN, ...
	// AllowedUnsignedPrefix is allowedUnsignedAttributePrefix.
	AllowedUnsignedPrefix string `json:"allowedUnsignedPrefix,omitempty"`
	Suite                 uint16 `json:"suite"`         // 0x6700 or 0x6701
	FormatVersion         int    `json:"formatVersion"` // what the reference wrote (header byte 0)
}

// Item is one item: its configuration, plaintext and the reference's
// encryption of it.
type Item struct {
	Name      string          `json:"name"`
	Config    TableConfig     `json:"config"`
	Plaintext json.RawMessage `json:"plaintext"` // DynamoDB JSON
	Encrypted json.RawMessage `json:"encrypted"` // DynamoDB JSON
}

// Beacons are the beacon cases under one beacon key.
type Beacons struct {
	BeaconKey string            `json:"beaconKey"` // hex, 32 bytes
	Actions   map[string]string `json:"actions"`   // the table's actions (pk is the partition key)
	Cases     []BeaconCase      `json:"cases"`
}

// BeaconCase is one search configuration and one item.
type BeaconCase struct {
	Name   string       `json:"name"`
	Config BeaconConfig `json:"config"`
	// ConfigRefused is the reference's error if it refused the
	// configuration; then nothing below is set.
	ConfigRefused string          `json:"configRefused,omitempty"`
	Item          json.RawMessage `json:"item,omitempty"` // DynamoDB JSON
	// Refused is the reference's error if it refused to write the item.
	Refused string `json:"refused,omitempty"`
	// Beacons are the aws_dbe_b_* attributes the reference wrote, and each
	// signed compound beacon under its name.
	Beacons json.RawMessage `json:"beacons,omitempty"` // DynamoDB JSON
}

// BeaconConfig is a beacon version's beacons, minimally.
type BeaconConfig struct {
	Standard []Standard `json:"standard,omitempty"`
	Virtual  []Virtual  `json:"virtual,omitempty"`
	Compound []Compound `json:"compound,omitempty"`
}

// Standard is a standard beacon. Style is "", "partOnly" or "asSet".
type Standard struct {
	Name   string `json:"name"`
	Loc    string `json:"loc,omitempty"`
	Length int    `json:"length"`
	Style  string `json:"style,omitempty"`
}

// Virtual is a virtual field.
type Virtual struct {
	Name  string        `json:"name"`
	Parts []VirtualPart `json:"parts"`
}

// VirtualPart is a part of a virtual field.
type VirtualPart struct {
	Loc        string      `json:"loc"`
	Transforms []Transform `json:"transforms,omitempty"`
}

// Transform is a virtual transform: Op is upper, lower, insert, prefix,
// suffix, substring, segment or segments.
type Transform struct {
	Op      string `json:"op"`
	Literal string `json:"literal,omitempty"`
	Length  int    `json:"length,omitempty"`
	Low     int    `json:"low,omitempty"`
	High    int    `json:"high,omitempty"`
	Split   string `json:"split,omitempty"`
	Index   int    `json:"index,omitempty"`
}

// Compound is a compound beacon.
type Compound struct {
	Name      string `json:"name"`
	Split     string `json:"split"`
	Encrypted []Part `json:"encrypted,omitempty"`
	Signed    []Part `json:"signed,omitempty"`
}

// Part is a compound beacon's part.
type Part struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

// Load reads a known-answer file.
func Load(path string) (*File, error) { return load[File](path) }

func load[T any](path string) (*T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f T
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("refkat: %s: %w", path, err)
	}
	return &f, nil
}

// BeaconFile is a file of beacon cases only:
// adapters/mongoenc/testdata/dbesdk_beacons.json, written by
// TestWriteMongoBeaconKAT in internal/testsupport/interop/dbesdk
// (-dbesdk.writemongokat=PATH) and read by mongoenc's TestReferenceBeacons.
type BeaconFile struct {
	Comment string  `json:"comment"`
	Beacons Beacons `json:"beacons"`
}

// LoadBeacons reads a [BeaconFile].
func LoadBeacons(path string) (*BeaconFile, error) { return load[BeaconFile](path) }

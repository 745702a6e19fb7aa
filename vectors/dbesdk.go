package vectors

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// DBESDKManifestType is the manifest type of the DB-ESDK decrypt vectors.
const DBESDKManifestType = "aws-dbesdk-decrypt"

// ManifestType returns the "manifest.type" of a JSON manifest, or "" for a
// DDBEC scenarios.json (which has none).
func ManifestType(path string) (string, error) {
	var m struct {
		Manifest struct {
			Type string `json:"type"`
		} `json:"manifest"`
	}
	if err := readJSON(path, &m); err != nil {
		return "", err
	}
	return m.Manifest.Type, nil
}

// DBESDKManifest is a DB-ESDK decrypt manifest (decrypt_*.json) with its
// keys file.
type DBESDKManifest struct {
	Path     string
	Manifest struct {
		Manifest struct {
			Type    string `json:"type"`
			Version string `json:"version"`
		} `json:"manifest"`
		Client struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"client"`
		Keys  string                  `json:"keys"`
		Tests map[string]DBESDKRecord `json:"tests"`
	}
	Keys map[string]DBESDKKey

	keysFile []byte // the keys file as read
	kmOnce   sync.Once
	km       *keyMaterial
}

// DBESDKRecord is one test of a DB-ESDK decrypt manifest.
type DBESDKRecord struct {
	Type        string          `json:"type"` // positive-decrypt or negative-decrypt
	Description string          `json:"description"`
	Config      DBESDKConfig    `json:"config"`
	Plaintext   json.RawMessage `json:"plaintext,omitempty"`
	Encrypted   json.RawMessage `json:"encrypted"`
}

// DBESDKConfig is a record's reader configuration; missing fields take the
// harness's defaults (logical table GazelleVectorTable, partition key
// RecNum, no sort key, the hierarchical keyring over static-branch-key-1).
type DBESDKConfig struct {
	Actions          map[string]string `json:"attributeActionsOnEncrypt"`
	AllowedUnsigned  []string          `json:"allowedUnsignedAttributes,omitempty"`
	UnsignedPrefix   string            `json:"allowedUnsignedAttributePrefix,omitempty"`
	Suite            string            `json:"algorithmSuiteId,omitempty"`
	PlaintextPolicy  string            `json:"plaintextOverride,omitempty"`
	LogicalTableName string            `json:"logicalTableName,omitempty"`
	PartitionKeyName string            `json:"partitionKeyName,omitempty"`
	SortKeyName      string            `json:"sortKeyName,omitempty"`
	Key              json.RawMessage   `json:"key,omitempty"`
}

// DBESDKKey is one entry of the MPL keys manifest
// (framework/test-vectors/keys-manifest.md). Material is the key in its
// Encoding (base64 or pem); an "aws-kms" entry may carry its 32-byte key
// as base64 material (an extension of this package: the key then runs in an
// in-process fake KMS, cmp/kmstest, instead of AWS).
type DBESDKKey struct {
	Type      string `json:"type"`
	KeyID     string `json:"key-id,omitempty"`
	Version   string `json:"branchKeyVersion,omitempty"`
	BranchKey string `json:"branchKey,omitempty"`
	BeaconKey string `json:"beaconKey,omitempty"`
	Material  string `json:"material,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Bits      int    `json:"bits,omitempty"`
	Encrypt   *bool  `json:"encrypt,omitempty"`
	Decrypt   *bool  `json:"decrypt,omitempty"`

	// ecc-private (raw-ecdh): two key pairs, PEM PKCS #8 private keys and
	// base64 DER SubjectPublicKeyInfo public keys.
	SenderMaterial     string `json:"sender-material,omitempty"`
	RecipientMaterial  string `json:"recipient-material,omitempty"`
	PublicKeyEncoding  string `json:"public-key-encoding,omitempty"`
	SenderPublicKey    string `json:"sender-material-public-key,omitempty"`
	RecipientPublicKey string `json:"recipient-material-public-key,omitempty"`

	// static-material (the MPL's static-materials test keyring): the
	// materials it returns. Only what the runners report is read.
	Suite             string                `json:"algorithmSuiteId,omitempty"`
	PlaintextDataKey  string                `json:"plaintextDataKey,omitempty"`
	EncryptedDataKeys []MPLEncryptedDataKey `json:"encryptedDataKeys,omitempty"`
}

// LoadDBESDK reads a DB-ESDK decrypt manifest and its keys file.
func LoadDBESDK(path string) (*DBESDKManifest, error) {
	m := &DBESDKManifest{Path: path}
	if err := readJSON(path, &m.Manifest); err != nil {
		return nil, err
	}
	if m.Manifest.Manifest.Type != DBESDKManifestType {
		return nil, fmt.Errorf("vectors: %s: manifest type %q, want %q", filepath.Base(path), m.Manifest.Manifest.Type, DBESDKManifestType)
	}
	var err error
	if m.Keys, m.keysFile, err = readKeysFile(path, m.Manifest.Keys); err != nil {
		return nil, err
	}
	return m, nil
}

// readKeysFile reads the keys file of the manifest at path: ref, a
// file:// reference or a path, relative to the manifest unless absolute.
// It returns the entries and the file as read.
func readKeysFile(path, ref string) (map[string]DBESDKKey, []byte, error) {
	ref = strings.TrimPrefix(ref, "file://")
	if !filepath.IsAbs(ref) {
		ref = filepath.Join(filepath.Dir(path), ref)
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("vectors: %w", err)
	}
	var keys struct {
		Keys map[string]DBESDKKey `json:"keys"`
	}
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, nil, fmt.Errorf("vectors: %s: %w", filepath.Base(ref), err)
	}
	return keys.Keys, b, nil
}

// IDs returns the test ids in numeric order where they are numbers.
func (m *DBESDKManifest) IDs() []string {
	ids := slices.Collect(maps.Keys(m.Manifest.Tests))
	slices.SortFunc(ids, func(a, b string) int {
		na, ea := strconv.Atoi(a)
		nb, eb := strconv.Atoi(b)
		if ea == nil && eb == nil {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return ids
}

// Keyring returns the keyring of a record's key description (any form
// ParseKeyDescription reads), or of static-branch-key-1 when it has none.
// Key kinds this build cannot use offline are ErrUnsupported, with the
// reason. AWS KMS keys whose entry in the keys file holds material run in
// an in-process fake KMS; Close stops it.
func (m *DBESDKManifest) Keyring(desc json.RawMessage) (keyring.Keyring, error) {
	d := &KeyDescription{Type: KeyDescStaticBranchKey, Key: defaultBranchKeyName}
	if len(desc) > 0 {
		var err error
		if d, err = ParseKeyDescription(desc); err != nil {
			return nil, err
		}
	}
	return m.material().Keyring(d)
}

func (m *DBESDKManifest) material() *keyMaterial {
	m.kmOnce.Do(func() { m.km = newKeyMaterial(m.Keys) })
	return m.km
}

// Close stops the fake KMS servers the manifest's AWS KMS keys started,
// if any. The manifest can be used again afterwards.
func (m *DBESDKManifest) Close() {
	if m.km != nil {
		m.km.Close()
	}
}

// hierarchicalKeyring is the hierarchical keyring over one static branch
// key.
func hierarchicalKeyring(bk *hierarchy.BranchKey) (keyring.Keyring, error) {
	return hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = bk.ID() })
}

// Encryptor builds the encryptor of a record's configuration.
func (m *DBESDKManifest) Encryptor(c DBESDKConfig) (*itemcrypto.Encryptor, error) {
	kr, err := m.Keyring(c.Key)
	if err != nil {
		return nil, err
	}
	t, err := c.table(kr)
	if err != nil {
		return nil, err
	}
	policy, err := t.Policy()
	if err != nil {
		return nil, err
	}
	return itemcrypto.New(itemcrypto.Config{TableName: t.LogicalTableName, Policy: policy, Format: itemcrypto.FormatDBESDK, DBESDK: t.DBESDK})
}

// table is c with the harness's defaults applied, over keyring kr (Search
// is left nil). An attribute missing from attributeActionsOnEncrypt is
// DoNothing: the DB-ESDK refuses to write it unless it is allowed unsigned
// (so does itemcrypto, ErrUnsignedAttribute), and treats it as plaintext in
// queries.
func (c DBESDKConfig) table(kr keyring.Keyring) (*DBESDKTable, error) {
	t := &DBESDKTable{LogicalTableName: c.LogicalTableName, PartitionKey: c.PartitionKeyName, SortKey: c.SortKeyName,
		Default: actions.DoNothing, Overrides: make(map[string]actions.Action, len(c.Actions))}
	if t.LogicalTableName == "" {
		t.LogicalTableName = "GazelleVectorTable"
	}
	if t.PartitionKey == "" {
		t.PartitionKey = "RecNum"
	}
	for name, s := range c.Actions {
		a, err := actions.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("vectors: attribute %q: %w", name, err)
		}
		t.Overrides[name] = a
	}
	d := &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: c.AllowedUnsigned, AllowedUnsignedPrefix: c.UnsignedPrefix}
	if c.Suite != "" {
		var err error
		if d.Suite, err = keyring.ParseSuite(c.Suite); err != nil {
			return nil, err
		}
	}
	switch c.PlaintextPolicy {
	case "":
	case "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ":
		d.PlaintextPolicy = itemcrypto.ForbidPlaintextWriteAllowPlaintextRead
	case "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ":
		d.PlaintextPolicy = itemcrypto.ForcePlaintextWriteAllowPlaintextRead
	case "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ":
	default:
		return nil, fmt.Errorf("vectors: plaintextOverride %q", c.PlaintextPolicy)
	}
	t.DBESDK = d
	return t, nil
}

// RunDBESDK runs one record: a positive record must decrypt to its plaintext
// (after normalizing numbers and set order) and its plaintext must survive
// our own encrypt and decrypt under the record's configuration; a negative
// record must fail to decrypt. A passed record's Reason is empty, or says
// how its key description ran (a caching CMM as its underlying keyring).
func (m *DBESDKManifest) RunDBESDK(ctx context.Context, id string) Result {
	rec := m.Manifest.Tests[id]
	var r Result
	fail := func(err error) Result { r.Outcome, r.Reason = Failed, err.Error(); return r }
	enc, err := m.Encryptor(rec.Config)
	if errors.Is(err, ErrUnsupported) {
		r.Outcome, r.Reason = Skipped, err.Error()
		return r
	}
	if err != nil {
		return fail(err)
	}
	item, err := ddbjson.UnmarshalItem(rec.Encrypted)
	if err != nil {
		return fail(fmt.Errorf("encrypted item: %w", err))
	}
	got, err := enc.Decrypt(ctx, item)
	switch rec.Type {
	case "negative-decrypt":
		if err == nil {
			return fail(errors.New("negative record decrypted"))
		}
		r.Outcome, r.Reason = Passed, "failed as expected: "+err.Error()
		return r
	case "positive-decrypt":
	default:
		return fail(fmt.Errorf("record type %q", rec.Type))
	}
	if err != nil {
		return fail(fmt.Errorf("decrypt: %w", err))
	}
	want, err := SimpleItem(rec.Plaintext)
	if err != nil {
		return fail(err)
	}
	if !ddbjson.EqualItems(got, want, ddbattr.NormalizeNumber) {
		gj, _ := ddbjson.MarshalItem(got)
		return fail(fmt.Errorf("decrypted item differs from the plaintext: got %s", gj))
	}
	r.Decrypted = 1
	ct, err := enc.Encrypt(ctx, want)
	if err != nil {
		return fail(fmt.Errorf("round trip: encrypt: %w", err))
	}
	back, err := enc.Decrypt(ctx, ct)
	if err != nil {
		return fail(fmt.Errorf("round trip: decrypt: %w", err))
	}
	if !ddbjson.EqualItems(back, want, ddbattr.NormalizeNumber) {
		return fail(errors.New("round trip: item differs"))
	}
	r.RoundTrip = 1
	r.Outcome = Passed
	if len(rec.Config.Key) > 0 {
		if d, err := ParseKeyDescription(rec.Config.Key); err == nil {
			r.Reason = strings.TrimPrefix(cachingNote(d), " ")
		}
	}
	return r
}

// GenerateDBESDK encrypts the plaintext of every positive record with its
// own configuration and writes a manifest of the same format to
// outDir/name, with a copy of the keys file as outDir/keys.json. Records
// keep their configuration as written, key description included, so that
// the DB-ESDK's harness reads them as it reads the source. Negative records
// (whose writer configuration the manifest does not record) and records
// whose keyring this build cannot use offline are skipped.
func (m *DBESDKManifest) GenerateDBESDK(ctx context.Context, outDir string) (written, skipped []string, err error) {
	out := &DBESDKManifest{Path: m.Path, Keys: m.Keys, keysFile: m.keysFile, km: m.material()}
	out.kmOnce.Do(func() {})
	out.Manifest = m.Manifest
	out.Manifest.Client.Name, out.Manifest.Client.Version = "go-itemcrypto", "dev"
	out.Manifest.Keys = "file://keys.json"
	out.Manifest.Tests = map[string]DBESDKRecord{}
	for _, id := range m.IDs() {
		rec := m.Manifest.Tests[id]
		if rec.Type != "positive-decrypt" {
			skipped = append(skipped, id+": "+rec.Type)
			continue
		}
		err := out.encryptRecord(ctx, &rec)
		if errors.Is(err, ErrUnsupported) {
			skipped = append(skipped, id+": "+strings.TrimPrefix(err.Error(), ErrUnsupported.Error()+": "))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: record %s: %w", id, err)
		}
		rec.Description = "go-itemcrypto: " + rec.Description
		out.Manifest.Tests[id] = rec
		written = append(written, id)
	}
	return written, skipped, out.write(outDir)
}

// write writes the manifest as outDir/<its file name> and the keys file as
// outDir/keys.json.
func (m *DBESDKManifest) write(outDir string) error {
	if outDir == "" {
		return errors.New("vectors: no output directory")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m.Manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, filepath.Base(m.Path)), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return writeKeysFile(outDir, m.keysFile, m.Keys)
}

// SimpleItem converts an item in the DB-ESDK harness's simplified JSON
// (JsonItem.dfy GetAttrValue) to attribute values: a JSON string is an S, a
// JSON number an N, and an object of exactly one key a typed value: {"S":
// "x"}, {"N": "0800.000e0"} (kept as written), {"B": base64}, {"SS": [...]},
// {"NS": [strings or numbers]}, {"BS": [base64...]}, {"L": [values]}, {"M":
// {name: value}}, {"BOOL": true}, {"NULL": anything}. Anything else is
// refused.
func SimpleItem(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("vectors: item: %w", err)
	}
	out := make(map[string]types.AttributeValue, len(v))
	for k, e := range v {
		av, err := SimpleValue(e)
		if err != nil {
			return nil, fmt.Errorf("vectors: item attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// SimpleValue converts one value of the harness's simplified JSON (see
// SimpleItem), as in the "Values" of data.json.
func SimpleValue(raw json.RawMessage) (types.AttributeValue, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return simpleValue(v)
}

func simpleValue(v any) (types.AttributeValue, error) {
	switch v := v.(type) {
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}, nil
	case string:
		return &types.AttributeValueMemberS{Value: v}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, errors.New("a typed value must be an object of one key")
		}
		for tag, e := range v {
			return typedValue(tag, e)
		}
	}
	return nil, fmt.Errorf("a value must be a string, a number or a typed object, not %T", v)
}

func typedValue(tag string, e any) (types.AttributeValue, error) {
	strs := func(numbersToo bool) ([]string, error) {
		members, ok := e.([]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a list", tag)
		}
		ss := make([]string, len(members))
		for i, x := range members {
			switch x := x.(type) {
			case string:
				ss[i] = x
			case json.Number:
				if !numbersToo {
					return nil, fmt.Errorf("%s member of type number", tag)
				}
				ss[i] = x.String()
			default:
				return nil, fmt.Errorf("%s member of type %T", tag, x)
			}
		}
		return ss, nil
	}
	switch tag {
	case "S", "N", "B":
		str, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a string", tag)
		}
		switch tag {
		case "S":
			return &types.AttributeValueMemberS{Value: str}, nil
		case "N":
			return &types.AttributeValueMemberN{Value: str}, nil
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			//lint:ignore ST1005 DynamoDB JSON's type descriptor, spelled as the format does
			return nil, fmt.Errorf("B: %w", err)
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case "SS":
		ss, err := strs(false)
		return &types.AttributeValueMemberSS{Value: ss}, err
	case "NS":
		ss, err := strs(true)
		return &types.AttributeValueMemberNS{Value: ss}, err
	case "BS":
		ss, err := strs(false)
		if err != nil {
			return nil, err
		}
		bs := make([][]byte, len(ss))
		for i, x := range ss {
			if bs[i], err = base64.StdEncoding.DecodeString(x); err != nil {
				return nil, fmt.Errorf("BS: %w", err)
			}
		}
		return &types.AttributeValueMemberBS{Value: bs}, nil
	case "L":
		members, ok := e.([]any)
		if !ok {
			//lint:ignore ST1005 DynamoDB JSON's type descriptor, spelled as the format does
			return nil, errors.New("L is not a list")
		}
		l := make([]types.AttributeValue, len(members))
		for i, x := range members {
			var err error
			if l[i], err = simpleValue(x); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case "M":
		members, ok := e.(map[string]any)
		if !ok {
			//lint:ignore ST1005 DynamoDB JSON's type descriptor, spelled as the format does
			return nil, errors.New("M is not an object")
		}
		m := make(map[string]types.AttributeValue, len(members))
		for k, x := range members {
			var err error
			if m[k], err = simpleValue(x); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case "BOOL":
		b, ok := e.(bool)
		if !ok {
			return nil, errors.New("BOOL must be a boolean")
		}
		return &types.AttributeValueMemberBOOL{Value: b}, nil
	case "NULL":
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
	return nil, fmt.Errorf("unknown type %q", tag)
}

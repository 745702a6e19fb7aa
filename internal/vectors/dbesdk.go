package vectors

import (
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

// DBESDKKey is one entry of the MPL keys manifest.
type DBESDKKey struct {
	Type      string `json:"type"`
	KeyID     string `json:"key-id"`
	Version   string `json:"branchKeyVersion"`
	BranchKey string `json:"branchKey"`
	BeaconKey string `json:"beaconKey"`
	Material  string `json:"material"`
	Algorithm string `json:"algorithm"`
	Encoding  string `json:"encoding"`
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
	var keys struct {
		Keys map[string]DBESDKKey `json:"keys"`
	}
	ref := strings.TrimPrefix(m.Manifest.Keys, "file://")
	if !filepath.IsAbs(ref) {
		ref = filepath.Join(filepath.Dir(path), ref)
	}
	if err := readJSON(ref, &keys); err != nil {
		return nil, err
	}
	m.Keys = keys.Keys
	return m, nil
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

// Keyring returns the keyring of a record's key description, or of
// static-branch-key-1 when it has none. Key kinds this build cannot use
// offline are ErrUnsupported.
func (m *DBESDKManifest) Keyring(desc json.RawMessage) (keyring.Keyring, error) {
	name := "static-branch-key-1"
	if len(desc) > 0 {
		var d struct {
			Type string `json:"type"`
			Key  string `json:"key"`
		}
		if err := json.Unmarshal(desc, &d); err != nil {
			return nil, fmt.Errorf("vectors: key description: %w", err)
		}
		if d.Type != "static-branch-key" && d.Type != "hierarchy" {
			return nil, fmt.Errorf("%w: key description type %q", ErrUnsupported, d.Type)
		}
		name = d.Key
	}
	k, ok := m.Keys[name]
	if !ok {
		return nil, fmt.Errorf("vectors: key %q not in keys file", name)
	}
	if k.Type != "static-branch-key" {
		return nil, fmt.Errorf("%w: key %q of type %q", ErrUnsupported, name, k.Type)
	}
	bkey, err1 := base64.StdEncoding.DecodeString(k.BranchKey)
	beacon, err2 := base64.StdEncoding.DecodeString(k.BeaconKey)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("vectors: key %q: %w", name, err)
	}
	bk, err := hierarchy.NewBranchKey(k.KeyID, k.Version, bkey, beacon)
	if err != nil {
		return nil, err
	}
	return hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = k.KeyID })
}

// Encryptor builds the encryptor of a record's configuration.
func (m *DBESDKManifest) Encryptor(c DBESDKConfig) (*itemcrypto.Encryptor, error) {
	kr, err := m.Keyring(c.Key)
	if err != nil {
		return nil, err
	}
	table := c.LogicalTableName
	if table == "" {
		table = "GazelleVectorTable"
	}
	pk := c.PartitionKeyName
	if pk == "" {
		pk = "RecNum"
	}
	over := make(map[string]actions.Action, len(c.Actions))
	for name, s := range c.Actions {
		a, err := actions.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("vectors: attribute %q: %w", name, err)
		}
		over[name] = a
	}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, Overrides: over, PartitionKey: pk, SortKey: c.SortKeyName})
	if err != nil {
		return nil, err
	}
	d := &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: c.AllowedUnsigned, AllowedUnsignedPrefix: c.UnsignedPrefix}
	if c.Suite != "" {
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
	return itemcrypto.New(itemcrypto.Config{TableName: table, Policy: policy, Format: itemcrypto.FormatDBESDK, DBESDK: d})
}

// RunDBESDK runs one record: a positive record must decrypt to its plaintext
// (after normalizing numbers and set order) and its plaintext must survive
// our own encrypt and decrypt under the record's configuration; a negative
// record must fail to decrypt.
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
	return r
}

// GenerateDBESDK encrypts the plaintext of every positive record with its
// own configuration and writes a manifest of the same format to
// outDir/name, with a copy of the keys file as outDir/keys.json. Negative
// records (whose writer configuration the manifest does not record) are
// skipped.
func (m *DBESDKManifest) GenerateDBESDK(ctx context.Context, outDir string) (written, skipped []string, err error) {
	out := m.Manifest
	out.Client.Name, out.Client.Version = "go-itemcrypto", "dev"
	out.Keys = "file://keys.json"
	out.Tests = map[string]DBESDKRecord{}
	for _, id := range m.IDs() {
		rec := m.Manifest.Tests[id]
		if rec.Type != "positive-decrypt" {
			skipped = append(skipped, id+": "+rec.Type)
			continue
		}
		enc, err := m.Encryptor(rec.Config)
		if errors.Is(err, ErrUnsupported) {
			skipped = append(skipped, id+": "+err.Error())
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: record %s: %w", id, err)
		}
		plain, err := SimpleItem(rec.Plaintext)
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: record %s: %w", id, err)
		}
		ct, err := enc.Encrypt(ctx, plain)
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: record %s: encrypt: %w", id, err)
		}
		if rec.Encrypted, err = ddbjson.MarshalItem(ct); err != nil {
			return nil, nil, err
		}
		rec.Description = "go-itemcrypto: " + rec.Description
		out.Tests[id] = rec
		written = append(written, id)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(outDir, filepath.Base(m.Path)), append(b, '\n'), 0o644); err != nil {
		return nil, nil, err
	}
	keys, err := json.MarshalIndent(map[string]any{"manifest": map[string]any{"type": "keys", "version": 2}, "keys": m.Keys}, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return written, skipped, os.WriteFile(filepath.Join(outDir, "keys.json"), append(keys, '\n'), 0o644)
}

// SimpleItem converts an item in the DB-ESDK harness's simplified JSON
// (bare numbers and strings, one-key {"L"}, {"M"}, {"NS"}, {"SS"} objects)
// to attribute values.
func SimpleItem(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("vectors: plaintext: %w", err)
	}
	out := make(map[string]types.AttributeValue, len(v))
	for k, e := range v {
		av, err := simpleValue(e)
		if err != nil {
			return nil, fmt.Errorf("vectors: plaintext attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func simpleValue(v any) (types.AttributeValue, error) {
	switch v := v.(type) {
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}, nil
	case string:
		return &types.AttributeValueMemberS{Value: v}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}, nil
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			var err error
			if l[i], err = simpleValue(e); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		if len(v) == 1 {
			for tag, e := range v {
				switch tag {
				case "L":
					return simpleValue(e)
				case "M":
					if m, ok := e.(map[string]any); ok {
						return simpleMap(m)
					}
				case "NS", "SS":
					members, ok := e.([]any)
					if !ok {
						return nil, fmt.Errorf("%s is not a list", tag)
					}
					ss := make([]string, len(members))
					for i, x := range members {
						switch x := x.(type) {
						case json.Number:
							ss[i] = x.String()
						case string:
							ss[i] = x
						default:
							return nil, fmt.Errorf("%s member of type %T", tag, x)
						}
					}
					if tag == "NS" {
						return &types.AttributeValueMemberNS{Value: ss}, nil
					}
					return &types.AttributeValueMemberSS{Value: ss}, nil
				}
			}
		}
		return simpleMap(v)
	}
	return nil, fmt.Errorf("unexpected JSON %T", v)
}

func simpleMap(v map[string]any) (types.AttributeValue, error) {
	m := make(map[string]types.AttributeValue, len(v))
	for k, e := range v {
		var err error
		if m[k], err = simpleValue(e); err != nil {
			return nil, err
		}
	}
	return &types.AttributeValueMemberM{Value: m}, nil
}

package vectors

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// MPLDecryptManifestType is the manifest type of the MPL's keyring decrypt
// vectors (mpl/manifest.json): key descriptions with stored encrypted data
// keys and the data key they hold.
const MPLDecryptManifestType = "awses-mpl-decrypt"

// MPLKeyringTests is the kind DetectManifest gives the MPL's keyring
// round-trip file (mpl/test.json), which has a "tests" object and no
// "manifest": each test names a suite, an encryption context and the key
// descriptions to encrypt and decrypt with.
const MPLKeyringTests = "mpl-keyring-tests"

// DetectManifest returns the kind of a vector file: its "manifest.type"
// (DBESDKManifestType, MPLDecryptManifestType, ...), MPLKeyringTests for a
// file of tests without a manifest object, or "" for a DDBEC
// scenarios.json.
func DetectManifest(path string) (string, error) {
	var m struct {
		Manifest *struct {
			Type string `json:"type"`
		} `json:"manifest"`
		Tests     json.RawMessage `json:"tests"`
		Scenarios json.RawMessage `json:"scenarios"`
	}
	if err := readJSON(path, &m); err != nil {
		return "", err
	}
	switch {
	case m.Manifest != nil:
		return m.Manifest.Type, nil
	case m.Tests != nil && m.Scenarios == nil:
		return MPLKeyringTests, nil
	}
	return "", nil
}

// MPLManifest is an MPL keyring manifest (mpl/test.json or
// mpl/manifest.json) with its keys file.
type MPLManifest struct {
	Path  string
	Kind  string // MPLKeyringTests or MPLDecryptManifestType
	Tests map[string]*MPLRecord
	Keys  map[string]DBESDKKey

	keysFile []byte
	kmOnce   sync.Once
	km       *keyMaterial
}

// MPLRecord is one test of an MPL keyring manifest.
type MPLRecord struct {
	Type        string            `json:"type"` // positive-keyring, negative-decrypt-keyring, negative-encrypt-keyring
	Description string            `json:"description"`
	Suite       string            `json:"algorithmSuiteId"`
	Context     map[string]string `json:"encryptionContext"`
	Required    []string          `json:"requiredEncryptionContextKeys"`
	// Reproduced is the context the reader gives; HasReproduced tells an
	// empty one from none.
	Reproduced    map[string]string `json:"reproducedEncryptionContext,omitempty"`
	HasReproduced bool              `json:"-"`

	KeyDescription        json.RawMessage `json:"keyDescription,omitempty"`
	EncryptKeyDescription json.RawMessage `json:"encryptKeyDescription,omitempty"`
	DecryptKeyDescription json.RawMessage `json:"decryptKeyDescription,omitempty"`

	// awses-mpl-decrypt only.
	EncryptedDataKeys []MPLEncryptedDataKey `json:"encryptedDataKeys,omitempty"`
	Result            *struct {
		PlaintextDataKey []byte   `json:"plaintextDataKey"`
		RequiredKeys     []string `json:"requiredEncryptionContextKeys"`
	} `json:"result,omitempty"`
}

// MPLEncryptedDataKey is a stored encrypted data key.
type MPLEncryptedDataKey struct {
	ProviderID   string `json:"keyProviderId"`
	ProviderInfo []byte `json:"keyProviderInfo"`
	Ciphertext   []byte `json:"ciphertext"`
}

// LoadMPL reads an MPL keyring manifest and its keys file (the manifest's
// "keys", else keys.json beside it).
func LoadMPL(path string) (*MPLManifest, error) {
	var f struct {
		Manifest *struct {
			Type string `json:"type"`
		} `json:"manifest"`
		Keys  string                     `json:"keys"`
		Tests map[string]json.RawMessage `json:"tests"`
	}
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	m := &MPLManifest{Path: path, Kind: MPLKeyringTests, Tests: make(map[string]*MPLRecord, len(f.Tests))}
	if f.Manifest != nil {
		if f.Manifest.Type != MPLDecryptManifestType {
			return nil, fmt.Errorf("vectors: %s: manifest type %q, want %q", filepath.Base(path), f.Manifest.Type, MPLDecryptManifestType)
		}
		m.Kind = MPLDecryptManifestType
	}
	for id, raw := range f.Tests {
		var r MPLRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("vectors: %s: test %s: %w", filepath.Base(path), id, err)
		}
		var members map[string]json.RawMessage
		_ = json.Unmarshal(raw, &members)
		_, r.HasReproduced = members["reproducedEncryptionContext"]
		m.Tests[id] = &r
	}
	ref := f.Keys
	if ref == "" {
		ref = "keys.json"
	}
	var err error
	if m.Keys, m.keysFile, err = readKeysFile(path, ref); err != nil {
		return nil, err
	}
	return m, nil
}

// IDs returns the test ids, sorted.
func (m *MPLManifest) IDs() []string { return slices.Sorted(maps.Keys(m.Tests)) }

func (m *MPLManifest) material() *keyMaterial {
	m.kmOnce.Do(func() { m.km = newKeyMaterial(m.Keys) })
	return m.km
}

// Close stops the fake KMS servers the manifest's AWS KMS keys started.
func (m *MPLManifest) Close() {
	if m.km != nil {
		m.km.Close()
	}
}

// Descriptions returns the encrypt and decrypt key descriptions of a
// record (both its keyDescription when it has one).
func (r *MPLRecord) Descriptions() (enc, dec json.RawMessage) {
	if len(r.KeyDescription) > 0 {
		return r.KeyDescription, r.KeyDescription
	}
	return r.EncryptKeyDescription, r.DecryptKeyDescription
}

// keyrings parses and builds a record's encrypt and decrypt keyrings.
func (m *MPLManifest) keyrings(r *MPLRecord) (enc, dec keyring.Keyring, encDesc, decDesc *KeyDescription, err error) {
	encRaw, decRaw := r.Descriptions()
	if len(decRaw) == 0 || (m.Kind == MPLKeyringTests && len(encRaw) == 0) {
		return nil, nil, nil, nil, errors.New("vectors: test without key descriptions")
	}
	if decDesc, err = ParseKeyDescription(decRaw); err != nil {
		return nil, nil, nil, nil, err
	}
	if len(encRaw) > 0 {
		if encDesc, err = ParseKeyDescription(encRaw); err != nil {
			return nil, nil, nil, nil, err
		}
		if enc, err = m.material().Keyring(encDesc); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	if dec, err = m.material().Keyring(decDesc); err != nil {
		return nil, nil, nil, nil, err
	}
	return enc, dec, encDesc, decDesc, nil
}

// esdkSuiteReason is why a record of an AWS Encryption SDK suite does not
// run.
func esdkSuiteReason(id string) string {
	return fmt.Sprintf("algorithm suite 0x%s is an AWS Encryption SDK suite; this library implements the DB-ESDK suites 0x6700 and 0x6701 only", id)
}

// RunMPL runs one record. For the round-trip tests (mpl/test.json): build
// both keyrings from their descriptions, make encryption materials with
// the encrypt keyring and the default materials manager, and decryption
// materials from its encrypted data keys with the decrypt keyring, the
// reader reproducing the context the record gives (or the required keys'
// values); a positive record must give back the data key and HMAC key, a
// negative-decrypt one must fail to decrypt, a negative-encrypt one to
// encrypt. Records of the AWS Encryption SDK's suites are skipped, except
// those that test the reproduced encryption context with raw keyrings:
// that check lies in the materials manager and does not depend on the
// suite, so they run under 0x6700 (the reason says so). For the decrypt
// manifest (mpl/manifest.json), the stored encrypted data keys must
// decrypt to the record's data key; under an ESDK suite (direct wrapping)
// a raw AES key is unwrapped by the raw AES keyring's rules directly.
// Descriptions whose keyrings this library does not build, or that need
// AWS, are skipped with the reason.
func (m *MPLManifest) RunMPL(ctx context.Context, id string) Result {
	r := m.Tests[id]
	var res Result
	fail := func(err error) Result { res.Outcome, res.Reason = Failed, err.Error(); return res }
	if r == nil {
		return fail(fmt.Errorf("no test %q", id))
	}
	enc, dec, encDesc, decDesc, err := m.keyrings(r)
	if errors.Is(err, ErrUnsupported) {
		res.Outcome, res.Reason = Skipped, strings.TrimPrefix(err.Error(), ErrUnsupported.Error()+": ")
		return res
	}
	if err != nil {
		return fail(err)
	}
	if m.Kind == MPLDecryptManifestType {
		return m.runStored(ctx, r, dec, decDesc)
	}
	suite, err := keyring.ParseSuite(r.Suite)
	note := cachingNote(encDesc, decDesc)
	if err != nil {
		if !r.HasReproduced || encDesc.Type != KeyDescRaw || decDesc.Type != KeyDescRaw {
			res.Outcome, res.Reason = Skipped, esdkSuiteReason(r.Suite)
			return res
		}
		suite, note = keyring.SuiteHMAC, note+fmt.Sprintf(" (suite 0x%s run as 0x6700: the reproduced-context check does not depend on the suite)", r.Suite)
	}
	em, err := keyring.NewDefaultManager(enc).EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: suite, EncryptionContext: r.Context, RequiredKeys: r.Required})
	switch {
	case r.Type == "negative-encrypt-keyring" && err == nil:
		return fail(errors.New("negative record encrypted"))
	case r.Type == "negative-encrypt-keyring":
		res.Outcome, res.Reason = Passed, "failed to encrypt as expected: "+err.Error()+note
		return res
	case err != nil:
		return fail(fmt.Errorf("encrypt: %w", err))
	}
	stored := maps.Clone(em.EncryptionContext())
	reproduced := r.Reproduced
	if !r.HasReproduced {
		reproduced = map[string]string{}
		for _, k := range r.Required {
			reproduced[k] = r.Context[k]
		}
	}
	for _, k := range r.Required {
		delete(stored, k)
	}
	dm, err := keyring.NewDefaultManager(dec).DecryptionMaterials(ctx, keyring.DecryptionRequest{
		Suite: suite, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: stored, ReproducedContext: reproduced, RequiredKeys: r.Required,
	})
	switch r.Type {
	case "negative-decrypt-keyring":
		if err == nil {
			return fail(errors.New("negative record decrypted"))
		}
		res.Outcome, res.Reason = Passed, "failed to decrypt as expected: "+err.Error()+note
		return res
	case "positive-keyring":
	default:
		return fail(fmt.Errorf("record type %q", r.Type))
	}
	if err != nil {
		return fail(fmt.Errorf("decrypt: %w", err))
	}
	if !bytes.Equal(dm.DataKey(), em.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), em.SymmetricSigningKeys()[0]) {
		return fail(errors.New("decrypted keys differ from the encrypted ones"))
	}
	res.Outcome, res.Reason, res.RoundTrip = Passed, fmt.Sprintf("round-tripped, %d encrypted data keys", len(em.EncryptedDataKeys()))+note, 1
	return res
}

// runStored decrypts a decrypt-manifest record's stored data keys.
func (m *MPLManifest) runStored(ctx context.Context, r *MPLRecord, dec keyring.Keyring, d *KeyDescription) Result {
	var res Result
	fail := func(err error) Result { res.Outcome, res.Reason = Failed, err.Error(); return res }
	if r.Result == nil && r.Type == "positive-keyring" {
		return fail(errors.New("positive record without a result"))
	}
	var got []byte
	var err error
	suite, serr := keyring.ParseSuite(r.Suite)
	switch {
	case serr == nil:
		edks := make([]keyring.EncryptedDataKey, len(r.EncryptedDataKeys))
		for i, e := range r.EncryptedDataKeys {
			edks[i] = keyring.EncryptedDataKey{ProviderID: e.ProviderID, ProviderInfo: e.ProviderInfo, Ciphertext: e.Ciphertext}
		}
		var dm *keyring.DecryptionMaterials
		dm, err = keyring.NewDefaultManager(dec).DecryptionMaterials(ctx, keyring.DecryptionRequest{
			Suite: suite, EncryptedDataKeys: edks, StoredContext: r.Context, RequiredKeys: r.Required})
		if err == nil {
			got = dm.DataKey()
		}
	case d.Type == KeyDescRaw && d.EncryptionAlgorithm == "aes":
		got, err = m.directAESUnwrap(r, d)
	default:
		res.Outcome, res.Reason = Skipped, esdkSuiteReason(r.Suite)
		return res
	}
	if r.Type != "positive-keyring" {
		if err == nil {
			return fail(errors.New("negative record decrypted"))
		}
		res.Outcome, res.Reason = Passed, "failed as expected: "+err.Error()
		return res
	}
	if err != nil {
		return fail(fmt.Errorf("decrypt: %w", err))
	}
	if !bytes.Equal(got, r.Result.PlaintextDataKey) {
		return fail(errors.New("decrypted another data key than the record's"))
	}
	res.Outcome, res.Decrypted, res.Reason = Passed, 1, "decrypted the stored data key"+cachingNote(d)
	if serr != nil {
		res.Reason += fmt.Sprintf(" (suite 0x%s, direct wrapping)", r.Suite)
	}
	return res
}

// directAESUnwrap decrypts an encrypted data key of an ESDK suite (direct
// wrapping: the ciphertext is the data key itself under AES-GCM) by the
// raw AES keyring's rules (framework/raw-aes-keyring.md): the provider id
// is the description's, the provider info key name || tag bits (4 bytes)
// || IV length (4 bytes) || IV, the AAD the serialized encryption context.
func (m *MPLManifest) directAESUnwrap(r *MPLRecord, d *KeyDescription) ([]byte, error) {
	k := m.Keys[d.Key]
	key, err := base64.StdEncoding.DecodeString(k.Material)
	if err != nil {
		return nil, d.errorf("key %q: material is not base64", d.Key)
	}
	defer clear(key)
	name := []byte(keyName(d, k))
	aad, err := keyring.AppendContext(nil, r.Context)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, d.errorf("key %q: %v", d.Key, err)
	}
	for _, e := range r.EncryptedDataKeys {
		info := e.ProviderInfo
		if e.ProviderID != d.ProviderID || len(info) != len(name)+8+12 || !bytes.Equal(info[:len(name)], name) {
			continue
		}
		tagBits := binary.BigEndian.Uint32(info[len(name):])
		ivLen := binary.BigEndian.Uint32(info[len(name)+4:])
		if tagBits != 128 || ivLen != 12 {
			continue
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		pt, err := gcm.Open(nil, info[len(name)+8:], e.Ciphertext, aad)
		if err != nil {
			return nil, keyring.ErrAuthentication
		}
		return pt, nil
	}
	return nil, errors.New("no encrypted data key for this keyring")
}

// mplPlaintext is the item GenerateMPL encrypts for every record.
const mplPlaintext = `{"RecNum": %d, "Stuff": "MPL key description %s", "Junk": {"L": ["one", 2, {"M": {"𐀂": "𐀂"}}]}}`

// GenerateMPL turns a round-trip test file (mpl/test.json) into a DB-ESDK
// decrypt manifest (type aws-dbesdk-decrypt) that the DB-ESDK's harness
// and "vectors run" read: for each positive record of a DB-ESDK suite whose
// keyrings this library builds, one item encrypted with the record's
// encrypt key description, recorded with the decrypt key description as
// its config's "key" (as the record wrote it) and the record's suite. The
// manifest goes to outDir/decrypt_go_<name of the file>, the keys file as
// read to outDir/keys.json. Other records are listed in skipped with the
// reason.
func (m *MPLManifest) GenerateMPL(ctx context.Context, outDir string) (written, skipped []string, err error) {
	if m.Kind != MPLKeyringTests {
		return nil, nil, fmt.Errorf("vectors: %s is a %s manifest; generate from a round-trip test file", filepath.Base(m.Path), m.Kind)
	}
	out := &DBESDKManifest{Keys: m.Keys, keysFile: m.keysFile, km: m.material()}
	out.kmOnce.Do(func() {})
	out.Manifest.Manifest.Type, out.Manifest.Manifest.Version = DBESDKManifestType, "1"
	out.Manifest.Client.Name, out.Manifest.Client.Version = "go-itemcrypto", "dev"
	out.Manifest.Keys = "file://keys.json"
	out.Manifest.Tests = map[string]DBESDKRecord{}
	for n, id := range m.IDs() {
		r := m.Tests[id]
		if r.Type != "positive-keyring" {
			skipped = append(skipped, id+": "+r.Type)
			continue
		}
		suite, serr := keyring.ParseSuite(r.Suite)
		encRaw, decRaw := r.Descriptions()
		if _, _, _, _, err := m.keyrings(r); err != nil {
			if !errors.Is(err, ErrUnsupported) {
				return nil, nil, fmt.Errorf("vectors: test %s: %w", id, err)
			}
			skipped = append(skipped, id+": "+strings.TrimPrefix(err.Error(), ErrUnsupported.Error()+": "))
			continue
		}
		if serr != nil {
			skipped = append(skipped, id+": "+esdkSuiteReason(r.Suite))
			continue
		}
		rec := DBESDKRecord{
			Type:        "positive-decrypt",
			Description: "go-itemcrypto: MPL test " + id + ": " + r.Description,
			Config: DBESDKConfig{
				Actions: map[string]string{"RecNum": "SIGN_ONLY", "Stuff": "ENCRYPT_AND_SIGN", "Junk": "SIGN_ONLY"},
				Suite:   suite.String(),
				Key:     encRaw,
			},
			Plaintext: json.RawMessage(fmt.Sprintf(mplPlaintext, n+1, jsonEscape(id))),
		}
		if err := out.encryptRecord(ctx, &rec); err != nil {
			return nil, nil, fmt.Errorf("vectors: test %s: %w", id, err)
		}
		rec.Config.Key = decRaw
		out.Manifest.Tests[id] = rec
		written = append(written, id)
	}
	out.Path = filepath.Join(filepath.Dir(m.Path), "decrypt_go_"+filepath.Base(m.Path))
	return written, skipped, out.write(outDir)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// encryptRecord sets rec.Encrypted to its plaintext encrypted under its
// config.
func (m *DBESDKManifest) encryptRecord(ctx context.Context, rec *DBESDKRecord) error {
	enc, err := m.Encryptor(rec.Config)
	if err != nil {
		return err
	}
	plain, err := SimpleItem(rec.Plaintext)
	if err != nil {
		return err
	}
	ct, err := enc.Encrypt(ctx, plain)
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	rec.Encrypted, err = ddbjson.MarshalItem(ct)
	return err
}

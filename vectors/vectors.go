// Package vectors runs and writes encrypted-item test-vector manifests in the
// format of the AWS DynamoDB Encryption Client's scenarios.json (spec §12):
// a manifest of scenarios, a keys file, a plaintext file, and per scenario a
// ciphertext file mapping table names to encrypted items; and the AWS
// Database Encryption SDK's decrypt manifests and searchable-encryption query
// vectors (configs.json, records.json, data.json); and the Material
// Providers Library's keyring vectors (mpl/test.json, mpl/manifest.json)
// through their key descriptions ([KeyDescription]).
//
// Records that cannot run here are skipped with the reason, never passed.
// Of the MPL's mpl/test.json, 83 pass and 992 are skipped: 733 test a
// caching CMM (cache entry identifiers against a test cache, over the
// static-materials test keyring under the AWS Encryption SDK suite
// 0x0478), which cmp/keyring does not have; 104 MRK-aware, 26 aws-kms and
// 26 aws-kms-rsa records need an AWS account (the keys file holds no KMS
// key material; for RSA only the public key); 99 are of AWS Encryption SDK
// suites; 4 use the static-materials keyring under suite 0x0014. A
// caching-cmm without entry identifiers runs as its underlying keyring
// (a cache changes no bytes), and the outcome says so.
//
// It is the engine of "itemcrypto vectors run" and "itemcrypto vectors
// generate", and the library's own tests read the reference vectors through
// it. It is public because those two users live in different modules (the
// CLI is a module of its own); its API follows the vector formats and may
// change before v1.
package vectors

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Manifest is a scenarios.json file.
type Manifest struct {
	Plaintext string     `json:"plaintext"`
	Keys      string     `json:"keys"`
	Scenarios []Scenario `json:"scenarios"`
}

// Scenario is one entry of a manifest.
type Scenario struct {
	Version      string            `json:"version"`
	Provider     string            `json:"provider"`
	Keys         map[string]string `json:"keys,omitempty"`
	Plaintext    string            `json:"plaintext"`
	Ciphertext   string            `json:"ciphertext"`
	Network      bool              `json:"network"`
	MaterialName string            `json:"material_name,omitempty"`
	Metastore    *Metastore        `json:"metastore,omitempty"`

	extra bool // one of Generate's own scenarios, with no ciphertext to read
}

// Metastore describes the meta table of a most_recent scenario.
type Metastore struct {
	TableName  string            `json:"table_name"`
	Provider   string            `json:"provider"`
	Keys       map[string]string `json:"keys"`
	Ciphertext string            `json:"ciphertext"`
}

// Key is one entry of keys.json.
type Key struct {
	Material  string `json:"material,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Type      string `json:"type,omitempty"`
	KeyID     string `json:"keyId,omitempty"`
}

// ActionSet is a named set of actions in plaintext.json.
type ActionSet struct {
	Default  string            `json:"default"`
	Override map[string]string `json:"override,omitempty"`
}

// PlaintextFile is plaintext.json.
type PlaintextFile struct {
	Actions    map[string]ActionSet                  `json:"actions"`
	Items      map[string]TableItems                 `json:"items"`
	Versions   map[string]map[string][]string        `json:"versions"`
	Attributes map[string]map[string]json.RawMessage `json:"attributes"`
}

// TableItems are the plaintext items of one table.
type TableItems struct {
	Index      Index           `json:"index"`
	IndexTypes json.RawMessage `json:"index_types,omitempty"`
	Items      []PlainItem     `json:"items"`
}

// Index names a table's key attributes.
type Index struct {
	Partition string `json:"partition"`
	Sort      string `json:"sort,omitempty"`
}

// PlainItem is one plaintext item.
type PlainItem struct {
	Attributes json.RawMessage `json:"attributes"`
	Action     string          `json:"action"`
	Exact      bool            `json:"exact,omitempty"`
}

// Suite is a loaded manifest.
type Suite struct {
	Dir       string
	Manifest  Manifest
	Keys      map[string]Key
	plaintext map[string]*PlaintextFile
	override  *PlaintextFile // from UsePlaintext: replaces every scenario's
}

// Load reads a manifest and the keys file it names.
func Load(manifestPath string) (*Suite, error) {
	s := &Suite{Dir: filepath.Dir(manifestPath), plaintext: map[string]*PlaintextFile{}}
	if err := readJSON(manifestPath, &s.Manifest); err != nil {
		return nil, err
	}
	if s.Manifest.Keys == "" {
		return nil, errors.New("vectors: manifest names no keys file")
	}
	if err := readJSON(s.Path(s.Manifest.Keys), &s.Keys); err != nil {
		return nil, err
	}
	return s, nil
}

// Path resolves a file:// reference relative to the manifest.
func (s *Suite) Path(ref string) string {
	p := strings.TrimPrefix(ref, "file://")
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("vectors: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("vectors: %s: %w", filepath.Base(path), err)
	}
	return nil
}

// UsePlaintext makes every scenario use the plaintext files at paths,
// merged in order (a later file adds action sets, tables, versions and
// attribute groups, and replaces those of the same name), instead of the
// file it names. It serves manifests whose plaintext file is kept elsewhere,
// such as the DB-ESDK's copy of the legacy vectors.
func (s *Suite) UsePlaintext(paths ...string) error {
	merged := &PlaintextFile{Actions: map[string]ActionSet{}, Items: map[string]TableItems{},
		Versions: map[string]map[string][]string{}, Attributes: map[string]map[string]json.RawMessage{}}
	for _, p := range paths {
		var f PlaintextFile
		if err := readJSON(p, &f); err != nil {
			return err
		}
		maps.Copy(merged.Actions, f.Actions)
		maps.Copy(merged.Items, f.Items)
		maps.Copy(merged.Attributes, f.Attributes)
		for table, versions := range f.Versions {
			if merged.Versions[table] == nil {
				merged.Versions[table] = map[string][]string{}
			}
			maps.Copy(merged.Versions[table], versions)
		}
	}
	s.override = merged
	return nil
}

// PlaintextFile loads (once) the plaintext file a scenario names.
func (s *Suite) PlaintextFile(ref string) (*PlaintextFile, error) {
	if s.override != nil {
		return s.override, nil
	}
	if ref == "" {
		ref = s.Manifest.Plaintext
	}
	if p, ok := s.plaintext[ref]; ok {
		return p, nil
	}
	var p PlaintextFile
	if err := readJSON(s.Path(ref), &p); err != nil {
		return nil, err
	}
	s.plaintext[ref] = &p
	return &p, nil
}

// Name is a short name for a scenario: its ciphertext path without the
// directory prefix and extension.
func (sc *Scenario) Name() string {
	p := strings.TrimPrefix(sc.Ciphertext, "file://")
	p = strings.TrimPrefix(p, "ciphertext/")
	return strings.TrimSuffix(p, ".json")
}

// ErrUnsupported marks a scenario this build cannot run; the runner counts
// it as skipped with the error's text as the reason.
var ErrUnsupported = errors.New("not supported")

// Provider builds the provider of a scenario (or of a metastore).
func (s *Suite) Provider(kind string, keyNames map[string]string) (cmp.Provider, error) {
	switch kind {
	case "static":
		enc, err := s.aesKey(keyNames["decrypt"])
		if err != nil {
			return nil, err
		}
		sign, verify, err := s.signingKeys(keyNames)
		if err != nil {
			return nil, err
		}
		return cmp.NewStatic(cmp.StaticConfig{EncryptionKey: enc, SigningKey: sign, VerificationKey: verify})
	case "wrapped":
		sign, verify, err := s.signingKeys(keyNames)
		if err != nil {
			return nil, err
		}
		dec, err := s.key(keyNames["decrypt"])
		if err != nil {
			return nil, err
		}
		cfg := cmp.WrappedConfig{SigningKey: sign, VerificationKey: verify}
		switch dec.Type {
		case "symmetric":
			kek, err := s.aesKey(keyNames["decrypt"])
			if err != nil {
				return nil, err
			}
			cfg.WrappingKey, cfg.UnwrappingKey = kek, kek
		case "private":
			priv, err := s.rsaPrivate(keyNames["decrypt"])
			if err != nil {
				return nil, err
			}
			if cfg.UnwrappingKey, err = cmp.NewRSAUnwrappingKey(priv); err != nil {
				return nil, err
			}
			encName := keyNames["encrypt"]
			if encName == "" {
				cfg.WrappingKey, _ = cmp.NewRSAWrappingKey(&priv.PublicKey)
			} else {
				pub, err := s.rsaPublic(encName)
				if err != nil {
					return nil, err
				}
				cfg.WrappingKey, _ = cmp.NewRSAWrappingKey(pub)
			}
		default:
			return nil, fmt.Errorf("vectors: key %q: wrapped provider needs a symmetric or private decrypt key", keyNames["decrypt"])
		}
		return cmp.NewWrapped(cfg)
	case "awskms":
		return nil, fmt.Errorf("%w: provider awskms (Direct KMS) is not built yet", ErrUnsupported)
	case "most_recent":
		return nil, fmt.Errorf("%w: provider most_recent needs its scenario's metastore", ErrUnsupported)
	}
	return nil, fmt.Errorf("%w: unknown provider %q", ErrUnsupported, kind)
}

// ScenarioProvider builds the provider of a scenario. For most_recent it
// loads the scenario's metastore dump into an in-memory provider store
// protected by the metastore's own provider (spec §12.6).
func (s *Suite) ScenarioProvider(sc *Scenario) (cmp.Provider, error) {
	if sc.Provider != "most_recent" {
		return s.Provider(sc.Provider, sc.Keys)
	}
	ms := sc.Metastore
	if ms == nil || sc.MaterialName == "" {
		return nil, errors.New("vectors: most_recent scenario without metastore or material_name")
	}
	meta, err := s.Provider(ms.Provider, ms.Keys)
	if err != nil {
		return nil, err
	}
	store, err := metastore.NewMemory(ms.TableName, meta)
	if err != nil {
		return nil, err
	}
	var dump map[string][]json.RawMessage
	if err := readJSON(s.Path(ms.Ciphertext), &dump); err != nil {
		return nil, err
	}
	for _, raw := range dump[ms.TableName] {
		item, err := ddbjson.UnmarshalItem(raw)
		if err != nil {
			return nil, fmt.Errorf("vectors: metastore dump: %w", err)
		}
		if err := store.Load(item); err != nil {
			return nil, err
		}
	}
	return cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: sc.MaterialName, TTL: time.Minute})
}

func (s *Suite) key(name string) (Key, error) {
	k, ok := s.Keys[name]
	if !ok {
		return Key{}, fmt.Errorf("vectors: no key named %q", name)
	}
	return k, nil
}

func (s *Suite) material(name string) (Key, []byte, error) {
	k, err := s.key(name)
	if err != nil {
		return k, nil, err
	}
	b, err := base64.StdEncoding.DecodeString(k.Material)
	if err != nil {
		return k, nil, fmt.Errorf("vectors: key %q: material is not base64", name)
	}
	return k, b, nil
}

func (s *Suite) aesKey(name string) (*cmp.AESKey, error) {
	k, b, err := s.material(name)
	if err != nil {
		return nil, err
	}
	if k.Algorithm != "AES" {
		return nil, fmt.Errorf("vectors: key %q is not an AES key", name)
	}
	return cmp.NewAESKey(b)
}

func (s *Suite) rsaPrivate(name string) (*rsa.PrivateKey, error) {
	_, b, err := s.material(name)
	if err != nil {
		return nil, err
	}
	return cmp.ParseRSAPrivateKey(b)
}

func (s *Suite) rsaPublic(name string) (*rsa.PublicKey, error) {
	_, b, err := s.material(name)
	if err != nil {
		return nil, err
	}
	return cmp.ParseRSAPublicKey(b)
}

// signingKeys builds the signing and verification keys. As the reference
// runners do, "sign" defaults to "verify".
func (s *Suite) signingKeys(names map[string]string) (cmp.SigningKey, cmp.VerificationKey, error) {
	verifyName := names["verify"]
	signName := names["sign"]
	if signName == "" {
		signName = verifyName
	}
	vk, vb, err := s.material(verifyName)
	if err != nil {
		return nil, nil, err
	}
	switch vk.Type {
	case "symmetric":
		h, err := cmp.NewInsecureHMACKey(vk.Algorithm, vb) // the vectors use short keys
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: key %q: %w", verifyName, err)
		}
		if signName == verifyName {
			return h, h, nil
		}
		sk, sb, err := s.material(signName)
		if err != nil {
			return nil, nil, err
		}
		hs, err := cmp.NewInsecureHMACKey(sk.Algorithm, sb)
		return hs, h, err
	case "public":
		if strings.HasSuffix(vk.Algorithm, "withECDSA") {
			return s.ecdsaKeys(vk, vb, signName)
		}
		pub, err := cmp.ParseRSAPublicKey(vb)
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: key %q: %w", verifyName, err)
		}
		verify, err := cmp.NewRSAVerificationKey(pub, rsaSigAlg(vk.Algorithm))
		if err != nil {
			return nil, nil, err
		}
		sk, sb, err := s.material(signName)
		if err != nil || sk.Type != "private" {
			// Verification only.
			return nil, verify, nil
		}
		priv, err := cmp.ParseRSAPrivateKey(sb)
		if err != nil {
			return nil, nil, fmt.Errorf("vectors: key %q: %w", signName, err)
		}
		sign, err := cmp.NewRSASigningKey(priv, rsaSigAlg(sk.Algorithm))
		return sign, verify, err
	}
	return nil, nil, fmt.Errorf("vectors: key %q cannot verify signatures", verifyName)
}

// ecdsaKeys builds an ECDSA verification key from vk (material vb) and,
// when signName is a private EC key, the signing key.
func (s *Suite) ecdsaKeys(vk Key, vb []byte, signName string) (cmp.SigningKey, cmp.VerificationKey, error) {
	pub, err := cmp.ParseECDSAPublicKey(vb)
	if err != nil {
		return nil, nil, fmt.Errorf("vectors: %w", err)
	}
	verify, err := cmp.NewECDSAVerificationKey(pub, vk.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	sk, sb, err := s.material(signName)
	if err != nil || sk.Type != "private" {
		return nil, verify, nil // verification only
	}
	priv, err := cmp.ParseECDSAPrivateKey(sb)
	if err != nil {
		return nil, nil, fmt.Errorf("vectors: key %q: %w", signName, err)
	}
	sign, err := cmp.NewECDSASigningKey(priv, sk.Algorithm)
	return sign, verify, err
}

func rsaSigAlg(alg string) string {
	if strings.HasSuffix(alg, "withRSA") {
		return alg
	}
	return ""
}

// Expected is one plaintext item with its table's configuration.
type Expected struct {
	Table     string
	Index     Index
	ActionSet string
	Item      map[string]types.AttributeValue
}

// ExpectedItems expands the plaintext file for a scenario version (spec
// §12.4): each item's attributes, plus for non-exact items every attribute
// group listed for its table and version.
func (p *PlaintextFile) ExpectedItems(version string) ([]Expected, error) {
	var out []Expected
	for table, ti := range p.Items {
		for _, pi := range ti.Items {
			item, err := ddbjson.UnmarshalItem(pi.Attributes)
			if err != nil {
				return nil, fmt.Errorf("vectors: plaintext %s: %w", table, err)
			}
			if !pi.Exact {
				for _, group := range p.Versions[table][version] {
					for name, raw := range p.Attributes[group] {
						v, err := ddbjson.UnmarshalValue(raw)
						if err != nil {
							return nil, fmt.Errorf("vectors: attribute group %s: %w", group, err)
						}
						item[name] = v
					}
				}
			}
			out = append(out, Expected{Table: table, Index: ti.Index, ActionSet: pi.Action, Item: item})
		}
	}
	return out, nil
}

// Policy returns the actions policy of an action set, with the index-key rule.
func (p *PlaintextFile) Policy(set string, index Index) (*actions.Policy, error) {
	as, ok := p.Actions[set]
	if !ok {
		return nil, fmt.Errorf("vectors: no action set %q", set)
	}
	def, err := actions.Parse(as.Default)
	if err != nil {
		return nil, err
	}
	ov := make(map[string]actions.Action, len(as.Override))
	for name, a := range as.Override {
		if ov[name], err = actions.Parse(a); err != nil {
			return nil, err
		}
	}
	return actions.New(actions.Options{Default: def, Overrides: ov, PartitionKey: index.Partition, SortKey: index.Sort})
}

// match finds the expected item with the same primary-key values.
func match(exp []Expected, table string, item map[string]types.AttributeValue) *Expected {
	for i := range exp {
		e := &exp[i]
		if e.Table != table {
			continue
		}
		if sameKey(e.Item, item, e.Index.Partition) && (e.Index.Sort == "" || sameKey(e.Item, item, e.Index.Sort)) {
			return e
		}
	}
	return nil
}

func sameKey(a, b map[string]types.AttributeValue, name string) bool {
	av, ok1 := a[name]
	bv, ok2 := b[name]
	return ok1 && ok2 && ddbjson.Equal(av, bv, ddbserial.CanonicalNumber)
}

// sameItem compares a decrypted item with the expectation. As the reference
// runners do, the value of "version" is not compared (Java writers store 1).
func sameItem(want, got map[string]types.AttributeValue) error {
	for name := range want {
		if _, ok := got[name]; !ok {
			return fmt.Errorf("attribute %q missing", name)
		}
	}
	for name, gv := range got {
		wv, ok := want[name]
		if !ok {
			return fmt.Errorf("unexpected attribute %q", name)
		}
		if name != "version" && !ddbjson.Equal(wv, gv, ddbserial.CanonicalNumber) {
			return fmt.Errorf("attribute %q differs", name)
		}
	}
	return nil
}

// encryptors caches one Encryptor per table and action set.
type encryptors struct {
	p     *PlaintextFile
	prov  cmp.Provider
	cache map[string]*itemcrypto.Encryptor
	form  itemcrypto.Form // the form Encrypt signs in
}

func (c *encryptors) get(e *Expected) (*itemcrypto.Encryptor, error) {
	k := e.Table + "\x00" + e.ActionSet
	if enc, ok := c.cache[k]; ok {
		return enc, nil
	}
	pol, err := c.p.Policy(e.ActionSet, e.Index)
	if err != nil {
		return nil, err
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: e.Table, Policy: pol, Provider: c.prov}, itemcrypto.WithWriteForm(c.form))
	if err != nil {
		return nil, err
	}
	c.cache[k] = enc
	return enc, nil
}

// Outcome of one scenario.
type Outcome int

const (
	Passed Outcome = iota
	Failed
	Skipped
)

func (o Outcome) String() string { return [...]string{"PASS", "FAIL", "SKIP"}[o] }

// Result of one scenario.
type Result struct {
	Scenario  *Scenario
	Outcome   Outcome
	Reason    string // why it failed or was skipped
	Decrypted int    // their items decrypted and equal to the plaintext
	RoundTrip int    // plaintext items we encrypted and decrypted back
	Unmatched int    // ciphertext items with no plaintext (skipped, as the references do)
}

// RunOptions tune Run.
type RunOptions struct {
	// Network allows scenarios marked network: true.
	Network bool
}

// Run runs one scenario: it decrypts every ciphertext item and compares it
// with its plaintext, then encrypts every plaintext item of the scenario's
// tables and decrypts it back.
func (s *Suite) Run(ctx context.Context, sc *Scenario, opts RunOptions) Result {
	r := Result{Scenario: sc}
	fail := func(err error) Result { r.Outcome, r.Reason = Failed, err.Error(); return r }
	if sc.Network && !opts.Network {
		r.Outcome, r.Reason = Skipped, "needs network access to AWS KMS (run with --network)"
		return r
	}
	prov, err := s.ScenarioProvider(sc)
	if errors.Is(err, ErrUnsupported) {
		r.Outcome, r.Reason = Skipped, err.Error()
		return r
	}
	if err != nil {
		return fail(err)
	}
	pf, err := s.PlaintextFile(sc.Plaintext)
	if err != nil {
		return fail(err)
	}
	exp, err := pf.ExpectedItems(sc.Version)
	if err != nil {
		return fail(err)
	}
	var tables map[string][]json.RawMessage
	if err := readJSON(s.Path(sc.Ciphertext), &tables); err != nil {
		return fail(err)
	}
	encs := &encryptors{p: pf, prov: prov, cache: map[string]*itemcrypto.Encryptor{}}
	used := map[string]bool{}
	for table, raws := range tables {
		used[table] = true
		for i, raw := range raws {
			item, err := ddbjson.UnmarshalItem(raw)
			if err != nil {
				return fail(fmt.Errorf("%s item %d: %w", table, i, err))
			}
			e := match(exp, table, item)
			if e == nil {
				r.Unmatched++
				continue
			}
			enc, err := encs.get(e)
			if err != nil {
				return fail(err)
			}
			got, err := enc.Decrypt(ctx, item)
			if err != nil {
				return fail(fmt.Errorf("%s item %d: decrypt: %w", table, i, err))
			}
			if err := sameItem(e.Item, got); err != nil {
				return fail(fmt.Errorf("%s item %d: %w", table, i, err))
			}
			r.Decrypted++
		}
	}
	if r.Decrypted == 0 {
		return fail(errors.New("no ciphertext item matched a plaintext item"))
	}
	for i := range exp {
		e := &exp[i]
		if !used[e.Table] {
			continue
		}
		enc, err := encs.get(e)
		if err != nil {
			return fail(err)
		}
		ct, err := enc.Encrypt(ctx, e.Item)
		if err != nil {
			return fail(fmt.Errorf("round trip %s: encrypt: %w", e.Table, err))
		}
		got, err := enc.Decrypt(ctx, ct)
		if err != nil {
			return fail(fmt.Errorf("round trip %s: decrypt: %w", e.Table, err))
		}
		if err := sameItem(e.Item, got); err != nil {
			return fail(fmt.Errorf("round trip %s: %w", e.Table, err))
		}
		r.RoundTrip++
	}
	r.Outcome = Passed
	return r
}

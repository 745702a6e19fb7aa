package vectors

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// GeneratedCiphertextDir is where Generate puts its ciphertext files,
// relative to the output directory (as the reference clients keep theirs
// under ciphertext/python and ciphertext/java).
const GeneratedCiphertextDir = "ciphertext/go"

// Generate writes a manifest of Go-written ciphertexts into outDir, in the
// format of the suite's own (spec §12):
//
//   - outDir/scenarios.json: one scenario per offline scenario of the suite
//     whose provider this build supports, with the same version, provider
//     and key names, and file:// references relative to outDir;
//   - outDir/keys.json and outDir/plaintext.json: byte-for-byte copies of the
//     suite's keys and plaintext files (a scenario naming another plaintext
//     file gets its own copy);
//   - outDir/ciphertext/go/<basename>.json: for each scenario, every expected
//     plaintext item (spec §12.4) of the tables present in the scenario's
//     original ciphertext file, encrypted with the scenario's provider and
//     action sets, as {"TableName": [items...]} in DynamoDB JSON. A basename
//     used by two scenarios is prefixed with its parent directory's name.
//
// written lists the names ([Scenario.Name]) of the generated scenarios;
// skipped lists every scenario left out, as "name: reason" (network access,
// an unsupported provider, keys that cannot encrypt). Any other problem is
// returned as err, possibly after some files were written.
//
// The ciphertexts use fresh content keys and IVs, so they differ from the
// originals on every run; only Run can tell whether they are right.
func (s *Suite) Generate(ctx context.Context, outDir string, optFns ...func(*GenerateOptions)) (written, skipped []string, err error) {
	var opts GenerateOptions
	for _, fn := range optFns {
		fn(&opts)
	}
	if err := s.checkOutDir(outDir); err != nil {
		return nil, nil, err
	}
	s, extras, err := s.withExtras(opts.Form)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Join(outDir, filepath.FromSlash(GeneratedCiphertextDir)), 0o755); err != nil {
		return nil, nil, fmt.Errorf("vectors: %w", err)
	}
	// Copies of the keys and plaintext files, by source reference.
	copies := map[string]string{}
	taken := map[string]bool{}
	copyRef := func(ref, want string) (string, error) {
		src := s.Path(ref)
		if name, ok := copies[src]; ok {
			return "file://" + name, nil
		}
		name := uniqueName(want, taken)
		b, ok := embedded[ref]
		if !ok {
			if b, err = os.ReadFile(src); err != nil {
				return "", fmt.Errorf("vectors: %w", err)
			}
		}
		if err := os.WriteFile(filepath.Join(outDir, name), b, 0o644); err != nil {
			return "", fmt.Errorf("vectors: %w", err)
		}
		copies[src] = name
		return "file://" + name, nil
	}
	taken["scenarios.json"] = true
	out := Manifest{Scenarios: []Scenario{}}
	// keys.json: the suite's keys and the extra scenarios' EC keys.
	taken["keys.json"] = true
	out.Keys = "file://keys.json"
	kb, err := json.MarshalIndent(s.Keys, "", "    ")
	if err != nil {
		return nil, nil, fmt.Errorf("vectors: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "keys.json"), append(kb, '\n'), 0o600); err != nil { // key material, even if only test keys
		return nil, nil, fmt.Errorf("vectors: %w", err)
	}
	if s.Manifest.Plaintext != "" {
		if out.Plaintext, err = copyRef(s.Manifest.Plaintext, "plaintext.json"); err != nil {
			return nil, nil, err
		}
	}

	ctNames := map[string]bool{}
	all := append(slices.Clone(s.Manifest.Scenarios), extras...)
	for i := range all {
		if err := ctx.Err(); err != nil {
			return written, skipped, err
		}
		sc := &all[i]
		tables, metaDump, reason, err := s.generateScenario(ctx, sc, opts.Form)
		if err != nil {
			return written, skipped, fmt.Errorf("vectors: %s: %w", sc.Name(), err)
		}
		if reason != "" {
			skipped = append(skipped, sc.Name()+": "+reason)
			continue
		}
		ptRef := sc.Plaintext
		if ptRef == "" {
			ptRef = s.Manifest.Plaintext
		}
		gen := Scenario{Version: sc.Version, Provider: sc.Provider, Keys: sc.Keys, MaterialName: sc.MaterialName}
		if metaDump != nil {
			ms := *sc.Metastore
			metaName := ciphertextName(ms.Ciphertext, ctNames)
			ms.Ciphertext = "file://" + GeneratedCiphertextDir + "/" + metaName
			if err := writeTables(filepath.Join(outDir, filepath.FromSlash(GeneratedCiphertextDir), metaName), metaDump); err != nil {
				return written, skipped, err
			}
			gen.Metastore = &ms
		}
		if gen.Plaintext, err = copyRef(ptRef, filepath.Base(s.Path(ptRef))); err != nil {
			return written, skipped, err
		}
		name := ciphertextName(sc.Ciphertext, ctNames)
		gen.Ciphertext = "file://" + GeneratedCiphertextDir + "/" + name
		if err := writeTables(filepath.Join(outDir, filepath.FromSlash(GeneratedCiphertextDir), name), tables); err != nil {
			return written, skipped, err
		}
		out.Scenarios = append(out.Scenarios, gen)
		written = append(written, gen.Name())
	}
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		return written, skipped, fmt.Errorf("vectors: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "scenarios.json"), append(b, '\n'), 0o644); err != nil {
		return written, skipped, fmt.Errorf("vectors: %w", err)
	}
	return written, skipped, nil
}

// checkOutDir refuses to write over the suite's own directory, whose
// scenarios.json Generate would replace.
// writeTables writes a ciphertext file: table name -> items.
func writeTables(path string, tables map[string][]json.RawMessage) error {
	b, err := json.MarshalIndent(tables, "", "    ")
	if err != nil {
		return fmt.Errorf("vectors: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("vectors: %w", err)
	}
	return nil
}

func (s *Suite) checkOutDir(outDir string) error {
	if outDir == "" {
		return errors.New("vectors: no output directory")
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return fmt.Errorf("vectors: %w", err)
	}
	src, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("vectors: %w", err)
	}
	if out == src {
		return errors.New("vectors: the output directory is the manifest's own directory")
	}
	if fi, err := os.Stat(out); err == nil {
		if si, err := os.Stat(src); err == nil && os.SameFile(fi, si) {
			return errors.New("vectors: the output directory is the manifest's own directory")
		}
	}
	return nil
}

// generateScenario encrypts the expected items of one scenario. A non-empty
// reason means the scenario is skipped.
func (s *Suite) generateScenario(ctx context.Context, sc *Scenario, form itemcrypto.Form) (tables, metaDump map[string][]json.RawMessage, reason string, err error) {
	if sc.Network {
		return nil, nil, "needs network access to AWS KMS", nil
	}
	if form == itemcrypto.FormPython && strings.HasSuffix(s.Keys[sc.Keys["verify"]].Algorithm, "withECDSA") {
		return nil, nil, "the Python client cannot verify ECDSA signatures", nil
	}
	prov, store, err := s.freshProvider(sc)
	if errors.Is(err, ErrUnsupported) {
		return nil, nil, err.Error(), nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	pf, err := s.PlaintextFile(sc.Plaintext)
	if err != nil {
		return nil, nil, "", err
	}
	exp, err := pf.ExpectedItems(sc.Version)
	if err != nil {
		return nil, nil, "", err
	}
	var orig map[string]json.RawMessage
	if sc.extra { // every table of the plaintext
		orig = map[string]json.RawMessage{}
		for table := range pf.Items {
			orig[table] = nil
		}
	} else if err := readJSON(s.Path(sc.Ciphertext), &orig); err != nil {
		return nil, nil, "", err
	}
	tables = make(map[string][]json.RawMessage, len(orig))
	for table := range orig {
		tables[table] = []json.RawMessage{}
	}
	encs := &encryptors{p: pf, prov: prov, cache: map[string]*itemcrypto.Encryptor{}, form: form}
	// ExpectedItems walks a map; sort by table for a stable output, keeping
	// each table's items in the plaintext file's order.
	slices.SortStableFunc(exp, func(a, b Expected) int { return strings.Compare(a.Table, b.Table) })
	for i := range exp {
		e := &exp[i]
		if _, ok := tables[e.Table]; !ok {
			continue
		}
		enc, err := encs.get(e)
		if err != nil {
			return nil, nil, "", err
		}
		ct, err := enc.Encrypt(ctx, e.Item)
		if errors.Is(err, cmp.ErrInvalidKey) {
			return nil, nil, "its keys cannot encrypt: " + err.Error(), nil
		}
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: encrypt: %w", e.Table, err)
		}
		b, err := ddbjson.MarshalItem(ct)
		if err != nil {
			return nil, nil, "", err
		}
		tables[e.Table] = append(tables[e.Table], b)
	}
	if store != nil {
		metaDump = map[string][]json.RawMessage{}
		for _, it := range store.Items() {
			b, err := ddbjson.MarshalItem(it)
			if err != nil {
				return nil, nil, "", err
			}
			metaDump[sc.Metastore.TableName] = append(metaDump[sc.Metastore.TableName], b)
		}
	}
	return tables, metaDump, "", nil
}

// freshProvider builds a scenario's provider for writing new vectors. For
// most_recent it is backed by a new, empty in-memory meta table protected
// by the scenario's metastore provider, so that new material is created.
func (s *Suite) freshProvider(sc *Scenario) (cmp.Provider, *metastore.Memory, error) {
	if sc.Provider != "most_recent" {
		p, err := s.Provider(sc.Provider, sc.Keys)
		return p, nil, err
	}
	if sc.Metastore == nil || sc.MaterialName == "" {
		return nil, nil, errors.New("most_recent scenario without metastore or material_name")
	}
	meta, err := s.Provider(sc.Metastore.Provider, sc.Metastore.Keys)
	if err != nil {
		return nil, nil, err
	}
	store, err := metastore.NewMemory(sc.Metastore.TableName, meta)
	if err != nil {
		return nil, nil, err
	}
	p, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: sc.MaterialName, TTL: time.Minute})
	return p, store, err
}

// ciphertextName is the basename of ref, prefixed with its parent
// directory's name when that basename is already used.
func ciphertextName(ref string, used map[string]bool) string {
	p := filepath.ToSlash(strings.TrimPrefix(ref, "file://"))
	dir, base := pathSplit(p)
	name := base
	if used[name] {
		_, parent := pathSplit(strings.TrimSuffix(dir, "/"))
		if parent != "" {
			name = parent + "-" + base
		}
	}
	return uniqueName(name, used)
}

func pathSplit(p string) (dir, base string) {
	i := strings.LastIndex(p, "/")
	return p[:i+1], p[i+1:]
}

// uniqueName returns name, or name with a numeric suffix before its
// extension, whichever is not yet in used, and records it.
func uniqueName(name string, used map[string]bool) string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for n := 2; used[name]; n++ {
		name = fmt.Sprintf("%s-%d%s", stem, n, ext)
	}
	used[name] = true
	return name
}

// GenerateOptions tune Generate.
type GenerateOptions struct {
	// Form is the canonical form the ciphertexts are signed in: FormJava or
	// FormPython writes for that reference client (Python cannot verify
	// ECDSA, so those scenarios are then skipped); FormDefault is ours.
	Form itemcrypto.Form
}

//go:embed divergent-plaintext.json
var divergentPlaintext []byte

// divergentRef names the embedded plaintext of the divergent scenario.
const divergentRef = "file://divergent-plaintext.json"

// embedded are the files Generate writes from the binary, by reference.
var embedded = map[string][]byte{divergentRef: divergentPlaintext}

// ecdsaVariants are the extra ECDSA scenarios: key name prefix, curve and
// the Java client's algorithm name.
var ecdsaVariants = []struct {
	name  string
	curve elliptic.Curve
	alg   string
}{
	{"ecdsaP256", elliptic.P256(), cmp.ECDSAWithSHA256},
	{"ecdsaP384", elliptic.P384(), cmp.ECDSAWithSHA384},
	{"ecdsaP521", elliptic.P521(), cmp.ECDSAWithSHA512},
}

// withExtras returns a copy of s that also has fresh EC keys, and the extra
// scenarios Generate writes beside the suite's own: "divergent" (static
// AES + HMAC over signed values whose canonical form differs between the
// Java and the Python client) and one static AES + ECDSA scenario per curve
// on the suite's v1 plaintext. They need the suite's aesKey and hmacKey.
func (s *Suite) withExtras(form itemcrypto.Form) (*Suite, []Scenario, error) {
	c := *s
	c.Keys = maps.Clone(s.Keys)
	c.plaintext = maps.Clone(s.plaintext)
	if _, ok := s.Keys["aesKey"]; !ok {
		return &c, nil, nil
	}
	var pf PlaintextFile
	if err := json.Unmarshal(divergentPlaintext, &pf); err != nil {
		return nil, nil, fmt.Errorf("vectors: divergent plaintext: %w", err)
	}
	c.plaintext[divergentRef] = &pf
	extras := []Scenario{{
		Version: "divergent", Provider: "static", Keys: map[string]string{"decrypt": "aesKey", "verify": "hmacKey"},
		Plaintext: divergentRef, Ciphertext: "file://ciphertext/divergent-static-aes-hmac.json", extra: true,
	}}
	for _, v := range ecdsaVariants {
		priv, err := ecdsa.GenerateKey(v.curve, crand.Reader)
		if err != nil {
			return nil, nil, err
		}
		privDER, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, nil, err
		}
		pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			return nil, nil, err
		}
		c.Keys[v.name+"Priv"] = Key{Material: base64.StdEncoding.EncodeToString(privDER), Algorithm: v.alg, Encoding: "DER", Type: "private"}
		c.Keys[v.name+"Pub"] = Key{Material: base64.StdEncoding.EncodeToString(pubDER), Algorithm: v.alg, Encoding: "DER", Type: "public"}
		extras = append(extras, Scenario{
			Version: "v1", Provider: "static", Plaintext: s.Manifest.Plaintext,
			Keys:       map[string]string{"decrypt": "aesKey", "sign": v.name + "Priv", "verify": v.name + "Pub"},
			Ciphertext: "file://ciphertext/static-aes-" + strings.ToLower(v.name) + ".json", extra: true,
		})
	}
	return &c, extras, nil
}

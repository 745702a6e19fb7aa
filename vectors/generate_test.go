package vectors

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// supportedShared is how many scenarios of the shared manifest this build
// runs offline: static, wrapped and most_recent (MetaStore).
const supportedShared = 9

// extraScenarios are Generate's own: divergent, and ECDSA on three curves.
const extraScenarios = 4

func TestGenerate(t *testing.T) {
	ctx := context.Background()
	src, err := Load(sharedManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	written, skipped, err := src.Generate(ctx, out)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if len(written) != supportedShared+extraScenarios {
		t.Errorf("Generate wrote %d scenarios %q, want %d", len(written), written, supportedShared+extraScenarios)
	}
	if got, want := len(written)+len(skipped), len(src.Manifest.Scenarios)+extraScenarios; got != want {
		t.Errorf("written %d + skipped %d = %d, want the %d scenarios of the manifest", len(written), len(skipped), got, want)
	}
	for _, s := range skipped {
		if !strings.Contains(s, ": ") {
			t.Errorf("skipped entry %q gives no reason", s)
		}
	}

	// keys.json holds every key of the source, unchanged, and the EC keys.
	var genKeys map[string]Key
	if err := readJSON(filepath.Join(out, "keys.json"), &genKeys); err != nil {
		t.Fatal(err)
	}
	for name, k := range src.Keys {
		if genKeys[name] != k {
			t.Errorf("keys.json: key %q differs from the source's", name)
		}
	}
	if len(genKeys) != len(src.Keys)+2*len(ecdsaVariants) {
		t.Errorf("keys.json has %d keys, want %d", len(genKeys), len(src.Keys)+2*len(ecdsaVariants))
	}
	// The plaintext file is a byte-for-byte copy.
	for name, ref := range map[string]string{"plaintext.json": src.Manifest.Plaintext} {
		want, err := os.ReadFile(src.Path(ref))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not a copy of %s", name, ref)
		}
	}

	gen, err := Load(filepath.Join(out, "scenarios.json"))
	if err != nil {
		t.Fatalf("Load(generated): %v", err)
	}
	if len(gen.Manifest.Scenarios) != supportedShared+extraScenarios {
		t.Fatalf("generated manifest has %d scenarios, want %d", len(gen.Manifest.Scenarios), supportedShared+extraScenarios)
	}
	passed := 0
	for i := range gen.Manifest.Scenarios {
		sc := &gen.Manifest.Scenarios[i]
		for _, ref := range []string{sc.Plaintext, sc.Ciphertext} {
			if !strings.HasPrefix(ref, "file://") || filepath.IsAbs(strings.TrimPrefix(ref, "file://")) {
				t.Errorf("%s: reference %q is not a relative file:// reference", sc.Name(), ref)
			}
		}
		if !strings.HasPrefix(sc.Name(), "go/") {
			t.Errorf("generated scenario named %q, want go/...", sc.Name())
		}
		r := gen.Run(ctx, sc, RunOptions{})
		t.Logf("%s %s: %s decrypted=%d roundtrip=%d unmatched=%d", r.Outcome, sc.Name(), r.Reason, r.Decrypted, r.RoundTrip, r.Unmatched)
		if r.Outcome != Passed {
			t.Errorf("%s: %v: %s", sc.Name(), r.Outcome, r.Reason)
			continue
		}
		if r.Unmatched != 0 {
			t.Errorf("%s: %d unmatched ciphertext items, want 0", sc.Name(), r.Unmatched)
		}
		passed++
	}
	if passed != supportedShared+extraScenarios {
		t.Errorf("%d generated scenarios passed, want %d", passed, supportedShared+extraScenarios)
	}

	// Fresh content keys and IVs: every encrypted attribute differs from the
	// original ciphertext of the same item.
	for i := range gen.Manifest.Scenarios[:supportedShared] {
		sc := &gen.Manifest.Scenarios[i]
		orig := originalScenario(t, src, sc)
		compareCiphertexts(t, src, orig, gen, sc)
	}
}

// originalScenario finds the source scenario a generated one came from.
func originalScenario(t *testing.T, src *Suite, gen *Scenario) *Scenario {
	t.Helper()
	base := filepath.Base(strings.TrimPrefix(gen.Ciphertext, "file://"))
	for i := range src.Manifest.Scenarios {
		sc := &src.Manifest.Scenarios[i]
		if filepath.Base(strings.TrimPrefix(sc.Ciphertext, "file://")) == base {
			return sc
		}
	}
	t.Fatalf("no source scenario for %s", gen.Name())
	return nil
}

func compareCiphertexts(t *testing.T, src *Suite, orig *Scenario, gen *Suite, sc *Scenario) {
	t.Helper()
	ob, err := os.ReadFile(src.Path(orig.Ciphertext))
	if err != nil {
		t.Fatal(err)
	}
	gb, err := os.ReadFile(gen.Path(sc.Ciphertext))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ob, gb) {
		t.Errorf("%s: generated ciphertext file equals the original", sc.Name())
	}
	origItems := readTables(t, ob)
	genItems := readTables(t, gb)
	if len(genItems) != len(origItems) {
		t.Errorf("%s: %d tables, original has %d", sc.Name(), len(genItems), len(origItems))
	}
	pf, err := gen.PlaintextFile(sc.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := pf.ExpectedItems(sc.Version)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := 0
	for table, items := range genItems {
		for _, g := range items {
			e := match(exp, table, g)
			if e == nil {
				t.Errorf("%s: generated %s item matches no plaintext item", sc.Name(), table)
				continue
			}
			var o map[string]types.AttributeValue
			for _, cand := range origItems[table] {
				if match([]Expected{*e}, table, cand) != nil {
					o = cand
					break
				}
			}
			if o == nil {
				continue // the original file lacks this item
			}
			pol, err := pf.Policy(e.ActionSet, e.Index)
			if err != nil {
				t.Fatal(err)
			}
			for name, gv := range g {
				if actions.IsReserved(name) || pol.Action(name) != actions.EncryptAndSign {
					continue
				}
				encrypted++
				if ddbjson.Equal(gv, o[name], func(s string) (string, error) { return s, nil }) {
					t.Errorf("%s: %s item attribute %q: ciphertext equals the original's", sc.Name(), table, name)
				}
			}
		}
	}
	if encrypted == 0 {
		t.Errorf("%s: no encrypted attribute compared", sc.Name())
	}
}

func readTables(t *testing.T, b []byte) map[string][]map[string]types.AttributeValue {
	t.Helper()
	var raw map[string][]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]map[string]types.AttributeValue, len(raw))
	for table, items := range raw {
		for _, r := range items {
			item, err := ddbjson.UnmarshalItem(r)
			if err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], item)
		}
	}
	return out
}

func TestGenerateRefusesSourceDir(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "scenarios.json")
	for name, body := range map[string]string{
		"scenarios.json": `{"plaintext": "file://plaintext.json", "keys": "file://keys.json", "scenarios": []}`,
		"keys.json":      `{}`,
		"plaintext.json": `{}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Load(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.Generate(context.Background(), dir); err == nil {
		t.Fatal("Generate into the manifest's own directory succeeded, want an error")
	}
	if _, _, err := src.Generate(context.Background(), filepath.Join(dir, ".")); err == nil {
		t.Fatal("Generate into the manifest's own directory (spelled dir/.) succeeded, want an error")
	}
}

func TestCiphertextName(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range []struct{ ref, want string }{
		{"file://ciphertext/python/static-aes-hmac-1.json", "static-aes-hmac-1.json"},
		{"file://ciphertext/java/static-aes-hmac-1.json", "java-static-aes-hmac-1.json"},
		{"file://other/java/static-aes-hmac-1.json", "java-static-aes-hmac-1-2.json"},
		{"file://x.json", "x.json"},
		{"file://x.json", "x-2.json"},
	} {
		if got := ciphertextName(tc.ref, used); got != tc.want {
			t.Errorf("ciphertextName(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// TestGenerateFor writes for each reference reader and checks that our
// reader verifies everything, that each divergent item is signed in that
// reader's form (and so fails in the other's), and that Python gets no
// ECDSA scenario.
func TestGenerateFor(t *testing.T) {
	ctx := context.Background()
	src, err := Load(sharedManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		form   itemcrypto.Form
		extras int
	}{{itemcrypto.FormJava, extraScenarios}, {itemcrypto.FormPython, 1}} {
		t.Run(c.form.String(), func(t *testing.T) {
			out := t.TempDir()
			written, _, err := src.Generate(ctx, out, func(o *GenerateOptions) { o.Form = c.form })
			if err != nil {
				t.Fatal(err)
			}
			if len(written) != supportedShared+c.extras {
				t.Fatalf("wrote %q", written)
			}
			gen, err := Load(filepath.Join(out, "scenarios.json"))
			if err != nil {
				t.Fatal(err)
			}
			for i := range gen.Manifest.Scenarios {
				sc := &gen.Manifest.Scenarios[i]
				if r := gen.Run(ctx, sc, RunOptions{}); r.Outcome != Passed {
					t.Errorf("%s: %v %s", sc.Name(), r.Outcome, r.Reason)
				}
			}
			// The divergent items verify in the form written for, and not
			// in the other reference's.
			var tables map[string][]json.RawMessage
			if err := readJSON(filepath.Join(out, "ciphertext", "go", "divergent-static-aes-hmac.json"), &tables); err != nil {
				t.Fatal(err)
			}
			other := itemcrypto.FormPython
			if c.form == itemcrypto.FormPython {
				other = itemcrypto.FormJava
			}
			h, err := cmp.NewInsecureHMACKey("HmacSHA256", []byte{0, 1, 2, 3, 4, 5, 6, 7}) // the vectors' 8-byte hmacKey
			if err != nil {
				t.Fatal(err)
			}
			pf, _ := gen.PlaintextFile("file://divergent-plaintext.json")
			for i, raw := range tables["TableName"] {
				item, err := ddbjson.UnmarshalItem(raw)
				if err != nil {
					t.Fatal(err)
				}
				set := "sign"
				if _, ok := item["secret"]; ok {
					set = "mixed"
				}
				pol, _ := pf.Policy(set, Index{Partition: "hashKey", Sort: "rangeKey"})
				sig := item[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value
				for _, f := range []itemcrypto.Form{c.form, other} {
					sts, err := itemcrypto.StringToSignForm("TableName", item, pol, f)
					if err != nil {
						t.Fatal(err)
					}
					if ok := h.Verify(sts, sig, "") == nil; ok != (f == c.form) {
						t.Errorf("item %d: verifies in %v: %v", i, f, ok)
					}
				}
			}
		})
	}
}

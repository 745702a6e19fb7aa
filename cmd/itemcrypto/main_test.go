package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// runCLI runs the command tree in-process.
func runCLI(t testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// vectorsDir is the reference vectors' ddbec directory.
func vectorsDir(t *testing.T) string {
	t.Helper()
	return testenv.VectorsDir(t)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func countPrefix(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func TestVectorsRunShared(t *testing.T) {
	manifest := filepath.Join(vectorsDir(t), "encrypted_item", "scenarios.json")
	code, out, errOut := runCLI(t, "", "vectors", "run", manifest)
	t.Logf("output:\n%s", out)
	if code != 0 {
		t.Fatalf("exit status %d, want 0; stderr: %s", code, errOut)
	}
	if got, want := lastLine(out), "9 passed, 0 failed, 2 skipped"; got != want {
		t.Errorf("closing line %q, want %q", got, want)
	}
	if got := countPrefix(out, "PASS  python/"); got != 9 {
		t.Errorf("%d PASS lines, want 9", got)
	}
	if got := countPrefix(out, "SKIP  python/"); got != 2 {
		t.Errorf("%d SKIP lines, want 2 (the scenarios that need AWS's own KMS key)", got)
	}
	if !strings.Contains(out, "PASS  python/static-aes-hmac-1") || !strings.Contains(out, "static v0: 16 decrypted, 16 round-tripped") {
		t.Errorf("no PASS line for python/static-aes-hmac-1 in the expected format")
	}
	if errOut != "" {
		t.Errorf("stderr: %q, want nothing", errOut)
	}
}

// copyVectors copies the encrypted_item directory into a fresh directory.
func copyVectors(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "encrypted_item")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(vectorsDir(t), "encrypted_item"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestVectorsRunCorrupted(t *testing.T) {
	dir := copyVectors(t)
	path := filepath.Join(dir, "ciphertext", "python", "static-aes-hmac-1.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tables map[string][]map[string]map[string]any
	if err := json.Unmarshal(b, &tables); err != nil {
		t.Fatal(err)
	}
	sigAttr := tables["TableName"][0][itemcrypto.SignatureAttribute]
	sig, err := base64.StdEncoding.DecodeString(sigAttr["B"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	sigAttr["B"] = base64.StdEncoding.EncodeToString(sig)
	if b, err = json.Marshal(tables); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, _ := runCLI(t, "", "vectors", "run", filepath.Join(dir, "scenarios.json"))
	t.Logf("output:\n%s", out)
	if code == 0 {
		t.Errorf("exit status 0 with a corrupted signature, want non-zero")
	}
	if !strings.Contains(out, "FAIL  python/static-aes-hmac-1") || !strings.Contains(out, "item authentication failed") {
		t.Errorf("no FAIL line naming the authentication failure of python/static-aes-hmac-1")
	}
	if got, want := lastLine(out), "8 passed, 1 failed, 2 skipped"; got != want {
		t.Errorf("closing line %q, want %q", got, want)
	}
}

func TestVectorsRunMissingManifest(t *testing.T) {
	code, out, errOut := runCLI(t, "", "vectors", "run", filepath.Join(t.TempDir(), "nope.json"))
	if code == 0 {
		t.Errorf("exit status 0 for a missing manifest, want non-zero")
	}
	if out != "" || !strings.Contains(errOut, "nope.json") {
		t.Errorf("stdout %q, stderr %q: want the error on stderr only", out, errOut)
	}
}

func TestVectorsGenerateThenRun(t *testing.T) {
	manifest := filepath.Join(vectorsDir(t), "encrypted_item", "scenarios.json")
	// 9 of the manifest's scenarios and Go's own divergent and 3 ECDSA ones;
	// Python cannot verify ECDSA.
	for _, c := range []struct {
		forReader string
		written   int
	}{{"", 13}, {"java", 13}, {"python", 10}} {
		outDir := filepath.Join(t.TempDir(), "go-vectors")
		args := []string{"vectors", "generate", "--from", manifest, "--out", outDir}
		if c.forReader != "" {
			args = append(args, "--for", c.forReader)
		}
		code, out, errOut := runCLI(t, "", args...)
		t.Logf("output:\n%s", out)
		if code != 0 {
			t.Fatalf("generate --for %q: exit status %d; stderr: %s", c.forReader, code, errOut)
		}
		if got := countPrefix(out, "WROTE  go/"); got != c.written {
			t.Errorf("--for %q: %d WROTE lines, want %d", c.forReader, got, c.written)
		}
		code, out, errOut = runCLI(t, "", "vectors", "run", filepath.Join(outDir, "scenarios.json"))
		if code != 0 {
			t.Fatalf("run: exit status %d; stderr: %s\n%s", code, errOut, out)
		}
		if got, want := lastLine(out), fmt.Sprintf("%d passed, 0 failed, 0 skipped", c.written); got != want {
			t.Errorf("--for %q: closing line %q, want %q", c.forReader, got, want)
		}
	}
	if code, _, errOut := runCLI(t, "", "vectors", "generate", "--from", manifest, "--out", t.TempDir(), "--for", "go"); code == 0 || !strings.Contains(errOut, "java or python") {
		t.Errorf("--for go: exit %d, stderr %q", code, errOut)
	}
}

// keyMaterial returns every key's material in a key file.
func keyMaterial(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kf map[string]json.RawMessage
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, name := range []string{"encryptionKey", "signingKey", "privateKey", "publicKey", "beaconKey"} {
		var e struct{ Material []byte }
		if raw, ok := kf[name]; ok {
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e.Material)
		}
	}
	if len(out) == 0 {
		t.Fatalf("key file %s holds no key", path)
	}
	return out
}

// assertNoKeys fails if text shows any key in raw, base64 or hex form.
func assertNoKeys(t testing.TB, what, text string, keys [][]byte) {
	t.Helper()
	for _, k := range keys {
		forms := []string{string(k), base64.StdEncoding.EncodeToString(k), hex.EncodeToString(k)}
		// Long keys: any 12-byte window of their base64 form.
		b := base64.StdEncoding.EncodeToString(k)
		for i := 0; i+16 <= len(b); i += 4 {
			forms = append(forms, b[i:i+16])
		}
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("%s contains key material", what)
				return
			}
		}
	}
}

// keygen runs keygen --type typ, or for "TYPE/SIGN" --type TYPE --sign SIGN.
func keygen(t testing.TB, typ string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(typ, "/", "-")+".keys")
	args := []string{"keygen", "--out", path, "--type", typ}
	if kind, sign, ok := strings.Cut(typ, "/"); ok {
		args = []string{"keygen", "--out", path, "--type", kind, "--sign", sign}
	}
	code, out, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("keygen --type %s: exit status %d; stderr: %s", typ, code, errOut)
	}
	keys := keyMaterial(t, path)
	assertNoKeys(t, "keygen stdout", out, keys)
	assertNoKeys(t, "keygen stderr", errOut, keys)
	return path
}

func TestKeygen(t *testing.T) {
	for _, typ := range []string{"aes-hmac", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			path := keygen(t, typ)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("key file mode %04o, want 0600", got)
			}
			k, err := loadKeyFile(path, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("loadKeyFile: %v", err)
			}
			if k.Type() != typ {
				t.Errorf("loaded key file of type %q, want %q", k.Type(), typ)
			}
			if _, err := k.Provider("wrapped"); err != nil {
				t.Errorf("wrapped provider from a %s key file: %v", typ, err)
			}
			// No overwrite without --force.
			before, _ := os.ReadFile(path)
			if code, _, _ := runCLI(t, "", "keygen", "--out", path, "--type", typ); code == 0 {
				t.Errorf("keygen over an existing file succeeded without --force")
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("keygen without --force changed the existing file")
			}
			// --force replaces it, and a too-open mode does not survive.
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runCLI(t, "", "keygen", "--out", path, "--type", typ, "--force"); code != 0 {
				t.Fatalf("keygen --force: %s", errOut)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode after --force %04o, want 0600", fi.Mode().Perm())
			}
			if after, _ := os.ReadFile(path); bytes.Equal(before, after) {
				t.Errorf("keygen --force did not write new keys")
			}
		})
	}
	if code, _, _ := runCLI(t, "", "keygen", "--out", "-"); code == 0 {
		t.Errorf("keygen --out - succeeded; key material must never go to stdout")
	}
	if code, _, _ := runCLI(t, "", "keygen", "--out", filepath.Join(t.TempDir(), "k"), "--type", "dsa"); code == 0 {
		t.Errorf("keygen --type dsa succeeded")
	}
}

const sampleItem = `{
  "Item": {
    "pk": {"S": "user#1"},
    "sk": {"N": "7"},
    "ssn": {"S": "078-05-1120"},
    "profile": {"M": {"city": {"S": "London"}, "tags": {"SS": ["a", "b"]}}},
    "email": {"S": "ada@example.com"},
    "counter": {"N": "3"},
    "blob": {"B": "AAECAw=="}
  }
}`

func cryptArgs(cmd, keys string, extra ...string) []string {
	return append([]string{cmd, "--table", "users", "--partition-key", "pk", "--sort-key", "sk",
		"--sign", "email", "--nothing", "counter", "--keys", keys}, extra...)
}

func parseOutput(t *testing.T, out string) (map[string]types.AttributeValue, bool) {
	t.Helper()
	item, wrapped, err := parseItemInput([]byte(out), "pk")
	if err != nil {
		t.Fatalf("output is not an item: %v\n%s", err, out)
	}
	return item, wrapped
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	want, _, err := parseItemInput([]byte(sampleItem), "pk")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, provider string }{
		{"aes-hmac", "wrapped"}, {"aes-hmac", "static"}, {"rsa", "wrapped"},
		{"aes-hmac/ecdsa-p256", "static"}, {"aes-hmac/ecdsa-p384", "wrapped"}, {"aes-hmac/ecdsa-p521", "wrapped"},
	} {
		t.Run(tc.typ+"/"+tc.provider, func(t *testing.T) {
			keys := keygen(t, tc.typ)
			dir := t.TempDir()
			in := filepath.Join(dir, "item.json")
			if err := os.WriteFile(in, []byte(sampleItem), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "", cryptArgs("encrypt", keys, "--provider", tc.provider, in)...)
			if code != 0 {
				t.Fatalf("encrypt: exit status %d; stderr: %s", code, errOut)
			}
			if errOut != "" {
				t.Errorf("encrypt stderr: %q", errOut)
			}
			stored, wrapped := parseOutput(t, out)
			if !wrapped {
				t.Errorf("encrypt of a {\"Item\": ...} input printed a bare item")
			}
			for _, name := range []string{"ssn", "profile", "blob"} {
				if _, ok := stored[name].(*types.AttributeValueMemberB); !ok || ddbjson.Equal(stored[name], want[name], ddbserial.CanonicalNumber) {
					t.Errorf("stored %s is not a ciphertext", name)
				}
			}
			for _, name := range []string{"pk", "sk", "email", "counter"} {
				if !ddbjson.Equal(stored[name], want[name], ddbserial.CanonicalNumber) {
					t.Errorf("stored %s changed; want it in plaintext", name)
				}
			}
			for _, name := range []string{itemcrypto.MaterialDescriptionAttribute, itemcrypto.SignatureAttribute} {
				if _, ok := stored[name]; !ok {
					t.Errorf("stored item lacks %s", name)
				}
			}
			assertNoKeys(t, "encrypt output", out, keyMaterial(t, keys))

			ct := filepath.Join(dir, "stored.json")
			if err := os.WriteFile(ct, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = runCLI(t, "", cryptArgs("decrypt", keys, "--provider", tc.provider, ct)...)
			if code != 0 {
				t.Fatalf("decrypt: exit status %d; stderr: %s", code, errOut)
			}
			got, wrapped := parseOutput(t, out)
			if !wrapped {
				t.Errorf("decrypt of a {\"Item\": ...} input printed a bare item")
			}
			if !ddbjson.EqualItems(got, want, ddbserial.CanonicalNumber) {
				t.Errorf("decrypted item differs from the original:\n%s", out)
			}
			if _, sign, ok := strings.Cut(tc.typ, "/"); ok {
				// ECDSA: the description names the Java algorithm, and a key
				// file with another EC key does not verify the item.
				alg := map[string]string{"ecdsa-p256": "SHA256withECDSA", "ecdsa-p384": "SHA384withECDSA", "ecdsa-p521": "SHA512withECDSA"}[sign]
				desc, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
				if err != nil || desc[materialdesc.KeySigningAlg] != alg {
					t.Errorf("description %v, %v; want signingAlg %s", desc, err, alg)
				}
				other := keygen(t, tc.typ)
				if code, _, _ := runCLI(t, "", cryptArgs("decrypt", other, "--provider", tc.provider, ct)...); code == 0 {
					t.Error("decrypt with another EC key succeeded")
				}
			}
		})
	}
}

func TestEncryptDecryptStdinBareItem(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	bare := `{"pk": {"S": "a"}, "secret": {"S": "s3cr3t value"}}`
	code, out, errOut := runCLI(t, bare, "encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keys", keys)
	if code != 0 {
		t.Fatalf("encrypt: %s", errOut)
	}
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, `"Item"`) {
		t.Errorf("encrypt output shows the plaintext or is not a bare item:\n%s", out)
	}
	code, out, errOut = runCLI(t, out, "decrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keys", keys, "-")
	if code != 0 {
		t.Fatalf("decrypt: %s", errOut)
	}
	got, wrapped := parseOutput(t, out)
	want, _ := ddbjson.UnmarshalItem([]byte(bare))
	if wrapped || !ddbjson.EqualItems(got, want, ddbserial.CanonicalNumber) {
		t.Errorf("round trip through stdin: got\n%s", out)
	}
	// The wrong table name fails.
	_, enc, _ := runCLI(t, bare, "encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keys", keys)
	if code, _, _ := runCLI(t, enc, "decrypt", "--table", "other", "--partition-key", "pk", "--no-sort-key", "--keys", keys); code == 0 {
		t.Errorf("decrypt under another table name succeeded")
	}
}

func TestDecryptTampered(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	code, stored, errOut := runCLI(t, sampleItem, cryptArgs("encrypt", keys)...)
	if code != 0 {
		t.Fatalf("encrypt: %s", errOut)
	}
	item, _ := parseOutput(t, stored)
	tampers := map[string]func(map[string]types.AttributeValue){
		"sign-only changed": func(it map[string]types.AttributeValue) {
			it["email"] = &types.AttributeValueMemberS{Value: "eve@example.com"}
		},
		"ciphertexts swapped": func(it map[string]types.AttributeValue) { it["ssn"], it["blob"] = it["blob"], it["ssn"] },
		"attribute added":     func(it map[string]types.AttributeValue) { it["admin"] = &types.AttributeValueMemberBOOL{Value: true} },
		"attribute removed":   func(it map[string]types.AttributeValue) { delete(it, "ssn") },
		"signature removed":   func(it map[string]types.AttributeValue) { delete(it, itemcrypto.SignatureAttribute) },
		"sort key changed":    func(it map[string]types.AttributeValue) { it["sk"] = &types.AttributeValueMemberN{Value: "8"} },
	}
	for name, change := range tampers {
		t.Run(name, func(t *testing.T) {
			it := make(map[string]types.AttributeValue, len(item))
			for k, v := range item {
				it[k] = v
			}
			change(it)
			in, err := formatItem(it, true)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, string(in), cryptArgs("decrypt", keys)...)
			if code == 0 {
				t.Fatalf("decrypt of a tampered item succeeded:\n%s", out)
			}
			if code != exitAuth {
				t.Errorf("exit status %d, want %d", code, exitAuth)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			want := "Error: itemcrypto: item authentication failed\n" + authHint + "\n"
			if name == "signature removed" {
				want = "Error: itemcrypto: item authentication failed: the item has no signature (no binary *amzn-ddb-map-sig* attribute)\n" + authHint + "\n"
			}
			if errOut != want {
				t.Errorf("stderr %q, want %q", errOut, want)
			}
		})
	}
	// A do-nothing attribute may change.
	item["counter"] = &types.AttributeValueMemberN{Value: "4"}
	in, _ := formatItem(item, false)
	if code, _, errOut := runCLI(t, string(in), cryptArgs("decrypt", keys)...); code != 0 {
		t.Errorf("decrypt after changing a do-nothing attribute failed: %s", errOut)
	}
}

func TestKeyFilePermissionWarning(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	if err := os.Chmod(keys, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, sampleItem, cryptArgs("encrypt", keys)...)
	if code != 0 {
		t.Fatalf("encrypt with a 0644 key file failed (it should only warn): %s", errOut)
	}
	if !strings.Contains(errOut, "Warning") || !strings.Contains(errOut, "0644") {
		t.Errorf("stderr %q: want a warning about mode 0644", errOut)
	}
	assertNoKeys(t, "warning", errOut, keyMaterial(t, keys))
	if _, wrapped := parseOutput(t, out); !wrapped {
		t.Errorf("no item on stdout")
	}
}

func TestCryptErrors(t *testing.T) {
	aesKeys := keygen(t, "aes-hmac")
	rsaKeys := keygen(t, "rsa")
	bad := filepath.Join(t.TempDir(), "bad.keys")
	if err := os.WriteFile(bad, []byte(`{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "encryptionKey": {"algorithm": "AES", "material": "c2VjcmV0IQ=="}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string // stderr, "" where it is not pinned here
	}{
		{"missing table", sampleItem, []string{"encrypt", "--partition-key", "pk", "--keys", aesKeys}, "Error: required flag(s) \"table\" not set\n"},
		{"missing keys", sampleItem, []string{"encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key"},
			"Error: name the keys: --keys FILE (from itemcrypto keygen) or --keyset FILE --insecure (from itemcrypto keyset new)\n"},
		{"keys and keyset", sampleItem, cryptArgs("encrypt", aesKeys, "--keyset", aesKeys, "--insecure"),
			"Error: --keys and --keyset exclude each other: name one set of keys\n"},
		{"keyset without insecure", sampleItem, []string{"encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keyset", aesKeys},
			"Error: --keyset: keyset files hold cleartext key material: pass --insecure to use one (in production, keep keysets encrypted under a KMS key)\n"},
		{"keyset with provider", sampleItem, []string{"encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keyset", aesKeys, "--insecure", "--provider", "static"},
			"Error: --provider is for --keys; a --keyset always uses the Tink provider\n"},
		{"two actions", sampleItem, cryptArgs("encrypt", aesKeys, "--encrypt", "email"),
			"Error: attribute \"email\" is named by both --encrypt and --sign: give it one action\n"},
		{"encrypted key", sampleItem, cryptArgs("encrypt", aesKeys, "--encrypt", "pk"),
			"Error: actions: attribute \"pk\": primary-key attributes cannot be encrypted\n"},
		{"bad default action", sampleItem, cryptArgs("encrypt", aesKeys, "--default-action", "hide"),
			"Error: --default-action: unknown action \"hide\" (want encrypt, sign or nothing)\n"},
		{"DB-ESDK default action", sampleItem, cryptArgs("encrypt", aesKeys, "--default-action", "context"),
			"Error: --default-action: unknown action \"context\" (want encrypt, sign or nothing)\n"},
		{"static with rsa", sampleItem, cryptArgs("encrypt", rsaKeys, "--provider", "static"),
			"Error: --provider: the static provider needs an aes-hmac key file\n"},
		{"unknown provider", sampleItem, cryptArgs("encrypt", aesKeys, "--provider", "kms"),
			"Error: --provider: unknown provider \"kms\" (want wrapped or static)\n"},
		{"bad key file", sampleItem, cryptArgs("encrypt", bad),
			"Error: key file " + bad + ": invalid key file: an aes-hmac key file needs encryptionKey and signingKey\n"},
		{"not JSON", "nope", cryptArgs("encrypt", aesKeys), "Error: input: not JSON (syntax error at byte 2)\n"},
		{"plain JSON", `{"pk": "a"}`, cryptArgs("encrypt", aesKeys),
			"Error: input: not a DynamoDB JSON value: attribute \"pk\": want a DynamoDB attribute value such as {\"S\": \"text\"}, not a JSON string (is this plain JSON?) (at byte 8)\n"},
		{"unknown type key", `{"pk": {"STRING": "a"}}`, cryptArgs("encrypt", aesKeys),
			"Error: input: not a DynamoDB JSON value: attribute \"pk\": unknown type key \"STRING\" (want S, N, B, BOOL, NULL, SS, NS, BS, L or M) (at byte 9)\n"},
		{"no partition key", `{"x": {"S": "y"}}`, cryptArgs("encrypt", aesKeys),
			"Error: itemcrypto: attribute \"pk\" (SignOnly): key attribute missing\n"},
		{"empty input", "", cryptArgs("encrypt", aesKeys), "Error: stdin: no item (want DynamoDB JSON)\n"},
		{"plaintext item", `{"pk": {"S": "a"}, "sk": {"N": "1"}}`, cryptArgs("decrypt", aesKeys),
			"Error: itemcrypto: item authentication failed: not an encrypted item (it has no *amzn-ddb-map-sig* and no *amzn-ddb-map-desc* attribute)\n" + notEncryptedHint + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if code == 0 {
				t.Fatalf("exit status 0, want non-zero; stdout:\n%s", out)
			}
			if out != "" || !strings.HasPrefix(errOut, "Error: ") {
				t.Errorf("stdout %q, stderr %q: want only an error on stderr", out, errOut)
			}
			if tc.want != "" && errOut != tc.want {
				t.Errorf("stderr %q;\nwant   %q", errOut, tc.want)
			}
			if strings.Contains(errOut, "c2VjcmV0") {
				t.Errorf("stderr quotes the key file: %q", errOut)
			}
		})
	}
}

func TestParseItemInput(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		wantWrapped bool
		wantAttrs   int
	}{
		{"bare", `{"pk": {"S": "a"}, "x": {"N": "1"}}`, false, 2},
		{"get-item", `{"Item": {"pk": {"S": "a"}, "x": {"N": "1"}}}`, true, 2},
		{"get-item with capacity", `{"Item": {"pk": {"S": "a"}}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}`, true, 1},
		{"bare item with an attribute named Item", `{"pk": {"S": "a"}, "Item": {"M": {"pk": {"S": "b"}}}}`, false, 2},
		{"bare item whose only attribute is Item", `{"Item": {"S": "a"}}`, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			item, wrapped, err := parseItemInput([]byte(tc.in), "pk")
			if err != nil {
				t.Fatal(err)
			}
			if wrapped != tc.wantWrapped || len(item) != tc.wantAttrs {
				t.Errorf("got wrapped=%v with %d attributes, want %v with %d", wrapped, len(item), tc.wantWrapped, tc.wantAttrs)
			}
		})
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI(t, "", "demo")
	if code != 0 {
		t.Fatalf("demo: exit status %d; stderr: %s\n%s", code, errOut, out)
	}
	if got := strings.Count(out, "rejected: itemcrypto: item authentication failed"); got != 5 {
		t.Errorf("%d tamper cases rejected with the authentication error, want 5 (4 DDBEC, 1 DB-ESDK):\n%s", got, out)
	}
	if got := strings.Count(out, "accepted"); got != 1 {
		t.Errorf("%d tamper cases accepted, want 1 (the do-nothing attribute)", got)
	}
	if got := strings.Count(out, "match the plaintext"); got != 4 {
		t.Errorf("%d items decrypted and matched, want 4 (3 DDBEC, 1 DB-ESDK)", got)
	}
	for _, want := range []string{"aws_dbe_head", "aws_dbe_foot", "legacy override"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output does not show %q", want)
		}
	}
	for _, want := range []string{"swap", "sign-only email", "add an attribute", "do-nothing login_count"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output does not mention %q", want)
		}
	}
	if !strings.HasSuffix(out, "\n"+demoNext+"\n") {
		t.Errorf("demo does not end with the next step %q", demoNext)
	}
	if lines := strings.Count(out, "\n"); lines > 80 {
		t.Errorf("demo prints %d lines; keep it short", lines)
	}
}

// TestDemoPrintsNoKeys runs the demo with known keys and looks for them.
func TestDemoPrintsNoKeys(t *testing.T) {
	seed := [32]byte{1, 2, 3}
	keyStream := func() *rand.ChaCha8 { return rand.NewChaCha8(seed) }
	keys := make([]byte, 96)
	keyStream().Read(keys)
	var out bytes.Buffer
	if err := runDemo(context.Background(), &out, keyStream()); err != nil {
		t.Fatal(err)
	}
	assertNoKeys(t, "demo output", out.String(), [][]byte{keys[:32], keys[32:64], keys[64:]})
}

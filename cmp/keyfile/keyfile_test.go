package keyfile_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func writeFile(t *testing.T, b []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// roundTrip encrypts and decrypts an item with p.
func roundTrip(t *testing.T, enc, dec cmp.Provider) {
	t.Helper()
	ctx := context.Background()
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	e, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: enc})
	if err != nil {
		t.Fatal(err)
	}
	d, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: dec})
	if err != nil {
		t.Fatal(err)
	}
	item := itemcrypto.Item{"id": &types.AttributeValueMemberS{Value: "a"}, "card": &types.AttributeValueMemberS{Value: "4111"}}
	stored, err := e.Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["card"].(*types.AttributeValueMemberB); !ok {
		t.Fatalf("card stored as %T, want ciphertext", stored["card"])
	}
	got, err := d.Decrypt(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	if got["card"].(*types.AttributeValueMemberS).Value != "4111" {
		t.Fatal("round trip changed card")
	}
}

func TestGenerateLoadProvider(t *testing.T) {
	for _, typ := range keyfile.Types() {
		t.Run(typ, func(t *testing.T) {
			b, err := keyfile.Generate(typ, crand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			path := writeFile(t, b, 0o600)
			var warn bytes.Buffer
			k, err := keyfile.Load(path, func(o *keyfile.Options) { o.Warn = &warn })
			if err != nil {
				t.Fatal(err)
			}
			if warn.Len() != 0 {
				t.Errorf("warning for a 0600 file: %q", warn.String())
			}
			if k.Type() != typ {
				t.Errorf("Type() = %q, want %q", k.Type(), typ)
			}
			if typ == "beacon" {
				return // no provider: TestBeaconKeyFile
			}
			p, err := k.Provider(keyfile.Wrapped)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, p, p)
			// Another file of the same type does not read the items.
			other, _ := keyfile.Generate(typ, crand.Reader)
			ok, err := keyfile.Parse(other)
			if err != nil {
				t.Fatal(err)
			}
			op, _ := ok.Provider(keyfile.Wrapped)
			pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
			e, _ := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: p})
			d, _ := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: op})
			stored, err := e.Encrypt(context.Background(), itemcrypto.Item{"id": &types.AttributeValueMemberS{Value: "a"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Decrypt(context.Background(), stored); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("another key file decrypted the item: %v", err)
			}
			for _, v := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", k)} {
				if v != "keyfile.Keys("+typ+", redacted)" {
					t.Errorf("Keys formats as %q", v)
				}
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "keys", k)
			slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "keys", k)
			// No string of the file (its keys, base64 or PEM) reaches the log.
			var file any
			if err := json.Unmarshal(b, &file); err != nil {
				t.Fatal(err)
			}
			secrets := 0
			for path, s := range stringLeaves("", file) {
				if len(s) < 32 {
					continue // "format", "type", algorithm names
				}
				secrets++
				if strings.Contains(logged.String(), s[len(s)/2:]) {
					t.Errorf("%s of the key file reached the log", path)
				}
			}
			if secrets == 0 {
				t.Fatal("found no key material in the generated file")
			}
			if !strings.Contains(logged.String(), `"keys":{"type":"`+typ+`","redacted":true}`) || !strings.Contains(logged.String(), "keys.type="+typ) {
				t.Errorf("log lines: %s", logged.String())
			}
		})
	}
}

// TestECDSAKeyFiles: an aes-ecdsa-* file signs with its curve's Java
// algorithm, with both providers, and refuses a key of another curve.
func TestECDSAKeyFiles(t *testing.T) {
	for typ, alg := range map[string]string{"aes-ecdsa-p256": "SHA256withECDSA", "aes-ecdsa-p384": "SHA384withECDSA", "aes-ecdsa-p521": "SHA512withECDSA"} {
		b, err := keyfile.Generate(typ, crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"algorithm": "`+alg+`"`) {
			t.Errorf("%s: signingKey is not %s", typ, alg)
		}
		k, err := keyfile.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []keyfile.ProviderKind{keyfile.Static, keyfile.Wrapped} {
			p, err := k.Provider(kind)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, p, p)
		}
		// The P-256 file's key under another type's name is refused.
		if typ != "aes-ecdsa-p256" {
			p256, _ := keyfile.Generate("aes-ecdsa-p256", crand.Reader)
			bad := strings.Replace(string(p256), `"aes-ecdsa-p256"`, `"`+typ+`"`, 1)
			if _, err := keyfile.Parse([]byte(bad)); !errors.Is(err, keyfile.ErrInvalid) {
				t.Errorf("%s with a P-256 key: %v", typ, err)
			}
		}
	}
}

func TestStaticProvider(t *testing.T) {
	b, _ := keyfile.Generate("aes-hmac", crand.Reader)
	k, err := keyfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.Provider(keyfile.Static)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, p, p)
	rb, _ := keyfile.Generate("rsa", crand.Reader)
	rk, _ := keyfile.Parse(rb)
	if _, err := rk.Provider(keyfile.Static); err == nil || err.Error() != "keyfile: the static provider needs an aes-hmac key file" {
		t.Errorf("static from rsa: %v", err)
	}
	if _, err := k.Provider("kms"); err == nil || err.Error() != `keyfile: unknown provider "kms" (want wrapped or static)` {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestPermissionWarning(t *testing.T) {
	b, _ := keyfile.Generate("aes-hmac", crand.Reader)
	path := writeFile(t, b, 0o644)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	if _, err := keyfile.Load(path, func(o *keyfile.Options) { o.Warn = &warn }); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Warning: key file %s has mode 0644: other users may read or change it; run chmod 600 %s\n", path, path)
	if warn.String() != want {
		t.Errorf("warning %q, want %q", warn.String(), want)
	}
}

// TestRSAFileParts: the private key alone is a working file; the public
// key alone is refused (it neither signs nor unwraps).
func TestRSAFileParts(t *testing.T) {
	b, _ := keyfile.Generate("rsa", crand.Reader)
	full, _ := keyfile.Parse(b)
	s := string(b)
	i := strings.Index(s, `"privateKey"`)
	j := strings.Index(s, `"publicKey"`)
	_, err := keyfile.Parse([]byte(s[:i] + s[j:]))
	if want := "key file: invalid key file: an rsa key file needs privateKey (publicKey is optional)"; err == nil || err.Error() != want {
		t.Errorf("public key only: %v; want %s", err, want)
	}
	privOnly := strings.TrimSuffix(strings.TrimSpace(s[:j]), ",") + "\n}"
	k, err := keyfile.Parse([]byte(privOnly))
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := k.Provider(keyfile.Wrapped)
	dec, _ := full.Provider(keyfile.Wrapped)
	roundTrip(t, enc, dec)
}

// TestParseErrors pins each message: it names the field or the offset,
// never the content.
func TestParseErrors(t *testing.T) {
	key32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))
	key8 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 8))
	aes := func(enc, sig string) string {
		return `{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "encryptionKey": ` + enc + `, "signingKey": ` + sig + `}`
	}
	good := `{"algorithm": "AES", "material": "` + key32 + `"}`
	mac := func(m string) string { return `{"algorithm": "HmacSHA256", "material": "` + m + `"}` }
	for _, tc := range []struct {
		name, in, want string
	}{
		{"syntax", `{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "encryptionKey": {"material": "c2Vj` + "\x01" + `"}}`,
			"key file: invalid key file: not JSON (syntax error at byte 89)"},
		{"truncated", `{"format": "itemcrypto-keys-v1", "type": "aes`, "key file: invalid key file: not JSON (it ends too early)"},
		{"material not a string", aes(`{"algorithm": "AES", "material": 12}`, mac(key32)),
			"key file: invalid key file: encryptionKey.material: want a JSON string, not a number (at byte 105)"},
		{"bad base64", aes(good, mac("c2Vj!!cmV0")), "key file: invalid key file: signingKey.material: not standard base64 (bad input at character 4)"},
		{"format", `{"format": "v0", "type": "aes-hmac"}`, `key file: invalid key file: format is not "itemcrypto-keys-v1" (make one with itemcrypto keygen)`},
		{"type", `{"format": "itemcrypto-keys-v1", "type": "dsa"}`, `key file: invalid key file: unknown type "dsa" (want aes-hmac, rsa, aes-ecdsa-p256, aes-ecdsa-p384, aes-ecdsa-p521 or beacon)`},
		{"missing key", `{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "encryptionKey": ` + good + `}`,
			"key file: invalid key file: an aes-hmac key file needs encryptionKey and signingKey"},
		{"foreign field", `{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "publicKey": ` + good + `}`,
			"key file: invalid key file: key type aes-hmac has no publicKey"},
		{"short AES", aes(`{"algorithm": "AES", "material": "`+key8+`"}`, mac(key32)),
			`key file: invalid key file: encryptionKey must be a 32-byte AES key (algorithm "AES"), not 8 bytes`},
		{"short HMAC", aes(good, mac(key8)),
			"key file: invalid key file: signingKey: cmp: invalid key: HMAC key of 8 bytes is too short (want at least 16; NewInsecureHMACKey reads items of shorter keys)"},
		{"HMAC algorithm", aes(good, `{"algorithm": "HmacMD5", "material": "`+key32+`"}`),
			`key file: invalid key file: signingKey: cmp: unsupported algorithm: HMAC algorithm "HmacMD5" (want HmacSHA256, HmacSHA224, HmacSHA384 or HmacSHA512)`},
		{"rsa empty", `{"format": "itemcrypto-keys-v1", "type": "rsa"}`, "key file: invalid key file: an rsa key file needs privateKey (publicKey is optional)"},
		{"too large", strings.Repeat(" ", keyfile.MaxSize+1), "key file: invalid key file: larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keyfile.Parse([]byte(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Parse error = %v;\nwant %s", err, tc.want)
			}
			if !errors.Is(err, keyfile.ErrInvalid) {
				t.Errorf("error does not match ErrInvalid")
			}
			for _, secret := range []string{key32, key8, "c2Vj"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes key material")
				}
			}
		})
	}
	path := filepath.Join(t.TempDir(), "nope.json")
	if _, err := keyfile.Load(path); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "key file: open ") {
		t.Errorf("Load(missing) = %v", err)
	}
	p := writeFile(t, []byte(`{"format": "v0"}`), 0o600)
	if _, err := keyfile.Load(p); err == nil || err.Error() != "key file "+p+`: invalid key file: format is not "itemcrypto-keys-v1" (make one with itemcrypto keygen)` {
		t.Errorf("Load names the path: %v", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := keyfile.Generate("dsa", crand.Reader); err == nil || err.Error() != `keyfile: unknown key type "dsa" (want aes-hmac, rsa, aes-ecdsa-p256, aes-ecdsa-p384, aes-ecdsa-p521 or beacon)` {
		t.Errorf("Generate(dsa) = %v", err)
	}
	if _, err := keyfile.Generate("aes-hmac", bytes.NewReader(make([]byte, 10))); err == nil || !strings.HasPrefix(err.Error(), "keyfile: generating aes-hmac keys: ") {
		t.Errorf("Generate with a short reader = %v", err)
	}
	if keyfile.Describe("aes-hmac") == "" || keyfile.Describe("dsa") != "" {
		t.Errorf("Describe")
	}
}

// FuzzParse: no input panics, and an error never quotes the input's base64
// material.
func FuzzParse(f *testing.F) {
	b, _ := keyfile.Generate("aes-hmac", crand.Reader)
	f.Add(b)
	f.Add([]byte(`{"format": "itemcrypto-keys-v1", "type": "rsa", "publicKey": {"material": "AAAA"}}`))
	f.Add([]byte(`{"format": "itemcrypto-keys-v1", "type": "aes-hmac", "signingKey": {"material": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keyfile.Parse(data)
		if err == nil {
			if _, err := k.Provider(keyfile.Wrapped); err != nil {
				t.Fatalf("parsed keys make no wrapped provider: %v", err)
			}
			return
		}
		if !errors.Is(err, keyfile.ErrInvalid) {
			t.Fatalf("error %v does not match ErrInvalid", err)
		}
	})
}

// stringLeaves returns the string values of a decoded JSON document by path.
func stringLeaves(path string, v any) map[string]string {
	out := map[string]string{}
	switch v := v.(type) {
	case string:
		out[path] = v
	case map[string]any:
		for k, c := range v {
			maps.Copy(out, stringLeaves(path+"."+k, c))
		}
	case []any:
		for i, c := range v {
			maps.Copy(out, stringLeaves(fmt.Sprintf("%s[%d]", path, i), c))
		}
	}
	return out
}

// A beacon key file holds one 32-byte beacon key and nothing else; other
// files hold none.
func TestBeaconKeyFile(t *testing.T) {
	b, err := keyfile.Generate("beacon", crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keyfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	key, err := k.BeaconKey()
	if err != nil || len(key) != 32 {
		t.Fatalf("BeaconKey = %d bytes, %v", len(key), err)
	}
	again, _ := k.BeaconKey()
	key[0] ^= 1
	if again[0] == key[0] {
		t.Fatal("BeaconKey returned the key itself, not a copy")
	}
	if _, err := k.Provider(keyfile.Wrapped); err == nil {
		t.Fatal("a beacon key file made a provider")
	}
	other, err := keyfile.Generate("aes-hmac", crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := keyfile.Parse(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.BeaconKey(); err == nil {
		t.Fatal("an aes-hmac file gave a beacon key")
	}
	bad := bytes.Replace(b, []byte(`"BeaconKey"`), []byte(`"AES"`), 1)
	if _, err := keyfile.Parse(bad); !errors.Is(err, keyfile.ErrInvalid) {
		t.Fatalf("wrong algorithm: %v", err)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// keysetKeys returns the key material of a keyset file: each key's
// serialized key data and, within it, the raw key (its last 32 bytes for
// AES-256-GCM).
func keysetKeys(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("keyset file %s does not parse: %v", path, err)
	}
	var out [][]byte
	for _, k := range insecurecleartextkeyset.KeysetMaterial(h).GetKey() {
		v := k.GetKeyData().GetValue()
		out = append(out, v, v[len(v)-32:])
	}
	return out
}

// keysetCLI runs a keyset command and checks that its output shows no key
// of the file at path (when it exists).
func keysetCLI(t *testing.T, path string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr = runCLI(t, "", append([]string{"keyset"}, args...)...)
	if _, err := os.Stat(path); err == nil {
		keys := keysetKeys(t, path)
		assertNoKeys(t, "keyset "+args[0]+" stdout", stdout, keys)
		assertNoKeys(t, "keyset "+args[0]+" stderr", stderr, keys)
	}
	return code, stdout, stderr
}

func mustKeysetCLI(t *testing.T, path string, args ...string) string {
	t.Helper()
	code, out, errOut := keysetCLI(t, path, args...)
	if code != 0 {
		t.Fatalf("itemcrypto keyset %s: exit status %d; stderr: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// listedKey is one row of "keyset list".
type listedKey struct {
	id      uint32
	status  string
	primary bool
}

var listRow = regexp.MustCompile(`^(\d+)\s+(enabled|disabled|destroyed)\s+(yes\s+)?AesGcmKey\s+TINK$`)

func listKeys(t *testing.T, path string) []listedKey {
	t.Helper()
	out := mustKeysetCLI(t, path, "list", path, "--insecure")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "KEY ID") {
		t.Fatalf("keyset list: no header line:\n%s", out)
	}
	var keys []listedKey
	for _, l := range lines[1:] {
		m := listRow.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			t.Fatalf("keyset list: unexpected line %q", l)
		}
		id, _ := strconv.ParseUint(m[1], 10, 32)
		keys = append(keys, listedKey{uint32(id), m[2], m[3] != ""})
	}
	return keys
}

func primaryKey(t *testing.T, keys []listedKey) uint32 {
	t.Helper()
	var ids []uint32
	for _, k := range keys {
		if k.primary {
			ids = append(ids, k.id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("keyset list shows %d primary keys, want 1", len(ids))
	}
	return ids[0]
}

// fileProvider is the Tink provider over a keyset file.
func fileProvider(t *testing.T, path string) *itemcrypto.Encryptor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tinkcmp.New(h)
	if err != nil {
		t.Fatalf("tinkcmp.New(keyset file): %v", err)
	}
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	e, err := itemcrypto.New(itemcrypto.Config{TableName: "users", Policy: policy, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func keysetItem(pk string) itemcrypto.Item {
	return itemcrypto.Item{
		"pk":  &types.AttributeValueMemberS{Value: pk},
		"ssn": &types.AttributeValueMemberS{Value: "078-05-1120"},
	}
}

func TestKeysetLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyset.json")

	out := mustKeysetCLI(t, path, "new", "--out", path, "--insecure")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyset new: file %v, mode %v; want mode 0600", err, fi.Mode().Perm())
	}
	keys := listKeys(t, path)
	if len(keys) != 1 || !keys[0].primary || keys[0].status != "enabled" {
		t.Fatalf("new keyset lists %+v, want one enabled primary key", keys)
	}
	a := keys[0].id
	if !strings.Contains(out, fmt.Sprint(a)) {
		t.Errorf("keyset new output does not name the key ID %d: %q", a, out)
	}
	oldItem, err := fileProvider(t, path).Encrypt(ctx, keysetItem("u-1"))
	if err != nil {
		t.Fatal(err)
	}

	// rotate: a second key, primary; the first still enabled.
	out = mustKeysetCLI(t, path, "rotate", path, "--insecure")
	keys = listKeys(t, path)
	b := primaryKey(t, keys)
	if len(keys) != 2 || b == a {
		t.Fatalf("after rotate: %+v, want two keys with a new primary", keys)
	}
	if !strings.Contains(out, fmt.Sprint(b)) || !strings.Contains(out, fmt.Sprint(a)) {
		t.Errorf("keyset rotate output does not name the new and previous primary: %q", out)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("after rotate, mode %04o, want 0600", fi.Mode().Perm())
	}
	e := fileProvider(t, path)
	newItem, err := e.Encrypt(ctx, keysetItem("u-2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decrypt(ctx, oldItem); err != nil {
		t.Errorf("item of the first key after rotate: %v", err)
	}

	// disable the primary: refused, file unchanged.
	before, _ := os.ReadFile(path)
	code, _, errOut := keysetCLI(t, path, "disable", path, fmt.Sprint(b), "--insecure")
	if code == 0 || !strings.Contains(errOut, "primary") {
		t.Errorf("disable of the primary key: exit %d, stderr %q; want a refusal that says it is the primary", code, errOut)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused disable changed the file")
	}

	// disable the first key: its items fail with an error naming it.
	mustKeysetCLI(t, path, "disable", path, fmt.Sprint(a), "--insecure")
	for _, k := range listKeys(t, path) {
		if want := map[uint32]string{a: "disabled", b: "enabled"}[k.id]; k.status != want {
			t.Errorf("after disable: key %d is %s, want %s", k.id, k.status, want)
		}
	}
	e = fileProvider(t, path)
	_, err = e.Decrypt(ctx, oldItem)
	var disabled *tinkcmp.KeyDisabledError
	if !errors.As(err, &disabled) || disabled.KeyID != a || !strings.Contains(err.Error(), fmt.Sprint(a)) {
		t.Errorf("item of a disabled key: error %v, want a *tinkcmp.KeyDisabledError naming %d", err, a)
	}
	if _, err := e.Decrypt(ctx, newItem); err != nil {
		t.Errorf("item of the primary key after disable: %v", err)
	}
	// Disabling again is a no-op.
	if out := mustKeysetCLI(t, path, "disable", path, fmt.Sprint(a), "--insecure"); !strings.Contains(out, "already disabled") {
		t.Errorf("second disable: %q", out)
	}

	// enable: readable again.
	mustKeysetCLI(t, path, "enable", path, fmt.Sprint(a), "--insecure")
	if _, err := fileProvider(t, path).Decrypt(ctx, oldItem); err != nil {
		t.Errorf("item of a re-enabled key: %v", err)
	}
	if got := primaryKey(t, listKeys(t, path)); got != b {
		t.Errorf("enable changed the primary to %d, want %d", got, b)
	}
}

func TestKeysetRequiresInsecure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyset.json")
	if code, _, errOut := runCLI(t, "", "keyset", "new", "--out", path); code == 0 || !strings.Contains(errOut, "--insecure") {
		t.Errorf("keyset new without --insecure: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("keyset new without --insecure wrote the file")
	}
	mustKeysetCLI(t, path, "--insecure", "new", "--out", path) // the flag may come before the subcommand
	before, _ := os.ReadFile(path)
	id := fmt.Sprint(primaryKey(t, listKeys(t, path)))
	for _, args := range [][]string{
		{"rotate", path}, {"disable", path, id}, {"enable", path, id},
	} {
		code, out, errOut := keysetCLI(t, path, args...)
		if code == 0 || out != "" || !strings.Contains(errOut, "--insecure") {
			t.Errorf("keyset %s without --insecure: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("keyset commands without --insecure changed the file")
	}
	// list shows no key material, so it needs no --insecure.
	out := mustKeysetCLI(t, path, "list", path)
	if want := mustKeysetCLI(t, path, "list", path, "--insecure"); out != want {
		t.Errorf("keyset list without --insecure printed %q, want %q", out, want)
	}
}

func TestKeysetNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyset.json")
	mustKeysetCLI(t, path, "new", "--out", path, "--insecure")
	before, _ := os.ReadFile(path)
	if code, _, _ := keysetCLI(t, path, "new", "--out", path, "--insecure"); code == 0 {
		t.Error("keyset new over an existing file succeeded without --force")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("keyset new without --force changed the existing file")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	// A too-open file is read with a warning.
	code, _, errOut := keysetCLI(t, path, "list", path, "--insecure")
	if code != 0 || !strings.Contains(errOut, "Warning") || !strings.Contains(errOut, "0644") {
		t.Errorf("list of a mode 0644 keyset: exit %d, stderr %q; want a warning", code, errOut)
	}
	mustKeysetCLI(t, path, "new", "--out", path, "--insecure", "--force")
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after --force %04o, want 0600", fi.Mode().Perm())
	}
	if after, _ := os.ReadFile(path); bytes.Equal(before, after) {
		t.Error("keyset new --force did not write a new keyset")
	}
	if code, _, _ := runCLI(t, "", "keyset", "new", "--out", "-", "--insecure"); code == 0 {
		t.Error("keyset new --out - succeeded; key material must never go to stdout")
	}
}

func TestKeysetErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyset.json")
	mustKeysetCLI(t, path, "new", "--out", path, "--insecure")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"disable", path, "12", "--insecure"}, "no key 12"},
		{"bad key ID", []string{"disable", path, "abc", "--insecure"}, "KEYID"},
		{"key ID too large", []string{"enable", path, "4294967296", "--insecure"}, "KEYID"},
		{"missing file", []string{"list", filepath.Join(dir, "none.json"), "--insecure"}, "no such file"},
		{"no arguments", []string{"rotate", "--insecure"}, "arg"},
	} {
		code, _, errOut := keysetCLI(t, path, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want an error mentioning %q", tc.name, code, errOut, tc.want)
		}
	}

	// A file that is not a keyset: the error never quotes its content.
	bad := filepath.Join(dir, "bad.json")
	secret := `{"primaryKeyId": "SECRET-LOOKING-CONTENT-1234"}`
	if err := os.WriteFile(bad, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "keyset", "list", bad, "--insecure")
	if code == 0 || strings.Contains(out+errOut, "SECRET-LOOKING") {
		t.Errorf("list of a bad file: exit %d, output %q%q; want a failure that does not quote the file", code, out, errOut)
	}
}

// TestEncryptDecryptWithKeyset: encrypt and decrypt take a Tink keyset,
// and a rotated keyset still decrypts what its older key wrote.
func TestEncryptDecryptWithKeyset(t *testing.T) {
	path := newKeysetFile(t)
	args := func(cmd string) []string {
		return []string{cmd, "--table", "users", "--partition-key", "pk", "--sort-key", "sk", "--keyset", path, "--insecure"}
	}
	code, stored, errOut := runCLI(t, sampleItem, args("encrypt")...)
	if code != 0 {
		t.Fatalf("encrypt --keyset: %s", errOut)
	}
	if strings.Contains(stored, "078-05-1120") {
		t.Fatal("stored item shows the plaintext")
	}
	mustKeysetCLI(t, path, "rotate", path, "--insecure")
	code, out, errOut := runCLI(t, stored, args("decrypt")...)
	if code != 0 {
		t.Fatalf("decrypt --keyset after a rotation: %s", errOut)
	}
	if !strings.Contains(out, "078-05-1120") {
		t.Errorf("decrypted item lacks the plaintext:\n%s", out)
	}
	// Another keyset does not read it.
	if code, _, _ := runCLI(t, stored, append(args("decrypt")[:7], "--keyset", newKeysetFile(t), "--insecure")...); code == 0 {
		t.Error("another keyset decrypted the item")
	}
}

package itemcrypto_test

import (
	"context"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/canon"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/refkat"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// referenceKAT is the file of known answers the DB-ESDK's Go edition (the
// reference: Dafny translated to Go, whose strings are sequences of UTF-16
// code units) wrote for strings beyond ASCII. Regenerate it with
//
//	cd internal/testsupport/interop && GOWORK=off go test ./dbesdk -run TestWriteKAT \
//	    -dbesdk.writekat=$PWD/../../../itemcrypto/testdata/reference/nonascii.json
//
// (interop TestNonASCIIKATCurrent fails when its deterministic parts drift.)
//
// What the reference does at each place where a length or an order depends
// on a string, as the file pins it (the beacons are in search/reference_test.go):
//
//   - Canonical path (StructuredEncryptionPaths.CanonPath/SimpleCanon): the
//     table name in UTF-8, the depth (1) as uint64, '$', the name's length
//     as uint64 COUNTED IN UTF-16 CODE UNITS (é 1, 日本語 3, U+10000 2,
//     c_𝟁 4), then the name in UTF-8. Pinned byte for byte
//     (CanonicalPaths).
//   - Canonical order of the signed fields (SortCanon.Below, byte order of
//     the canonical paths): by the UTF-16 length first, then by the UTF-8
//     bytes (U+E000 before U+10000 at equal length). Pinned (CanonicalOrder).
//   - Encryption context: the MPL serializes it with keys sorted by their
//     UTF-8 bytes and lengths in bytes; in format version 2 the stored
//     context keys are aws-crypto-attr.<name> (the name in UTF-8), so
//     aws-crypto-attr.\uE000 comes before aws-crypto-attr.\U00010001 (UTF-16
//     would put it after). Pinned by the v2 items, whose header commitment
//     and signatures cover the serialized context.
//   - Map values (DynamoToStruct): the keys in CharLess order, that is by
//     UTF-16 code units (U+10000 before U+E000), each key's length field in
//     UTF-8 bytes. String sets likewise in UTF-16 order, lengths in bytes.
//     Pinned byte for byte (AttributeBytes) and by the signed maps and sets
//     of the items.
//   - Items: non-ASCII table name and attribute names (BMP, U+E000, U+FFFF,
//     supplementary) in every action, an allowed-unsigned prefix "ü_",
//     keyring namespace and name beyond ASCII; suites 0x6700 and 0x6701,
//     format versions 1 and 2. Each decrypts with ours to the plaintext.
func loadReferenceKAT(t *testing.T) *refkat.File {
	t.Helper()
	f, err := refkat.Load("testdata/reference/nonascii.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func normalizedNumber(s string) (string, error) { return ddbattr.NormalizeNumber(s) }

func TestReferenceCanonicalPaths(t *testing.T) {
	f := loadReferenceKAT(t)
	if len(f.CanonicalPaths) == 0 {
		t.Fatal("no canonical paths")
	}
	for _, c := range f.CanonicalPaths {
		if got := canon.UTF16Len(c.Name); got != c.UTF16Len {
			t.Errorf("UTF16Len(%+q) = %d, the reference counts %d", c.Name, got, c.UTF16Len)
		}
		if got := hex.EncodeToString(canon.AppendPath(nil, c.Table, c.Name)); got != c.Path {
			t.Errorf("canonical path of %+q in %+q:\n ours      %s\n reference %s", c.Name, c.Table, got, c.Path)
		}
	}
	// The lengths the divergence was found with.
	for name, n := range map[string]int{"é": 1, "日本語": 3, "\U00010000": 2, "c_\U0001D7C1": 4} {
		if !slices.ContainsFunc(f.CanonicalPaths, func(c refkat.CanonicalPath) bool { return c.Name == name && c.UTF16Len == n }) {
			t.Errorf("the file does not pin %+q at length %d", name, n)
		}
	}
	got := slices.Clone(f.CanonicalOrder.Names)
	slices.SortStableFunc(got, canon.ComparePaths)
	if !slices.Equal(got, f.CanonicalOrder.Names) {
		t.Errorf("canonical order:\n ours      %+q\n reference %+q", got, f.CanonicalOrder.Names)
	}
}

func TestReferenceAttributeBytes(t *testing.T) {
	f := loadReferenceKAT(t)
	for _, c := range f.AttributeBytes {
		v, err := ddbjson.UnmarshalValue(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ddbattr.Append(nil, v)
		if err != nil {
			t.Fatalf("%s: %v", c.Value, err)
		}
		if got := hex.EncodeToString(b); got != c.Bytes {
			t.Errorf("serialized %s:\n ours      %s\n reference %s", c.Value, got, c.Bytes)
		}
	}
}

func referenceEncryptor(t *testing.T, f *refkat.File, c refkat.TableConfig) *itemcrypto.Encryptor {
	t.Helper()
	key, err := hex.DecodeString(f.Keyring.Key)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.NewRawAES(f.Keyring.Namespace, f.Keyring.Name, key)
	if err != nil {
		t.Fatal(err)
	}
	overrides := map[string]actions.Action{}
	for n, a := range c.Actions {
		if overrides[n], err = actions.Parse(a); err != nil {
			t.Fatal(err)
		}
	}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, Overrides: overrides, PartitionKey: c.PK, SortKey: c.SK})
	if err != nil {
		t.Fatal(err)
	}
	e, err := itemcrypto.New(itemcrypto.Config{
		TableName: c.Table,
		Policy:    policy,
		Format:    itemcrypto.FormatDBESDK,
		DBESDK:    &itemcrypto.DBESDKConfig{Keyring: kr, Suite: keyring.Suite(c.Suite), AllowedUnsignedPrefix: c.AllowedUnsignedPrefix},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReferenceItems decrypts the items the reference encrypted, and
// encrypts and decrypts their plaintexts with ours.
func TestReferenceItems(t *testing.T) {
	f := loadReferenceKAT(t)
	ctx := context.Background()
	versions := map[int]bool{}
	for _, it := range f.Items {
		t.Run(it.Name, func(t *testing.T) {
			e := referenceEncryptor(t, f, it.Config)
			plain, err := ddbjson.UnmarshalItem(it.Plaintext)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := ddbjson.UnmarshalItem(it.Encrypted)
			if err != nil {
				t.Fatal(err)
			}
			if h, ok := stored["aws_dbe_head"].(*types.AttributeValueMemberB); !ok || len(h.Value) == 0 || int(h.Value[0]) != it.Config.FormatVersion {
				t.Fatalf("the stored header is not of version %d", it.Config.FormatVersion)
			}
			versions[it.Config.FormatVersion] = true
			got, err := e.Decrypt(ctx, stored)
			if err != nil {
				t.Fatalf("decrypt the reference's item: %v", err)
			}
			if !ddbjson.EqualItems(plain, got, normalizedNumber) {
				t.Errorf("the reference's item decrypts to\n%s\nwant\n%s", mustJSON(t, got), it.Plaintext)
			}
			// Unsigned attributes may change; a signed one may not.
			tampered := maps1(stored)
			tampered["ü_x"] = &types.AttributeValueMemberS{Value: "changed"}
			if _, err := e.Decrypt(ctx, tampered); err != nil {
				t.Errorf("a changed unsigned attribute fails: %v", err)
			}
			tampered["\uE000"] = &types.AttributeValueMemberS{Value: "changed"}
			if _, err := e.Decrypt(ctx, tampered); err == nil {
				t.Error("a changed signed attribute decrypts")
			}
			own, err := e.Encrypt(ctx, plain)
			if err != nil {
				t.Fatalf("encrypt: %v", err)
			}
			if h := own["aws_dbe_head"].(*types.AttributeValueMemberB); int(h.Value[0]) != it.Config.FormatVersion {
				t.Errorf("ours writes version %d, the reference %d", h.Value[0], it.Config.FormatVersion)
			}
			back, err := e.Decrypt(ctx, own)
			if err != nil {
				t.Fatalf("decrypt our own item: %v", err)
			}
			if !ddbjson.EqualItems(plain, back, normalizedNumber) {
				t.Errorf("our item decrypts to\n%s\nwant\n%s", mustJSON(t, back), it.Plaintext)
			}
		})
	}
	if !versions[1] || !versions[2] {
		t.Errorf("format versions pinned: %v, want 1 and 2", versions)
	}
}

func maps1(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

func mustJSON(t *testing.T, it map[string]types.AttributeValue) string {
	j, err := ddbjson.MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

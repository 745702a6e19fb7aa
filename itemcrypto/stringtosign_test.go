package itemcrypto_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// stsVectorsDir locates the reference vectors: $ITEMCRYPTO_VECTORS or the
// shared checkout beside the repository. Missing vectors fail, never skip.
func stsVectorsDir(t testing.TB) string {
	t.Helper()
	return testenv.VectorsDir(t)
}

type stsVector struct {
	Table string `json:"table"`
	Item  map[string]struct {
		Value  json.RawMessage `json:"value"`
		Action string          `json:"action"`
	} `json:"item"`
	StringToSign []byte `json:"string_to_sign"`
}

func TestStringToSignVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stsVectorsDir(t), "string_to_sign.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []stsVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 {
		t.Fatalf("string_to_sign.json: %d vectors, want 4", len(vs))
	}
	for i, vec := range vs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			item := itemcrypto.Item{}
			overrides := map[string]actions.Action{}
			signed := 0
			for name, a := range vec.Item {
				v, err := ddbjson.UnmarshalValue(a.Value)
				if err != nil {
					t.Fatalf("attribute %s: %v", name, err)
				}
				act, err := actions.Parse(a.Action)
				if err != nil {
					t.Fatalf("attribute %s: %v", name, err)
				}
				item[name] = v
				overrides[name] = act
				if act != actions.DoNothing {
					signed++
				}
			}
			policy, err := actions.New(actions.Options{Default: actions.DoNothing, Overrides: overrides, NoPartitionKey: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := itemcrypto.StringToSign(vec.Table, item, policy)
			if err != nil {
				t.Fatalf("StringToSign: %v", err)
			}
			if !bytes.Equal(got, vec.StringToSign) {
				t.Errorf("StringToSign(%s, ...)\n got %x\nwant %x", vec.Table, got, vec.StringToSign)
			}
			if want := 32 * (1 + 3*signed); len(got) != want {
				t.Errorf("StringToSign is %d bytes; want %d for %d signed attributes", len(got), want, signed)
			}
		})
	}
}

func stsHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestStringToSignLayout(t *testing.T) {
	// Spec §5.1 constants.
	if got := hex.EncodeToString(stsHash("ENCRYPTED")); got != "394115ac4eb09aa49429348816b2038127b0f9e3a520372ae100ca19fb08fd50" {
		t.Fatalf("SHA256(ENCRYPTED) = %s", got)
	}
	if got := hex.EncodeToString(stsHash("PLAINTEXT")); got != "cb40e7dadc86161b9798de48512f332d21c141fcc1e28a086fde4a3375aab1b5" {
		t.Fatalf("SHA256(PLAINTEXT) = %s", got)
	}
	item := itemcrypto.Item{
		"é":       &types.AttributeValueMemberS{Value: "x"},      // UTF-8 c3 a9: after ASCII
		"b":       &types.AttributeValueMemberBOOL{Value: true},  // sign
		"B":       &types.AttributeValueMemberNULL{Value: true},  // sign, before "a" in byte order
		"a":       &types.AttributeValueMemberN{Value: "1.0"},    // encrypt
		"ignored": &types.AttributeValueMemberNULL{Value: false}, // DoNothing: never serialized
	}
	policy := actions.Must(actions.Options{Default: actions.SignOnly, NoPartitionKey: true, Overrides: map[string]actions.Action{
		"a": actions.EncryptAndSign, "ignored": actions.DoNothing,
	}})
	got, err := itemcrypto.StringToSign("T", item, policy)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{
		stsHash("TABLE>T<TABLE"),
		stsHash("B"), stsHash("PLAINTEXT"), stsHash("\x00\x00"),
		stsHash("a"), stsHash("ENCRYPTED"), stsHash("\x00n\x00\x00\x00\x011"),
		stsHash("b"), stsHash("PLAINTEXT"), stsHash("\x00?\x01"),
		stsHash("é"), stsHash("PLAINTEXT"), stsHash("\x00s\x00\x00\x00\x01x"),
	}, nil)
	if !bytes.Equal(got, want) {
		t.Errorf("StringToSign\n got %x\nwant %x", got, want)
	}

	// The reserved attributes never enter the string to sign.
	withReserved := itemcrypto.Item{
		itemcrypto.MaterialDescriptionAttribute: &types.AttributeValueMemberB{Value: []byte{0, 0, 0, 0}},
		itemcrypto.SignatureAttribute:           &types.AttributeValueMemberB{Value: []byte("sig")},
	}
	for k, v := range item {
		withReserved[k] = v
	}
	if got2, err := itemcrypto.StringToSign("T", withReserved, policy); err != nil || !bytes.Equal(got2, want) {
		t.Errorf("StringToSign with reserved attributes = %x, %v; want %x", got2, err, want)
	}

	// Empty item and empty table name.
	if got, err := itemcrypto.StringToSign("", nil, policy); err != nil || !bytes.Equal(got, stsHash("TABLE><TABLE")) {
		t.Errorf("StringToSign(\"\", nil) = %x, %v; want %x", got, err, stsHash("TABLE><TABLE"))
	}
}

func TestStringToSignErrors(t *testing.T) {
	policy := actions.Must(actions.Options{Default: actions.SignOnly, NoPartitionKey: true})
	tests := []struct {
		name string
		v    types.AttributeValue
		want error
	}{
		{"nil", nil, itemcrypto.ErrUnsupportedType},
		{"NULL false", &types.AttributeValueMemberNULL{}, itemcrypto.ErrUnsupportedType},
		{"empty set", &types.AttributeValueMemberSS{}, itemcrypto.ErrEmptySet},
		{"bad number", &types.AttributeValueMemberN{Value: "SECRET"}, itemcrypto.ErrInvalidNumber},
		{"bad UTF-8", &types.AttributeValueMemberS{Value: "SECRET\xff"}, itemcrypto.ErrInvalidUTF8},
	}
	for _, tc := range tests {
		item := itemcrypto.Item{"ok": &types.AttributeValueMemberS{Value: "x"}, "attr": tc.v}
		got, err := itemcrypto.StringToSign("T", item, policy)
		if !errors.Is(err, tc.want) || !errors.Is(err, itemcrypto.ErrUnsupportedValue) || got != nil {
			t.Errorf("%s: StringToSign = %x, %v; want nil, %v (and ErrUnsupportedValue)", tc.name, got, err, tc.want)
			continue
		}
		var ae *itemcrypto.AttributeError
		if !errors.As(err, &ae) || ae.Name != "attr" || ae.Action != actions.SignOnly {
			t.Errorf("%s: error %#v does not name attribute \"attr\" (SignOnly)", tc.name, err)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error %q quotes the value", tc.name, err)
		}
	}
}

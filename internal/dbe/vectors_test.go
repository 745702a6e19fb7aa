package dbe_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

const vectorDir = "../../../shared/vectors/dbesdk"

type vecConfig struct {
	Actions         map[string]string `json:"attributeActionsOnEncrypt"`
	AllowedUnsigned []string          `json:"allowedUnsignedAttributes"`
	UnsignedPrefix  string            `json:"allowedUnsignedAttributePrefix"`
	Suite           string            `json:"algorithmSuiteId"`
}

type vecRecord struct {
	Type      string          `json:"type"`
	Desc      string          `json:"description"`
	Config    vecConfig       `json:"config"`
	Plaintext json.RawMessage `json:"plaintext"`
	Encrypted json.RawMessage `json:"encrypted"`
}

func staticKeyring(t testing.TB) keyring.MaterialsManager {
	t.Helper()
	var keys struct {
		Keys map[string]struct {
			KeyID   string `json:"key-id"`
			Version string `json:"branchKeyVersion"`
			Key     string `json:"branchKey"`
			Beacon  string `json:"beaconKey"`
		} `json:"keys"`
	}
	b, err := os.ReadFile(filepath.Join(vectorDir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	k := keys.Keys["static-branch-key-1"]
	key, _ := base64.StdEncoding.DecodeString(k.Key)
	beacon, _ := base64.StdEncoding.DecodeString(k.Beacon)
	bk, err := hierarchy.NewBranchKey(k.KeyID, k.Version, key, beacon)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = k.KeyID })
	if err != nil {
		t.Fatal(err)
	}
	return keyring.NewDefaultManager(kr)
}

func parseAction(s string) dbe.Action {
	switch s {
	case "ENCRYPT_AND_SIGN":
		return dbe.EncryptAndSign
	case "SIGN_ONLY":
		return dbe.SignOnly
	case "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", "CONTEXT_AND_SIGN":
		return dbe.SignAndIncludeInContext
	}
	return dbe.DoNothing
}

func configFor(vc vecConfig, mm keyring.MaterialsManager) *dbe.Config {
	cfg := &dbe.Config{Table: "GazelleVectorTable", PartitionKey: "RecNum", Manager: mm, Version: 1}
	for _, a := range vc.Actions {
		if parseAction(a) == dbe.SignAndIncludeInContext {
			cfg.Version = 2
		}
	}
	cfg.Action = func(name string) (dbe.Action, error) {
		a, ok := vc.Actions[name]
		if !ok {
			return 0, errors.New("no action")
		}
		return parseAction(a), nil
	}
	cfg.Unsigned = func(name string) bool {
		return slices.Contains(vc.AllowedUnsigned, name) || (vc.UnsignedPrefix != "" && strings.HasPrefix(name, vc.UnsignedPrefix))
	}
	if vc.Suite != "" {
		s, err := keyring.ParseSuite(vc.Suite)
		if err == nil {
			cfg.Suite = s
		}
	}
	return cfg
}

// simple converts the harness's simplified plaintext JSON.
func simple(t *testing.T, raw json.RawMessage) types.AttributeValue {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return toAV(t, v)
}

func toAV(t *testing.T, v any) types.AttributeValue {
	switch v := v.(type) {
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}
	case string:
		return &types.AttributeValueMemberS{Value: v}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			l[i] = toAV(t, e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		if len(v) == 1 {
			for k, e := range v {
				switch k {
				case "L":
					return toAV(t, e)
				case "M":
					m := map[string]types.AttributeValue{}
					for mk, mv := range e.(map[string]any) {
						m[mk] = toAV(t, mv)
					}
					return &types.AttributeValueMemberM{Value: m}
				case "NS", "SS":
					var ss []string
					for _, x := range e.([]any) {
						switch x := x.(type) {
						case json.Number:
							ss = append(ss, x.String())
						case string:
							ss = append(ss, x)
						}
					}
					if k == "NS" {
						return &types.AttributeValueMemberNS{Value: ss}
					}
					return &types.AttributeValueMemberSS{Value: ss}
				}
			}
		}
		m := map[string]types.AttributeValue{}
		for mk, mv := range v {
			m[mk] = toAV(t, mv)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	t.Fatalf("unexpected %T", v)
	return nil
}

func TestDecryptVectors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vectorDir, "decrypt_*.json"))
	if len(files) == 0 {
		t.Fatal("no vectors")
	}
	mm := staticKeyring(t)
	for _, file := range files {
		var man struct {
			Tests map[string]vecRecord `json:"tests"`
		}
		b, _ := os.ReadFile(file)
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		for id, rec := range man.Tests {
			t.Run(filepath.Base(file)+"/"+id, func(t *testing.T) {
				item, err := ddbjson.UnmarshalItem(rec.Encrypted)
				if err != nil {
					t.Fatal(err)
				}
				cfg := configFor(rec.Config, mm)
				got, _, err := dbe.Decrypt(context.Background(), cfg, item)
				if rec.Type == "negative-decrypt" {
					if err == nil {
						t.Fatalf("%s: decrypted, want failure", rec.Desc)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", rec.Desc, err)
				}
				want := simple(t, rec.Plaintext).(*types.AttributeValueMemberM).Value
				if !ddbjson.EqualItems(got, want, ddbattr.NormalizeNumber) {
					gj, _ := ddbjson.MarshalItem(got)
					wj, _ := ddbjson.MarshalItem(want)
					t.Errorf("%s: plaintext differs\n got %s\nwant %s", rec.Desc, gj, wj)
				}
			})
		}
	}
}

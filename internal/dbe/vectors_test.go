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

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

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
	b, err := os.ReadFile(filepath.Join(testenv.DBESDKVectorsDir(t), "keys.json"))
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

func TestDecryptVectors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.DBESDKVectorsDir(t), "decrypt_*.json"))
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
				want, err := vectors.SimpleItem(rec.Plaintext)
				if err != nil {
					t.Fatal(err)
				}
				if !ddbjson.EqualItems(got, want, ddbattr.NormalizeNumber) {
					gj, _ := ddbjson.MarshalItem(got)
					wj, _ := ddbjson.MarshalItem(want)
					t.Errorf("%s: plaintext differs\n got %s\nwant %s", rec.Desc, gj, wj)
				}
			})
		}
	}
}

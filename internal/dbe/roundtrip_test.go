package dbe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

func testItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"RecNum": &types.AttributeValueMemberN{Value: "7"},
		"Stuff":  &types.AttributeValueMemberS{Value: "secret stuff"},
		"Junk":   &types.AttributeValueMemberNS{Value: []string{"3", "1e2", "-0.50"}},
		"Bin":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"Flag":   &types.AttributeValueMemberBOOL{Value: true},
		"Nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}},
		}},
		"Ctx":   &types.AttributeValueMemberS{Value: "tenant-1"},
		":free": &types.AttributeValueMemberS{Value: "unsigned"},
	}
}

func roundTripConfig(t *testing.T, suite keyring.Suite, withContext bool) *dbe.Config {
	vc := vecConfig{Actions: map[string]string{
		"RecNum": "SIGN_ONLY", "Stuff": "ENCRYPT_AND_SIGN", "Junk": "ENCRYPT_AND_SIGN", "Bin": "SIGN_ONLY",
		"Flag": "ENCRYPT_AND_SIGN", "Nested": "ENCRYPT_AND_SIGN", "Ctx": "SIGN_ONLY", ":free": "DO_NOTHING",
	}, UnsignedPrefix: ":"}
	if withContext {
		vc.Actions["RecNum"] = "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
		vc.Actions["Ctx"] = "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
	}
	cfg := configFor(vc, staticKeyring(t))
	cfg.Suite = suite
	return cfg
}

func TestRoundTrip(t *testing.T) {
	for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
		for _, v2 := range []bool{false, true} {
			t.Run(suite.String(), func(t *testing.T) {
				cfg := roundTripConfig(t, suite, v2)
				in := testItem()
				enc, err := dbe.Encrypt(context.Background(), cfg, in)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := enc["Stuff"].(*types.AttributeValueMemberB); !ok {
					t.Fatalf("Stuff stored as %T, want ciphertext", enc["Stuff"])
				}
				if h := enc[dbe.HeaderAttribute].(*types.AttributeValueMemberB).Value; h[0] != map[bool]byte{false: 1, true: 2}[v2] || h[1] != suite.Flavor() {
					t.Fatalf("header version/flavor %x %x", h[0], h[1])
				}
				out, p, err := dbe.Decrypt(context.Background(), cfg, enc)
				if err != nil {
					t.Fatal(err)
				}
				if p.Suite != suite || p.Action("Stuff") != dbe.EncryptAndSign {
					t.Fatalf("parsed header %+v", p)
				}
				if !ddbjson.EqualItems(out, in, ddbattr.NormalizeNumber) {
					a, _ := ddbjson.MarshalItem(out)
					t.Fatalf("round trip: %s", a)
				}
				// Changing the unsigned attribute is allowed; a signed one is not.
				enc[":free"] = &types.AttributeValueMemberS{Value: "changed"}
				if _, _, err := dbe.Decrypt(context.Background(), cfg, enc); err != nil {
					t.Fatalf("unsigned change: %v", err)
				}
				enc["Ctx"] = &types.AttributeValueMemberS{Value: "tenant-2"}
				if _, _, err := dbe.Decrypt(context.Background(), cfg, enc); !errors.Is(err, dbe.ErrAuthentication) {
					t.Fatalf("signed change: %v, want ErrAuthentication", err)
				}
			})
		}
	}
}

// TestItemAllocs holds the allocation target of the DB-ESDK format: at most
// 40 allocations to encrypt, and 40 to decrypt, a 1 KB item of the
// benchmark workload under suite 0x6700 and the raw AES keyring.
func TestItemAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	kr, err := keyring.NewRawAES("ns", "name", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	vc := vecConfig{Actions: map[string]string{"partition_key": "SIGN_ONLY", "sort_key": "SIGN_ONLY", "attribute1": "ENCRYPT_AND_SIGN",
		"attribute2": "SIGN_ONLY", ":attribute3": "DO_NOTHING"}, UnsignedPrefix: ":"}
	cfg := configFor(vc, keyring.NewDefaultManager(kr))
	cfg.PartitionKey, cfg.SortKey, cfg.Suite = "partition_key", "sort_key", keyring.SuiteHMAC
	item := map[string]types.AttributeValue{
		"partition_key": &types.AttributeValueMemberS{Value: "BenchmarkPartitionKey"},
		"sort_key":      &types.AttributeValueMemberN{Value: "1"},
		"attribute1": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"data": &types.AttributeValueMemberB{Value: make([]byte, 1024)}}},
		"attribute2":  &types.AttributeValueMemberS{Value: "sign me!"},
		":attribute3": &types.AttributeValueMemberS{Value: "ignore me!"},
	}
	ctx := context.Background()
	enc, err := dbe.Encrypt(ctx, cfg, item)
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(200, func() { dbe.Encrypt(ctx, cfg, item) }); a > 40 {
		t.Errorf("Encrypt: %.0f allocations per item, want at most 40", a)
	}
	if a := testing.AllocsPerRun(200, func() { dbe.Decrypt(ctx, cfg, enc) }); a > 40 {
		t.Errorf("Decrypt: %.0f allocations per item, want at most 40", a)
	}
}

package dbe_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
)

// itemBytes approximates the size of an item as DynamoDB counts it.
func itemBytes(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		case *types.AttributeValueMemberNS:
			for _, m := range v.Value {
				n += len(m)
			}
		default:
			n += 8
		}
	}
	return n
}

// TestDecryptBound feeds forged items (random header and footer, numbers at
// the edge of DynamoDB's range, many attributes) to Decrypt and holds the
// documented bound: every one fails with ErrAuthentication, allocating at
// most 48 bytes per input byte plus 64 KiB. (A signed number is hashed in
// DynamoDB's plain form: "1e125", 5 bytes, is 126 digits; nothing expands
// more, since numbers beyond 38 digits or outside 1E-130..1E126 are refused
// before they are expanded.)
func TestDecryptBound(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	cfg := roundTripConfig(t, keyring.SuiteECDSAP384, false)
	valid, err := dbe.Encrypt(context.Background(), cfg, testItem())
	if err != nil {
		t.Fatal(err)
	}
	random := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	forged := map[string]map[string]types.AttributeValue{}
	add := func(name string, f func(it map[string]types.AttributeValue)) {
		it := map[string]types.AttributeValue{}
		for k, v := range valid {
			it[k] = v
		}
		f(it)
		forged[name] = it
	}
	add("random header", func(it map[string]types.AttributeValue) {
		it[dbe.HeaderAttribute] = &types.AttributeValueMemberB{Value: random(60000)}
	})
	add("huge legend", func(it map[string]types.AttributeValue) {
		h := append([]byte{1, 0}, random(32)...)
		h = append(h, 0xff, 0xff)
		h = append(h, []byte(strings.Repeat("e", 65535))...)
		it[dbe.HeaderAttribute] = &types.AttributeValueMemberB{Value: h}
	})
	add("huge footer", func(it map[string]types.AttributeValue) {
		it[dbe.FooterAttribute] = &types.AttributeValueMemberB{Value: random(300000)}
	})
	add("5000 signed numbers near 1e125", func(it map[string]types.AttributeValue) {
		ns := make([]string, 5000)
		for i := range ns {
			ns[i] = fmt.Sprintf("%de121", i+1)
		}
		it["Ctx"] = &types.AttributeValueMemberNS{Value: ns} // signed: expanded for the hash
	})
	add("5000 signed numbers near 1e-130", func(it map[string]types.AttributeValue) {
		ns := make([]string, 5000)
		for i := range ns {
			ns[i] = fmt.Sprintf("%de-133", i+1)
		}
		it["Ctx"] = &types.AttributeValueMemberNS{Value: ns}
	})
	add("numbers outside the range", func(it map[string]types.AttributeValue) {
		ns := make([]string, 5000)
		for i := range ns {
			ns[i] = fmt.Sprintf("%de65000", i+1)
		}
		it["Ctx"] = &types.AttributeValueMemberNS{Value: ns}
	})
	add("3000 extra signed attributes", func(it map[string]types.AttributeValue) {
		for i := range 3000 {
			it[fmt.Sprintf("a%04d", i)] = &types.AttributeValueMemberS{Value: "x"}
		}
	})
	for name, it := range forged {
		if _, _, err := dbe.Decrypt(context.Background(), cfg, it); !errors.Is(err, dbe.ErrAuthentication) {
			t.Errorf("%s: %v, want ErrAuthentication", name, err)
		}
		in := itemBytes(it)
		got := alloctest.Bytes(3, func() { dbe.Decrypt(context.Background(), cfg, it) })
		if limit := uint64(48*in + 64<<10); got > limit {
			t.Errorf("%s: %d input bytes, %d bytes allocated, bound %d", name, in, got, limit)
		}
	}
}

package itemcrypto_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The bounds the package documents (doc.go, "Bounds"), per byte of the
// stored item's DynamoDB JSON form, plus boundConst: a Decrypt that fails
// (a forgery) allocates at most boundPerByte; a Decrypt that succeeds at
// most successPerByte (the decrypted values in Go's form); parsing the JSON
// at most parsePerByte.
const (
	boundPerByte   = 9
	successPerByte = 32
	parsePerByte   = 16
	boundConst     = 16 << 10
)

// bytesPerRun is the bytes one call of f allocates (alloctest.Bytes: the
// fewest over runs, cold buffer pools).
func bytesPerRun(runs int, f func()) uint64 { return alloctest.Bytes(runs, f) }

func boundsEncryptor(t testing.TB) *itemcrypto.Encryptor {
	p := actions.Must(actions.Options{
		Default: actions.SignOnly, PartitionKey: "pk",
		Overrides: map[string]actions.Action{"aenc": actions.EncryptAndSign},
	})
	return newEncryptor(t, "Bounds", p, staticProvider(t))
}

// TestDecryptBoundedCost feeds the adversarial items of avfuzz.Amplifiers
// (the 5,000-member set of "Ne65000", the widest and smallest
// in-range numbers, thousands of attributes, wide, deep and past-the-limit
// nesting, big sets) to Decrypt and fails when the bytes it allocates exceed
// the documented bound. Every forged one is refused with an error matching
// ErrAuthentication; those Encrypt accepts are also encrypted for real, and
// the successful Decrypt of the result is held to the same bound.
func TestDecryptBoundedCost(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	forged := boundsEncryptor(t)
	real := newEncryptor(t, "Bounds", actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"}), staticProvider(t))
	ctx := context.Background()
	check := func(t *testing.T, e *itemcrypto.Encryptor, data []byte, wantErr bool) {
		t.Helper()
		it, err := ddbjson.UnmarshalItem(data)
		in := uint64(len(data))
		parse := bytesPerRun(3, func() { ddbjson.UnmarshalItem(data) })
		if parse > parsePerByte*in+boundConst {
			t.Errorf("parsing allocated %d bytes for %d input bytes; bound %d/byte + %d", parse, in, parsePerByte, boundConst)
		}
		if err != nil {
			t.Logf("%6d input bytes: parse %7d (%.2f/byte), refused: %v", in, parse, float64(parse)/float64(in), err)
			return
		}
		if _, err := e.Decrypt(ctx, it); (err != nil) != wantErr || wantErr && !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Fatalf("Decrypt = %v; want error: %v", err, wantErr)
		}
		dec := bytesPerRun(3, func() { e.Decrypt(ctx, it) })
		t.Logf("%6d input bytes: Decrypt %7d bytes (%.2f/byte), parse %7d (%.2f/byte)",
			in, dec, float64(dec)/float64(in), parse, float64(parse)/float64(in))
		bound := uint64(boundPerByte)
		if !wantErr {
			bound = successPerByte
		}
		if dec > bound*in+boundConst {
			t.Errorf("Decrypt allocated %d bytes for %d input bytes; bound %d/byte + %d", dec, in, bound, boundConst)
		}
	}
	for _, c := range avfuzz.Amplifiers() {
		t.Run(c.Name, func(t *testing.T) {
			check(t, forged, c.JSON, true)
			it, err := ddbjson.UnmarshalItem(c.JSON)
			if err != nil {
				return
			}
			delete(it, itemcrypto.SignatureAttribute)
			stored, err := real.Encrypt(ctx, it)
			if err != nil {
				t.Logf("Encrypt refused it: %v", err)
				return
			}
			check(t, real, must(ddbjson.MarshalItem(stored)), false)
		})
	}
}

// TestNumberOutOfRangeNamesAttribute: a number outside DynamoDB's range is
// refused before it is expanded, on both sides, naming the attribute.
func TestNumberOutOfRangeNamesAttribute(t *testing.T) {
	e := boundsEncryptor(t)
	ctx := context.Background()
	for _, v := range []av{n("1e65000"), ns("1", "1e-131"), list(n("1" + strings.Repeat("1", 38))), mapOf(map[string]av{"k": ns("9e126")})} {
		_, err := e.Encrypt(ctx, item{"pk": s("p"), "big": v})
		var ae *itemcrypto.AttributeError
		if !errors.As(err, &ae) || ae.Name != "big" || !errors.Is(err, itemcrypto.ErrNumberOutOfRange) || !errors.Is(err, itemcrypto.ErrInvalidNumber) {
			t.Errorf("Encrypt(%s) = %v; want an *AttributeError for \"big\" matching ErrNumberOutOfRange", render(v), err)
		}
		stored := item{"pk": s("p"), "big": v, itemcrypto.SignatureAttribute: b(make([]byte, 32))}
		_, err = e.Decrypt(ctx, stored)
		if !errors.As(err, &ae) || ae.Name != "big" || !errors.Is(err, itemcrypto.ErrNumberOutOfRange) || !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Errorf("Decrypt(%s) = %v; want ErrAuthentication and an *AttributeError for \"big\" matching ErrNumberOutOfRange", render(v), err)
		}
	}
}

// TestItemSizeCheckedBeforeExpanding: an item over MaxItemSize is refused
// before the provider is asked (Encrypt) or the string to sign is built
// (Decrypt).
func TestItemSizeCheckedBeforeExpanding(t *testing.T) {
	ctx := context.Background()
	p := actions.Must(actions.Options{Default: actions.SignOnly, PartitionKey: "pk"})
	counting := &countingProvider{Provider: staticProvider(t)}
	e := newEncryptor(t, "T", p, counting, func(o *itemcrypto.Options) { o.MaxItemSize = 1000 })
	big := item{"pk": s("p"), "a": s(strings.Repeat("x", 600)), "b": s(strings.Repeat("y", 600))}
	_, err := e.Encrypt(ctx, big)
	var ae *itemcrypto.AttributeError
	if !errors.As(err, &ae) || ae.Name != "b" || !errors.Is(err, itemcrypto.ErrItemTooLarge) {
		t.Errorf("Encrypt = %v; want an *AttributeError for \"b\" matching ErrItemTooLarge", err)
	}
	big[itemcrypto.SignatureAttribute] = b(make([]byte, 32))
	if _, err := e.Decrypt(ctx, big); !errors.Is(err, itemcrypto.ErrItemTooLarge) || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Decrypt = %v; want ErrItemTooLarge and ErrAuthentication", err)
	}
	if counting.calls.Load() != 0 {
		t.Errorf("the provider was asked %d times; want 0", counting.calls.Load())
	}
	// Just under the limit passes both ways.
	ok := item{"pk": s("p"), "a": s(strings.Repeat("x", 600))}
	stored, err := e.Encrypt(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decrypt(ctx, stored); err != nil {
		t.Errorf("Decrypt of an item within the limit = %v", err)
	}
}

// countingProvider counts the calls that reach its provider.
type countingProvider struct {
	cmp.Provider
	calls atomic.Int64
}

func (p *countingProvider) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	p.calls.Add(1)
	return p.Provider.EncryptionMaterials(ctx, ec)
}

func (p *countingProvider) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	p.calls.Add(1)
	return p.Provider.DecryptionMaterials(ctx, ec)
}

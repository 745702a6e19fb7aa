package itemcrypto_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// ---------------------------------------------------------------------------
// Fixtures and helpers shared by the test files of this package.

type (
	item = itemcrypto.Item
	av   = types.AttributeValue
)

func s(v string) av            { return &types.AttributeValueMemberS{Value: v} }
func n(v string) av            { return &types.AttributeValueMemberN{Value: v} }
func b(v []byte) av            { return &types.AttributeValueMemberB{Value: v} }
func boolean(v bool) av        { return &types.AttributeValueMemberBOOL{Value: v} }
func null() av                 { return &types.AttributeValueMemberNULL{Value: true} }
func ss(v ...string) av        { return &types.AttributeValueMemberSS{Value: v} }
func ns(v ...string) av        { return &types.AttributeValueMemberNS{Value: v} }
func bs(v ...[]byte) av        { return &types.AttributeValueMemberBS{Value: v} }
func list(v ...av) av          { return &types.AttributeValueMemberL{Value: v} }
func mapOf(v map[string]av) av { return &types.AttributeValueMemberM{Value: v} }

var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// must is for fixtures that cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func keyBytes(seed byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = seed + byte(i)
	}
	return out
}

type providerCase struct {
	name    string
	p       cmp.Provider
	wrapped bool
}

func staticProvider(t testing.TB) *cmp.Static {
	return must(cmp.NewStatic(cmp.StaticConfig{
		EncryptionKey: must(cmp.NewAESKey(keyBytes(1, 16))),
		SigningKey:    must(cmp.NewHMACKey("HmacSHA256", keyBytes(50, 32))),
	}))
}

func wrappedAESProvider(t testing.TB) *cmp.Wrapped {
	kek := must(cmp.NewAESKey(keyBytes(100, 32)))
	return must(cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey:   kek,
		UnwrappingKey: kek,
		SigningKey:    must(cmp.NewHMACKey("HmacSHA256", keyBytes(150, 32))),
	}))
}

func wrappedRSAProvider(t testing.TB) *cmp.Wrapped {
	priv := testRSAKey()
	signer := must(cmp.NewRSASigningKey(priv, "SHA256withRSA"))
	return must(cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey:     must(cmp.NewRSAWrappingKey(&priv.PublicKey)),
		UnwrappingKey:   must(cmp.NewRSAUnwrappingKey(priv)),
		SigningKey:      signer,
		VerificationKey: signer.Public(),
	}))
}

func testProviders(t testing.TB) []providerCase {
	return []providerCase{
		{"static AES+HMAC", staticProvider(t), false},
		{"wrapped AESWrap+HMAC", wrappedAESProvider(t), true},
		{"wrapped RSA-OAEP+SHA256withRSA", wrappedRSAProvider(t), true},
	}
}

func newEncryptor(t testing.TB, table string, p *actions.Policy, prov cmp.Provider, opts ...func(*itemcrypto.Options)) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: p, Provider: prov}, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func encryptOK(t testing.TB, e *itemcrypto.Encryptor, plain item) item {
	t.Helper()
	out, err := e.Encrypt(context.Background(), plain)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return out
}

// cloneValue deep-copies an attribute value.
func cloneValue(v av) av {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: slices.Clone(v.Value)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: slices.Clone(v.Value)}
	case *types.AttributeValueMemberBS:
		if v.Value == nil {
			return &types.AttributeValueMemberBS{}
		}
		out := make([][]byte, len(v.Value))
		for i, m := range v.Value {
			out[i] = bytes.Clone(m)
		}
		return &types.AttributeValueMemberBS{Value: out}
	case *types.AttributeValueMemberL:
		if v.Value == nil {
			return &types.AttributeValueMemberL{}
		}
		out := make([]av, len(v.Value))
		for i, e := range v.Value {
			out[i] = cloneValue(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: cloneItem(v.Value)}
	case *types.UnknownUnionMember:
		return &types.UnknownUnionMember{Tag: v.Tag, Value: bytes.Clone(v.Value)}
	}
	return v
}

func cloneItem(it item) item {
	if it == nil {
		return nil
	}
	out := make(item, len(it))
	for k, v := range it {
		out[k] = cloneValue(v)
	}
	return out
}

// sameValue compares two values as DynamoDB does: sets unordered, numbers by
// value (canonical form). It is deliberately independent of the package's
// serialization code except for number canonicalisation.
func sameValue(x, y av) bool {
	canon := func(v string) string {
		if c, err := ddbserial.CanonicalNumber(v); err == nil {
			return c
		}
		return "invalid:" + v
	}
	sortedStrings := func(v []string, f func(string) string) []string {
		out := make([]string, len(v))
		for i, m := range v {
			out[i] = f(m)
		}
		slices.Sort(out)
		return out
	}
	id := func(v string) string { return v }
	switch x := x.(type) {
	case *types.AttributeValueMemberS:
		y, ok := y.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := y.(*types.AttributeValueMemberN)
		return ok && canon(x.Value) == canon(y.Value)
	case *types.AttributeValueMemberB:
		y, ok := y.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := y.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := y.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := y.(*types.AttributeValueMemberSS)
		return ok && slices.Equal(sortedStrings(x.Value, id), sortedStrings(y.Value, id))
	case *types.AttributeValueMemberNS:
		y, ok := y.(*types.AttributeValueMemberNS)
		return ok && slices.Equal(sortedStrings(x.Value, canon), sortedStrings(y.Value, canon))
	case *types.AttributeValueMemberBS:
		y, ok := y.(*types.AttributeValueMemberBS)
		if !ok {
			return false
		}
		toS := func(v [][]byte) []string {
			out := make([]string, len(v))
			for i, m := range v {
				out[i] = string(m)
			}
			return out
		}
		return slices.Equal(sortedStrings(toS(x.Value), id), sortedStrings(toS(y.Value), id))
	case *types.AttributeValueMemberL:
		y, ok := y.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(x.Value, y.Value, sameValue)
	case *types.AttributeValueMemberM:
		y, ok := y.(*types.AttributeValueMemberM)
		return ok && sameItem(x.Value, y.Value)
	}
	return false
}

func sameItem(x, y item) bool {
	if len(x) != len(y) {
		return false
	}
	for k, xv := range x {
		yv, ok := y[k]
		if !ok || !sameValue(xv, yv) {
			return false
		}
	}
	return true
}

// diffItems describes how two items differ, for failure messages. It prints
// names and types only for values that differ.
func diffItems(got, want item) string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("missing %q", k))
		case !sameValue(g, w):
			out = append(out, fmt.Sprintf("%q: got %s, want %s", k, render(g), render(w)))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("unexpected %q", k))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

func render(v av) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S:%q", v.Value)
	case *types.AttributeValueMemberN:
		return fmt.Sprintf("N:%s", v.Value)
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return fmt.Sprintf("NULL:%v", v.Value)
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS:%q", v.Value)
	case *types.AttributeValueMemberNS:
		return fmt.Sprintf("NS:%v", v.Value)
	case *types.AttributeValueMemberBS:
		return fmt.Sprintf("BS:%x", v.Value)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "L:[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range v.Value {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, render(v.Value[k]))
		}
		return "M:{" + strings.Join(parts, ",") + "}"
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

func descOf(t testing.TB, stored item) materialdesc.Description {
	t.Helper()
	dv, ok := stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
	if !ok {
		t.Fatalf("stored item has no B material description: %T", stored[itemcrypto.MaterialDescriptionAttribute])
	}
	return must(materialdesc.Decode(dv.Value))
}

func bytesOf(t testing.TB, v av) []byte {
	t.Helper()
	bv, ok := v.(*types.AttributeValueMemberB)
	if !ok {
		t.Fatalf("value is %T, want B", v)
	}
	return bv.Value
}

// ---------------------------------------------------------------------------
// New

func TestNewValidation(t *testing.T) {
	p := actions.Must(actions.Options{Default: actions.SignOnly, NoPartitionKey: true})
	prov := staticProvider(t)
	tests := []struct {
		name string
		cfg  itemcrypto.Config
	}{
		{"no table name", itemcrypto.Config{Policy: p, Provider: prov}},
		{"no policy", itemcrypto.Config{TableName: "t", Provider: prov}},
		{"no provider", itemcrypto.Config{TableName: "t", Policy: p}},
		{"policy literal", itemcrypto.Config{TableName: "t", Policy: &actions.Policy{}, Provider: prov}},
	}
	for _, tt := range tests {
		if e, err := itemcrypto.New(tt.cfg); err == nil || e != nil {
			t.Errorf("%s: New = %v, %v; want nil and an error", tt.name, e, err)
		}
	}
	if _, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: &actions.Policy{}, Provider: prov}); err == nil ||
		err.Error() != "itemcrypto: Config.Policy was not made by actions.New" {
		t.Errorf("New with a Policy literal: %v", err)
	}
	e := newEncryptor(t, "my-table", p, prov)
	if e.TableName() != "my-table" || e.Policy() != p {
		t.Errorf("TableName(), Policy() = %q, %v", e.TableName(), e.Policy())
	}
}

// ---------------------------------------------------------------------------
// Round trips

// allTypes holds one attribute of each of the ten DynamoDB types (and a few
// edge values), named by type.
func allTypes() item {
	return item{
		"t_s":        s("héllo wörld ✓"),
		"t_s_empty":  s(""),
		"t_n":        n("-12.5"),
		"t_n_big":    n("12345678901234567890123456789012345678"),
		"t_n_tiny":   n("0.000000000000000000001"),
		"t_b":        b([]byte{0, 1, 2, 0xff}),
		"t_b_empty":  b([]byte{}),
		"t_ss":       ss("b", "a", "ü", "c"),
		"t_ns":       ns("10", "-3", "7.5", "0"),
		"t_bs":       bs([]byte{0xff}, []byte{0x00, 0x01}, []byte{0x80}),
		"t_bool":     boolean(true),
		"t_bool_f":   boolean(false),
		"t_null":     null(),
		"t_l":        list(s("x"), n("1"), list(null(), boolean(false)), mapOf(map[string]av{"k": b([]byte("v"))})),
		"t_l_empty":  list(),
		"t_m":        mapOf(map[string]av{"a": s("1"), "b": ns("1", "2"), "nested": mapOf(map[string]av{"deep": list(s("z"))})}),
		"t_m_empty":  mapOf(map[string]av{}),
		"t_long_str": s(strings.Repeat("0123456789abcdef", 100)),
	}
}

func TestRoundTripAllTypes(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t) {
		for _, def := range []actions.Action{actions.EncryptAndSign, actions.SignOnly} {
			t.Run(pc.name+"/"+def.String(), func(t *testing.T) {
				p := actions.Must(actions.Options{Default: def, PartitionKey: "pk", SortKey: "sk"})
				e := newEncryptor(t, "RoundTrip", p, pc.p)
				plain := allTypes()
				plain["pk"] = s("partition")
				plain["sk"] = n("42")
				before := cloneItem(plain)

				stored, err := e.Encrypt(ctx, plain)
				if err != nil {
					t.Fatalf("Encrypt: %v", err)
				}
				if !reflect.DeepEqual(plain, before) {
					t.Errorf("Encrypt modified its input: %s", diffItems(plain, before))
				}
				// Stored form.
				for name, v := range plain {
					got := stored[name]
					switch {
					case name == "pk" || name == "sk" || def == actions.SignOnly:
						if !reflect.DeepEqual(got, v) {
							t.Errorf("%s (%v): stored %s; want it unchanged %s", name, p.Action(name), render(got), render(v))
						}
					default:
						ct, ok := got.(*types.AttributeValueMemberB)
						if !ok {
							t.Errorf("%s: stored as %s; want B ciphertext", name, render(got))
							continue
						}
						if len(ct.Value) < 32 || len(ct.Value)%16 != 0 {
							t.Errorf("%s: ciphertext length %d; want IV + whole blocks", name, len(ct.Value))
						}
					}
				}
				for _, r := range []string{itemcrypto.MaterialDescriptionAttribute, itemcrypto.SignatureAttribute} {
					if _, ok := stored[r].(*types.AttributeValueMemberB); !ok {
						t.Errorf("stored item: %s is %T; want B", r, stored[r])
					}
				}
				if len(stored) != len(plain)+2 {
					t.Errorf("stored item has %d attributes; want %d", len(stored), len(plain)+2)
				}
				desc := descOf(t, stored)
				if got := desc[materialdesc.KeySymMode]; got != "/CBC/PKCS5Padding" {
					t.Errorf("description sym-mode = %q", got)
				}
				if pc.wrapped && desc[materialdesc.KeyEnvelopeKey] == "" {
					t.Errorf("wrapped provider: description has no env-key")
				}

				storedBefore := cloneItem(stored)
				got, err := e.Decrypt(ctx, stored)
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				if !reflect.DeepEqual(stored, storedBefore) {
					t.Errorf("Decrypt modified its input")
				}
				if !sameItem(got, plain) {
					t.Errorf("round trip differs: %s", diffItems(got, plain))
				}
			})
		}
	}
}

func TestRoundTripMixedActions(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t) {
		t.Run(pc.name, func(t *testing.T) {
			e := newEncryptor(t, "Mixed", tamperPolicy(), pc.p)
			plain := tamperPlaintext()
			stored := encryptOK(t, e, plain)
			got, err := e.Decrypt(ctx, stored)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !sameItem(got, plain) {
				t.Errorf("round trip differs: %s", diffItems(got, plain))
			}
			// Exactly the EncryptAndSign attributes are ciphertext.
			for name, v := range plain {
				encrypted := !reflect.DeepEqual(stored[name], v)
				if want := tamperPolicy().Action(name) == actions.EncryptAndSign; encrypted != want {
					t.Errorf("%s: stored changed = %v; want %v (action %v)", name, encrypted, want, tamperPolicy().Action(name))
				}
			}
		})
	}
}

func TestEncryptIsRandomized(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t) {
		t.Run(pc.name, func(t *testing.T) {
			e := newEncryptor(t, "Rand", tamperPolicy(), pc.p)
			plain := tamperPlaintext()
			// Two attributes with the same plaintext in one item.
			plain["secret_twin"] = s("PLAINTEXT-S-secret")
			a := encryptOK(t, e, plain)
			c := encryptOK(t, e, plain)
			for _, name := range encryptedNames(plain) {
				if bytes.Equal(bytesOf(t, a[name]), bytesOf(t, c[name])) {
					t.Errorf("%s: same ciphertext in two encryptions of the same item", name)
				}
				if bytes.Equal(bytesOf(t, a[name])[:16], bytesOf(t, c[name])[:16]) {
					t.Errorf("%s: same IV in two encryptions", name)
				}
			}
			if bytes.Equal(bytesOf(t, a["secret_s"]), bytesOf(t, a["secret_twin"])) {
				t.Errorf("two attributes with the same plaintext have the same ciphertext")
			}
			if bytes.Equal(bytesOf(t, a[itemcrypto.SignatureAttribute]), bytesOf(t, c[itemcrypto.SignatureAttribute])) {
				t.Errorf("same signature for two encryptions of the same item")
			}
			da, dc := descOf(t, a), descOf(t, c)
			if pc.wrapped {
				if da[materialdesc.KeyEnvelopeKey] == dc[materialdesc.KeyEnvelopeKey] {
					t.Errorf("wrapped provider: same env-key for two items; want a fresh content key per item")
				}
				// The content keys differ: one item's description cannot decrypt the other.
				mixed := cloneItem(c)
				mixed[itemcrypto.MaterialDescriptionAttribute] = cloneValue(a[itemcrypto.MaterialDescriptionAttribute])
				if got, err := e.Decrypt(ctx, mixed); !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
					t.Errorf("item with another item's description: Decrypt = %v, %v; want nil, ErrAuthentication", got != nil, err)
				}
			} else if !reflect.DeepEqual(da, dc) {
				t.Errorf("static provider: descriptions differ: %v vs %v", da, dc)
			}
			for _, st := range []item{a, c} {
				got, err := e.Decrypt(ctx, st)
				if err != nil || !sameItem(got, plain) {
					t.Errorf("Decrypt = %v; diff %s", err, diffItems(got, plain))
				}
			}
		})
	}
}

func encryptedNames(plain item) []string {
	var out []string
	for name := range plain {
		if tamperPolicy().Action(name) == actions.EncryptAndSign {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// detRand is a deterministic io.Reader.
func detRand(seed uint64) *rand.ChaCha8 {
	var k [32]byte
	k[0] = byte(seed)
	k[1] = byte(seed >> 8)
	return rand.NewChaCha8(k)
}

func TestDeterministicRand(t *testing.T) {
	kek := must(cmp.NewAESKey(keyBytes(7, 32)))
	mac := must(cmp.NewHMACKey("", keyBytes(9, 32)))
	run := func() item {
		prov := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, Rand: detRand(1)}))
		e := newEncryptor(t, "KAT", tamperPolicy(), prov, func(o *itemcrypto.Options) { o.Rand = detRand(2) })
		return encryptOK(t, e, tamperPlaintext())
	}
	a, c := run(), run()
	if !reflect.DeepEqual(a, c) {
		t.Errorf("with deterministic Rand sources, two encryptions differ: %s", diffItems(a, c))
	}
}

func TestNoOpPolicy(t *testing.T) {
	ctx := context.Background()
	p := actions.Must(actions.Options{Default: actions.DoNothing, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"x": actions.DoNothing}})
	for _, pc := range testProviders(t) {
		t.Run(pc.name, func(t *testing.T) {
			e := newEncryptor(t, "NoOp", p, pc.p)
			plain := allTypes()
			plain["pk"] = s("p")
			plain["sk"] = s("s")
			before := cloneItem(plain)
			stored, err := e.Encrypt(ctx, plain)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !reflect.DeepEqual(stored, before) {
				t.Errorf("all-DoNothing Encrypt changed the item: %s", diffItems(stored, before))
			}
			for _, r := range []string{itemcrypto.MaterialDescriptionAttribute, itemcrypto.SignatureAttribute} {
				if _, ok := stored[r]; ok {
					t.Errorf("all-DoNothing Encrypt added %s", r)
				}
			}
			// The result is a copy: changing it does not change the input.
			stored["added"] = s("x")
			if _, ok := plain["added"]; ok {
				t.Errorf("Encrypt returned the input map itself")
			}
			got, err := e.Decrypt(ctx, before)
			if err != nil || !reflect.DeepEqual(got, before) {
				t.Errorf("all-DoNothing Decrypt = %v; diff %s", err, diffItems(got, before))
			}
			if !reflect.DeepEqual(plain, before) {
				t.Errorf("input modified")
			}
		})
	}
}

func TestSignOnlyProviderAndPolicy(t *testing.T) {
	ctx := context.Background()
	mac := must(cmp.NewHMACKey("", keyBytes(3, 32)))
	signOnly := must(cmp.NewStatic(cmp.StaticConfig{SigningKey: mac}))
	p := actions.Must(actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"free": actions.DoNothing}})
	e := newEncryptor(t, "SignOnly", p, signOnly)
	plain := item{"pk": s("k"), "a": s("visible"), "free": n("1")}
	stored, err := e.Encrypt(ctx, plain)
	if err != nil {
		t.Fatalf("Encrypt with a sign-only provider and policy: %v", err)
	}
	if _, ok := descOf(t, stored)[materialdesc.KeySymMode]; ok {
		t.Errorf("description has sym-mode although nothing is encrypted")
	}
	got, err := e.Decrypt(ctx, stored)
	if err != nil || !sameItem(got, plain) {
		t.Errorf("Decrypt = %v; diff %s", err, diffItems(got, plain))
	}
	tampered := cloneItem(stored)
	tampered["a"] = s("changed")
	if got, err := e.Decrypt(ctx, tampered); !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
		t.Errorf("tampered sign-only item: Decrypt = %v, %v; want nil, ErrAuthentication", got, err)
	}
}

func TestReaderPolicyMustMatchWriter(t *testing.T) {
	ctx := context.Background()
	prov := staticProvider(t)
	writer := newEncryptor(t, "T", tamperPolicy(), prov)
	stored := encryptOK(t, writer, tamperPlaintext())
	base := tamperOptions()
	tests := []struct {
		name   string
		change func(o *actions.Options)
	}{
		{"SignOnly read as EncryptAndSign", func(o *actions.Options) { delete(o.Overrides, "sign_s") }},
		{"EncryptAndSign read as SignOnly", func(o *actions.Options) { o.Overrides["secret_s"] = actions.SignOnly }},
		{"SignOnly read as DoNothing", func(o *actions.Options) { o.Overrides["sign_bool"] = actions.DoNothing }},
		{"EncryptAndSign read as DoNothing", func(o *actions.Options) { o.Overrides["secret_n"] = actions.DoNothing }},
		{"DoNothing read as SignOnly", func(o *actions.Options) { o.Overrides["note"] = actions.SignOnly }},
		{"key read as DoNothing", func(o *actions.Options) { o.Overrides["sk"] = actions.DoNothing }},
		{"other sort key name", func(o *actions.Options) { o.SortKey = "sk2" }},
		{"no sort key: sk encrypted", func(o *actions.Options) { o.SortKey = "" }},
	}
	for _, tt := range tests {
		opts := base
		opts.Overrides = map[string]actions.Action{}
		for k, v := range base.Overrides {
			opts.Overrides[k] = v
		}
		tt.change(&opts)
		reader := newEncryptor(t, "T", actions.Must(opts), prov)
		got, err := reader.Decrypt(ctx, stored)
		if !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
			t.Errorf("%s: Decrypt = %v, %v; want nil, ErrAuthentication", tt.name, got != nil, err)
		}
	}
	// The same policy rebuilt independently reads the item.
	reader := newEncryptor(t, "T", actions.Must(base), prov)
	if _, err := reader.Decrypt(ctx, stored); err != nil {
		t.Errorf("reader with an equal policy: %v", err)
	}
}

func TestStaticRefusesWrappedItems(t *testing.T) {
	ctx := context.Background()
	mac := must(cmp.NewHMACKey("HmacSHA256", keyBytes(150, 32))) // same MAC key as wrappedAESProvider
	static := must(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: must(cmp.NewAESKey(keyBytes(100, 32))), SigningKey: mac}))
	writer := newEncryptor(t, "T", tamperPolicy(), wrappedAESProvider(t))
	reader := newEncryptor(t, "T", tamperPolicy(), static)
	stored := encryptOK(t, writer, tamperPlaintext())
	got, err := reader.Decrypt(ctx, stored)
	if !errors.Is(err, cmp.ErrNoMaterials) || got != nil {
		t.Errorf("static provider reading a wrapped item: Decrypt = %v, %v; want nil, an error matching cmp.ErrNoMaterials", got != nil, err)
	}
	// And the other way round: a wrapped provider cannot read a static item.
	stored = encryptOK(t, reader, tamperPlaintext())
	got, err = writer.Decrypt(ctx, stored)
	if !errors.Is(err, cmp.ErrNoMaterials) || got != nil {
		t.Errorf("wrapped provider reading a static item: Decrypt = %v, %v; want nil, an error matching cmp.ErrNoMaterials", got != nil, err)
	}
}

func TestDecryptWithoutDecryptionKey(t *testing.T) {
	ctx := context.Background()
	full := staticProvider(t)
	verifyOnly := must(cmp.NewStatic(cmp.StaticConfig{SigningKey: must(cmp.NewHMACKey("HmacSHA256", keyBytes(50, 32)))}))
	stored := encryptOK(t, newEncryptor(t, "T", tamperPolicy(), full), tamperPlaintext())
	got, err := newEncryptor(t, "T", tamperPolicy(), verifyOnly).Decrypt(ctx, stored)
	if !errors.Is(err, itemcrypto.ErrNoEncryptionKey) || got != nil {
		t.Errorf("Decrypt without a decryption key = %v, %v; want nil, ErrNoEncryptionKey", got != nil, err)
	}
}

// ---------------------------------------------------------------------------
// Bad input

const secretValue = "SECRET-VALUE-123"

func nested(depth int, leaf av) av {
	v := leaf
	for i := range depth {
		if i%2 == 0 {
			v = list(v)
		} else {
			v = mapOf(map[string]av{"k": v})
		}
	}
	return v
}

func TestEncryptBadInput(t *testing.T) {
	ctx := context.Background()
	p := actions.Must(actions.Options{
		Default:      actions.EncryptAndSign,
		PartitionKey: "pk",
		SortKey:      "sk",
		Overrides:    map[string]actions.Action{"signed-attr": actions.SignOnly, "free-attr": actions.DoNothing},
	})
	base := func() item { return item{"pk": s("p"), "sk": n("1"), "ok": s("fine")} }
	badValues := []struct {
		name  string
		value av
		want  error
	}{
		{"nil value", nil, itemcrypto.ErrUnsupportedType},
		{"NULL false", &types.AttributeValueMemberNULL{Value: false}, itemcrypto.ErrUnsupportedType},
		{"unknown union member", &types.UnknownUnionMember{Tag: "X", Value: []byte(secretValue)}, itemcrypto.ErrUnsupportedType},
		{"empty SS", ss(), itemcrypto.ErrEmptySet},
		{"empty NS", ns(), itemcrypto.ErrEmptySet},
		{"empty BS", bs(), itemcrypto.ErrEmptySet},
		{"nested empty SS", mapOf(map[string]av{"k": list(&types.AttributeValueMemberSS{Value: []string{}})}), itemcrypto.ErrEmptySet},
		{"invalid number", n(secretValue), itemcrypto.ErrInvalidNumber},
		{"number with spaces", n(" 12 "), itemcrypto.ErrInvalidNumber},
		{"NaN", n("NaN"), itemcrypto.ErrInvalidNumber},
		{"empty number", n(""), itemcrypto.ErrInvalidNumber},
		{"invalid NS member", ns("1", secretValue), itemcrypto.ErrInvalidNumber},
		{"invalid UTF-8 string", s(secretValue + "\xff"), itemcrypto.ErrInvalidUTF8},
		{"invalid UTF-8 SS member", ss("a", secretValue+"\xc3"), itemcrypto.ErrInvalidUTF8},
		{"invalid UTF-8 map key", mapOf(map[string]av{secretValue + "\xfe": s("v")}), itemcrypto.ErrInvalidUTF8},
		{"invalid UTF-8 nested", list(s("ok"), mapOf(map[string]av{"k": s(secretValue + "\x80")})), itemcrypto.ErrInvalidUTF8},
		{"too deep", nested(40, s(secretValue)), itemcrypto.ErrTooDeep},
		{"too deep lists", func() av {
			v := s(secretValue)
			for range 100 {
				v = list(v)
			}
			return v
		}(), itemcrypto.ErrTooDeep},
	}
	prov := staticProvider(t)
	e := newEncryptor(t, "T", p, prov)
	for _, bv := range badValues {
		for _, attr := range []string{"enc-attr", "signed-attr"} {
			t.Run(bv.name+"/"+attr, func(t *testing.T) {
				in := base()
				in[attr] = bv.value
				before := cloneItem(in)
				got, err := e.Encrypt(ctx, in)
				checkAttrError(t, got, err, attr, p.Action(attr), bv.want, itemcrypto.ErrUnsupportedValue)
				if !reflect.DeepEqual(in, before) {
					t.Errorf("Encrypt modified its input")
				}
			})
		}
	}
	// A DoNothing attribute is not serialized: any value passes through.
	t.Run("bad value under DoNothing", func(t *testing.T) {
		in := base()
		in["free-attr"] = ns()
		if _, err := e.Encrypt(ctx, in); err != nil {
			t.Errorf("Encrypt with an empty set under DoNothing = %v; want success", err)
		}
	})
	// Deep but legal nesting passes.
	t.Run("32 levels", func(t *testing.T) {
		in := base()
		in["deep"] = nested(31, s("leaf"))
		stored, err := e.Encrypt(ctx, in)
		if err != nil {
			t.Fatalf("Encrypt with 31 levels of nesting = %v", err)
		}
		if got, err := e.Decrypt(ctx, stored); err != nil || !sameItem(got, in) {
			t.Errorf("Decrypt = %v; diff %s", err, diffItems(got, in))
		}
	})

	structural := []struct {
		name     string
		item     item
		attr     string
		action   actions.Action
		want     error
		provider cmp.Provider
	}{
		{"missing partition key", item{"sk": n("1"), "a": s(secretValue)}, "pk", actions.SignOnly, itemcrypto.ErrMissingKeyAttribute, prov},
		{"missing sort key", item{"pk": s(secretValue), "a": s(secretValue)}, "sk", actions.SignOnly, itemcrypto.ErrMissingKeyAttribute, prov},
		{"description attribute present", withAttr(base(), itemcrypto.MaterialDescriptionAttribute, b([]byte(secretValue))), itemcrypto.MaterialDescriptionAttribute, actions.DoNothing, itemcrypto.ErrReservedAttribute, prov},
		{"signature attribute present", withAttr(base(), itemcrypto.SignatureAttribute, s(secretValue)), itemcrypto.SignatureAttribute, actions.DoNothing, itemcrypto.ErrReservedAttribute, prov},
		{"oversized EncryptAndSign attribute", withAttr(base(), "big", s(strings.Repeat(secretValue, 26000))), "big", actions.EncryptAndSign, itemcrypto.ErrItemTooLarge, prov},
		{"oversized SignOnly attribute", withAttr(base(), "signed-attr", b([]byte(strings.Repeat(secretValue, 26000)))), "signed-attr", actions.SignOnly, itemcrypto.ErrItemTooLarge, prov},
		{"provider without encryption key", base(), "ok", actions.EncryptAndSign, itemcrypto.ErrNoEncryptionKey,
			must(cmp.NewStatic(cmp.StaticConfig{SigningKey: must(cmp.NewHMACKey("", keyBytes(1, 32)))}))},
	}
	for _, tt := range structural {
		t.Run(tt.name, func(t *testing.T) {
			e := newEncryptor(t, "T", p, tt.provider)
			before := cloneItem(tt.item)
			got, err := e.Encrypt(ctx, tt.item)
			checkAttrError(t, got, err, tt.attr, tt.action, tt.want)
			if !reflect.DeepEqual(tt.item, before) {
				t.Errorf("Encrypt modified its input")
			}
		})
	}
}

func withAttr(it item, name string, v av) item {
	it[name] = v
	return it
}

func checkAttrError(t *testing.T, got item, err error, attr string, action actions.Action, wants ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Encrypt succeeded; want an error naming %q", attr)
	}
	if got != nil {
		t.Errorf("Encrypt returned an item with error %v", err)
	}
	for _, w := range wants {
		if !errors.Is(err, w) {
			t.Errorf("error %q does not match %q", err, w)
		}
	}
	var ae *itemcrypto.AttributeError
	if !errors.As(err, &ae) {
		t.Fatalf("error %T %q is not an *AttributeError", err, err)
	}
	if ae.Name != attr {
		t.Errorf("AttributeError.Name = %q; want %q", ae.Name, attr)
	}
	if ae.Action != action {
		t.Errorf("AttributeError.Action = %v; want %v", ae.Action, action)
	}
	msg := err.Error()
	if !strings.Contains(msg, attr) {
		t.Errorf("error message %q does not name the attribute %q", msg, attr)
	}
	if strings.Contains(msg, secretValue) || strings.Contains(msg, "SECRET") {
		t.Errorf("error message %q contains the value", msg)
	}
}

func TestItemSizeLimit(t *testing.T) {
	ctx := context.Background()
	p := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk", Overrides: map[string]actions.Action{"free": actions.DoNothing}})
	prov := staticProvider(t)
	e := newEncryptor(t, "T", p, prov)
	// Under the limit: fine.
	under := item{"pk": s("p"), "data": s(strings.Repeat("x", 300*1024))}
	if _, err := e.Encrypt(ctx, under); err != nil {
		t.Errorf("Encrypt of a 300 KiB item = %v; want success", err)
	}
	// Over the limit through a DoNothing attribute.
	over := item{"pk": s("p"), "free": s(strings.Repeat(secretValue, 26000))}
	got, err := e.Encrypt(ctx, over)
	if !errors.Is(err, itemcrypto.ErrItemTooLarge) || got != nil {
		t.Errorf("Encrypt with a 416 KB DoNothing attribute = %v, %v; want nil, ErrItemTooLarge", got != nil, err)
	} else if strings.Contains(err.Error(), secretValue) {
		t.Errorf("error %q contains the value", err)
	}
	// Over the limit through many small attributes.
	many := item{"pk": s("p")}
	for i := range 500 {
		many[fmt.Sprintf("a%03d", i)] = s(strings.Repeat("y", 1000))
	}
	if _, err := e.Encrypt(ctx, many); !errors.Is(err, itemcrypto.ErrItemTooLarge) {
		t.Errorf("Encrypt of 500 × 1 KB attributes = %v; want ErrItemTooLarge", err)
	}
	// A custom limit.
	small := newEncryptor(t, "T", p, prov, func(o *itemcrypto.Options) { o.MaxItemSize = 1000 })
	if _, err := small.Encrypt(ctx, item{"pk": s("p"), "data": s(strings.Repeat("x", 2000))}); !errors.Is(err, itemcrypto.ErrItemTooLarge) {
		t.Errorf("MaxItemSize 1000, 2000-byte item: %v; want ErrItemTooLarge", err)
	}
	if _, err := small.Encrypt(ctx, item{"pk": s("p"), "data": s("x")}); err != nil {
		t.Errorf("MaxItemSize 1000, tiny item: %v", err)
	}
	// No limit.
	unlimited := newEncryptor(t, "T", p, prov, func(o *itemcrypto.Options) { o.MaxItemSize = -1 })
	big := item{"pk": s("p"), "data": s(strings.Repeat("x", 500*1024))}
	stored, err := unlimited.Encrypt(ctx, big)
	if err != nil {
		t.Fatalf("MaxItemSize -1, 500 KiB item: %v", err)
	}
	if got, err := unlimited.Decrypt(ctx, stored); err != nil || !sameItem(got, big) {
		t.Errorf("MaxItemSize -1: Decrypt = %v", err)
	}
}

// ---------------------------------------------------------------------------
// Providers: context, errors

type ctxKey struct{}

// recordingProvider wraps a provider and records what it is given.
type recordingProvider struct {
	inner          cmp.Provider
	mu             sync.Mutex
	encCtx, decCtx []any
	encEC, decEC   []cmp.EncryptionContext
	encErr, decErr error
}

func (r *recordingProvider) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	r.mu.Lock()
	r.encCtx = append(r.encCtx, ctx.Value(ctxKey{}))
	r.encEC = append(r.encEC, ec)
	err := r.encErr
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.inner.EncryptionMaterials(ctx, ec)
}

func (r *recordingProvider) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	r.mu.Lock()
	r.decCtx = append(r.decCtx, ctx.Value(ctxKey{}))
	r.decEC = append(r.decEC, ec)
	err := r.decErr
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.inner.DecryptionMaterials(ctx, ec)
}

func TestProviderReceivesContext(t *testing.T) {
	rp := &recordingProvider{inner: wrappedAESProvider(t)}
	e := newEncryptor(t, "CtxTable", tamperPolicy(), rp)
	plain := tamperPlaintext()
	ctx := context.WithValue(context.Background(), ctxKey{}, "request-1")
	stored, err := e.Encrypt(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	ctx2 := context.WithValue(context.Background(), ctxKey{}, "request-2")
	if _, err := e.Decrypt(ctx2, stored); err != nil {
		t.Fatal(err)
	}
	if len(rp.encCtx) != 1 || rp.encCtx[0] != "request-1" {
		t.Errorf("EncryptionMaterials saw context values %v; want [request-1]", rp.encCtx)
	}
	if len(rp.decCtx) != 1 || rp.decCtx[0] != "request-2" {
		t.Errorf("DecryptionMaterials saw context values %v; want [request-2]", rp.decCtx)
	}
	ec := rp.encEC[0]
	if ec.TableName != "CtxTable" || ec.PartitionKeyName != "pk" || ec.SortKeyName != "sk" {
		t.Errorf("encrypt EncryptionContext = %q %q %q; want CtxTable pk sk", ec.TableName, ec.PartitionKeyName, ec.SortKeyName)
	}
	if !sameItem(ec.Attributes, plain) || ec.MaterialDescription != nil {
		t.Errorf("encrypt EncryptionContext: attributes are not the plaintext, or description %v not nil", ec.MaterialDescription)
	}
	dc := rp.decEC[0]
	if dc.TableName != "CtxTable" || dc.PartitionKeyName != "pk" || dc.SortKeyName != "sk" {
		t.Errorf("decrypt EncryptionContext = %q %q %q; want CtxTable pk sk", dc.TableName, dc.PartitionKeyName, dc.SortKeyName)
	}
	if !reflect.DeepEqual(dc.Attributes, stored) {
		t.Errorf("decrypt EncryptionContext: attributes are not the stored item")
	}
	if !reflect.DeepEqual(dc.MaterialDescription, descOf(t, stored)) {
		t.Errorf("decrypt EncryptionContext: description %v; want the item's", dc.MaterialDescription)
	}
}

func TestProviderErrors(t *testing.T) {
	ctx := context.Background()
	errKMS := errors.New("kms unreachable")
	rp := &recordingProvider{inner: staticProvider(t)}
	e := newEncryptor(t, "T", tamperPolicy(), rp)
	stored := encryptOK(t, e, tamperPlaintext())

	rp.encErr = errKMS
	if got, err := e.Encrypt(ctx, tamperPlaintext()); !errors.Is(err, errKMS) || got != nil {
		t.Errorf("Encrypt with a failing provider = %v, %v; want nil, the provider's error", got != nil, err)
	}
	rp.decErr = errKMS
	if got, err := e.Decrypt(ctx, stored); !errors.Is(err, errKMS) || got != nil {
		t.Errorf("Decrypt with a failing provider = %v, %v; want nil, the provider's error", got != nil, err)
	}
	// An authentication failure of the provider is the opaque error, without detail.
	rp.decErr = fmt.Errorf("unwrap of key id 1234: %w", cmp.ErrAuthentication)
	got, err := e.Decrypt(ctx, stored)
	if !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
		t.Errorf("Decrypt with a provider authentication failure = %v, %v; want nil, ErrAuthentication", got != nil, err)
	} else if strings.Contains(err.Error(), "1234") {
		t.Errorf("authentication error %q carries provider detail", err)
	}
}

// ---------------------------------------------------------------------------
// Concurrency (run with -race)

func TestConcurrentUse(t *testing.T) {
	const workers, iterations = 8, 200
	for _, pc := range testProviders(t)[:2] { // RSA is too slow for 3200 operations under -race
		t.Run(pc.name, func(t *testing.T) {
			e := newEncryptor(t, "Concurrent", tamperPolicy(), pc.p)
			shared := tamperPlaintext() // read concurrently by every goroutine
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					for i := range iterations {
						plain := shared
						if i%2 == 1 {
							plain = cloneItem(shared)
							plain["pk"] = s(fmt.Sprintf("worker-%d-%d", w, i))
						}
						stored, err := e.Encrypt(ctx, plain)
						if err != nil {
							errs <- fmt.Errorf("worker %d: Encrypt: %w", w, err)
							return
						}
						got, err := e.Decrypt(ctx, stored)
						if err != nil {
							errs <- fmt.Errorf("worker %d: Decrypt: %w", w, err)
							return
						}
						if !sameItem(got, plain) {
							errs <- fmt.Errorf("worker %d iteration %d: round trip differs: %s", w, i, diffItems(got, plain))
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if !reflect.DeepEqual(shared, tamperPlaintext()) {
				t.Errorf("shared input item modified")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Printing an Encryptor never shows keys.

func TestEncryptorDoesNotPrintKeys(t *testing.T) {
	secret := bytes.Repeat([]byte{0x42}, 32)
	aesKey := must(cmp.NewAESKey(secret))
	mac := must(cmp.NewHMACKey("", secret))
	for _, prov := range []cmp.Provider{
		must(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aesKey, SigningKey: mac})),
		must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aesKey, UnwrappingKey: aesKey, SigningKey: mac})),
	} {
		e := newEncryptor(t, "T", tamperPolicy(), prov)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			for _, v := range []any{e, *e, itemcrypto.Config{TableName: "T", Policy: tamperPolicy(), Provider: prov}} {
				out := fmt.Sprintf(verb, v)
				for _, m := range []string{"4242", "QkJC", "BBBB", "66 66"} {
					if strings.Contains(out, m) {
						t.Errorf("%T printed with %s contains %q: %.120s", v, verb, m, out)
					}
				}
			}
		}
	}
}

package cmptest

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Options describe the provider under test. Run starts from the defaults
// (Encrypts set, everything else zero) and applies its option functions.
type Options struct {
	// FreshKeyPerItem states that the provider makes a new content key for
	// every item (Wrapped, DirectKMS, MostRecent do; Static does not). The
	// FreshKeyPerItem subtest is skipped when it is false.
	FreshKeyPerItem bool
	// Encrypts states that the provider hands out a content key. It is true
	// by default; set it to false for a provider that only signs, and the
	// suite then protects items with a policy that signs but encrypts
	// nothing, and checks that no content key is handed out.
	Encrypts bool
	// Other returns a provider with other keys: of the same kind as the one
	// under test (another KMS key, another provider store) is the most
	// telling, since the suite already tries a Wrapped and a Static provider
	// with random keys. It must be able to protect items with the same
	// policy (so it must encrypt when Encrypts is set). nil means only the
	// suite's own.
	Other func(t *testing.T) cmp.Provider
}

// Fixed adapts a single provider instance to Run: every call of the
// returned constructor returns p. Prefer a constructor of new instances,
// which lets the NewInstance subtest check that a fresh instance finds its
// keys from an item's material description alone.
func Fixed(p cmp.Provider) func(t *testing.T) cmp.Provider {
	return func(*testing.T) cmp.Provider { return p }
}

// Run runs the conformance suite on the provider that newProvider makes, in
// subtests of t. newProvider is called at least once per subtest, with that
// subtest's t; every instance it returns must share key material. See the
// package documentation for the checks.
func Run(t *testing.T, newProvider func(t *testing.T) cmp.Provider, optFns ...func(*Options)) {
	t.Helper()
	if newProvider == nil {
		t.Fatal("cmptest.Run: newProvider is nil")
	}
	opts := Options{Encrypts: true}
	for _, fn := range optFns {
		fn(&opts)
	}
	s := &suite{newProvider: newProvider, opts: opts}
	s.policy, s.pkOnlyPolicy = policies(opts.Encrypts)
	t.Run("RoundTrip", s.testRoundTrip)
	t.Run("NewInstance", s.testNewInstance)
	t.Run("FreshKeyPerItem", s.testFreshKeyPerItem)
	t.Run("ForeignItems", s.testForeignItems)
	t.Run("Concurrent", s.testConcurrent)
	t.Run("Context", s.testContext)
	t.Run("Materials", s.testMaterials)
	t.Run("MutatedDescription", s.testMutatedDescription)
	t.Run("Tamper", s.testTamper)
}

// Table and attribute names of the suite's items.
const (
	tableName    = "cmptest-items"
	otherTable   = "cmptest-other-items"
	partitionKey = "pk"
	sortKey      = "sk"
	encryptedRef = "name"  // an EncryptAndSign attribute (when the policy encrypts)
	signedRef    = "email" // a SignOnly attribute
)

type suite struct {
	newProvider          func(*testing.T) cmp.Provider
	opts                 Options
	policy, pkOnlyPolicy *actions.Policy
}

// policies returns the policy of the suite's items (partition and sort key)
// and the one for a table with a partition key only.
func policies(encrypts bool) (*actions.Policy, *actions.Policy) {
	def, name := actions.EncryptAndSign, actions.EncryptAndSign
	if !encrypts {
		def, name = actions.SignOnly, actions.SignOnly
	}
	overrides := map[string]actions.Action{
		encryptedRef: name,
		signedRef:    actions.SignOnly,
		"version":    actions.SignOnly,
		"ttl":        actions.DoNothing,
		"note":       actions.DoNothing,
	}
	full := actions.Must(actions.Options{Default: def, Overrides: overrides, PartitionKey: partitionKey, SortKey: sortKey})
	pkOnly := actions.Must(actions.Options{Default: def, Overrides: overrides, PartitionKey: partitionKey})
	return full, pkOnly
}

// provider returns a new instance of the provider under test, checked on
// every call.
func (s *suite) provider(t *testing.T) cmp.Provider {
	t.Helper()
	p := s.newProvider(t)
	if p == nil {
		t.Fatal("newProvider returned nil")
	}
	return &checked{t: t, p: p}
}

// other returns a provider that is not under test, unchecked.
func other(t *testing.T, newOther func(*testing.T) cmp.Provider) cmp.Provider {
	t.Helper()
	p := newOther(t)
	if p == nil {
		t.Fatal("Options.Other returned nil")
	}
	return p
}

func newEncryptor(t *testing.T, table string, policy *actions.Policy, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: policy, Provider: p})
	if err != nil {
		t.Fatalf("itemcrypto.New: %v", err)
	}
	return e
}

func (s *suite) encryptor(t *testing.T, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	return newEncryptor(t, tableName, s.policy, p)
}

// sampleItem is a realistic item with every attribute type. Numbers are in
// canonical form and sets in canonical order, so that a decrypted item is
// deeply equal to it.
func sampleItem(pk string, sk int) itemcrypto.Item {
	return itemcrypto.Item{
		partitionKey: &types.AttributeValueMemberS{Value: pk},
		sortKey:      &types.AttributeValueMemberN{Value: fmt.Sprint(sk)},
		encryptedRef: &types.AttributeValueMemberS{Value: "Ada Lovelace ✓ 名前"},
		signedRef:    &types.AttributeValueMemberS{Value: "ada@example.com"},
		"version":    &types.AttributeValueMemberN{Value: "7"},
		"ttl":        &types.AttributeValueMemberN{Value: "1893456000"},
		"note":       &types.AttributeValueMemberS{Value: "not signed"},
		"age":        &types.AttributeValueMemberN{Value: "36"},
		"balance":    &types.AttributeValueMemberN{Value: "-1234.5"},
		"avatar":     &types.AttributeValueMemberB{Value: []byte{0x89, 'P', 'N', 'G', 0x00, 0xff}},
		"tags":       &types.AttributeValueMemberSS{Value: []string{"admin", "eu-west"}},
		"scores":     &types.AttributeValueMemberNS{Value: []string{"-1.5", "10", "42"}},
		"keys":       &types.AttributeValueMemberBS{Value: [][]byte{{0x00, 0x01}, {0xff}}},
		"active":     &types.AttributeValueMemberBOOL{Value: true},
		"deleted_at": &types.AttributeValueMemberNULL{Value: true},
		"address": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"street": &types.AttributeValueMemberS{Value: "12 Rue de Rivoli"},
			"zip":    &types.AttributeValueMemberN{Value: "75001"},
			"geo": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberN{Value: "48.85"},
				&types.AttributeValueMemberN{Value: "2.35"},
			}},
		}},
		"history": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "created"},
			&types.AttributeValueMemberN{Value: "1700000000"},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"by": &types.AttributeValueMemberS{Value: "system"},
			}},
			&types.AttributeValueMemberBOOL{Value: false},
		}},
	}
}

// diff names the attributes in which got differs from want (values are
// left out: they may be plaintext).
func diff(want, got itemcrypto.Item) string {
	var d []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[name]
		switch {
		case !ok:
			d = append(d, "missing "+name)
		case !reflect.DeepEqual(want[name], g):
			d = append(d, fmt.Sprintf("%s differs (%T)", name, g))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			d = append(d, "extra "+name)
		}
	}
	return strings.Join(d, ", ")
}

func mustEncrypt(t *testing.T, e *itemcrypto.Encryptor, item itemcrypto.Item) itemcrypto.Item {
	t.Helper()
	stored, err := e.Encrypt(context.Background(), item)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return stored
}

// checkDecrypt reports whether stored decrypts to want; what is prefixed
// to the error.
func checkDecrypt(t *testing.T, what string, e *itemcrypto.Encryptor, stored, want itemcrypto.Item) bool {
	t.Helper()
	got, err := e.Decrypt(context.Background(), stored)
	if err != nil {
		t.Errorf("%sDecrypt: %v", what, err)
		return false
	}
	if d := diff(want, got); d != "" {
		t.Errorf("%sDecrypt returned another item: %s", what, d)
		return false
	}
	return true
}

// description returns the decoded material description of a stored item.
func description(t *testing.T, stored itemcrypto.Item) materialdesc.Description {
	t.Helper()
	b, ok := stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
	if !ok {
		t.Fatalf("stored item has no binary %s", itemcrypto.MaterialDescriptionAttribute)
	}
	d, err := materialdesc.Decode(b.Value)
	if err != nil {
		t.Fatalf("materialdesc.Decode: %v", err)
	}
	return d
}

// withDescription returns a copy of stored with description d.
func withDescription(stored itemcrypto.Item, d materialdesc.Description) itemcrypto.Item {
	c := maps.Clone(stored)
	c[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: d.Encode()}
	return c
}

func (s *suite) testRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy *actions.Policy
		sk     string
	}{
		{"PartitionAndSortKey", s.policy, sortKey},
		{"PartitionKeyOnly", s.pkOnlyPolicy, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEncryptor(t, tableName, tc.policy, s.provider(t))
			item, want := sampleItem("user#1", 1), sampleItem("user#1", 1)
			stored := mustEncrypt(t, e, item)
			if d := diff(want, item); d != "" {
				t.Errorf("Encrypt modified its input: %s", d)
			}
			for name, v := range want {
				got := stored[name]
				if tc.policy.Action(name) != actions.EncryptAndSign {
					if !reflect.DeepEqual(got, v) {
						t.Errorf("stored %s (%v) differs from the plaintext", name, tc.policy.Action(name))
					}
					continue
				}
				if b, ok := got.(*types.AttributeValueMemberB); !ok || len(b.Value) == 0 {
					t.Errorf("stored %s (EncryptAndSign) is %T, want a ciphertext", name, got)
				}
			}
			for _, name := range []string{itemcrypto.MaterialDescriptionAttribute, itemcrypto.SignatureAttribute} {
				if _, ok := stored[name].(*types.AttributeValueMemberB); !ok {
					t.Errorf("stored item has no binary %s", name)
				}
			}
			before := maps.Clone(stored)
			checkDecrypt(t, "", e, stored, want)
			if d := diff(before, stored); d != "" {
				t.Errorf("Decrypt modified its input: %s", d)
			}
		})
	}
}

func (s *suite) testNewInstance(t *testing.T) {
	// Enough items that a provider which caches or rotates materials
	// after a few items does so.
	const n = 20
	a := s.encryptor(t, s.provider(t))
	b := s.encryptor(t, s.provider(t))
	for i := range n {
		stored := mustEncrypt(t, a, sampleItem("user#a", i))
		if !checkDecrypt(t, fmt.Sprintf("item %d of %d written by instance A, read by instance B: ", i+1, n), b, stored, sampleItem("user#a", i)) {
			break
		}
	}
	stored := make([]itemcrypto.Item, n)
	for i := range n {
		stored[i] = mustEncrypt(t, b, sampleItem("user#b", i))
		if !checkDecrypt(t, fmt.Sprintf("item %d of %d written by instance B, read by instance A: ", i+1, n), a, stored[i], sampleItem("user#b", i)) {
			return
		}
	}
	// A third instance that has never encrypted anything.
	c := s.encryptor(t, s.provider(t))
	for i := range n {
		if !checkDecrypt(t, fmt.Sprintf("item %d of %d written by instance B, read by a new instance C: ", i+1, n), c, stored[i], sampleItem("user#b", i)) {
			return
		}
	}
}

// fingerprint identifies a content key without revealing it: the AES-CBC
// encryption of a zero block under a zero IV.
func fingerprint(k *cmp.AESKey) (string, error) {
	ct, err := k.AppendEncryptCBC(nil, bytes.NewReader(make([]byte, 16)), make([]byte, 16))
	return hex.EncodeToString(ct), err
}

func (s *suite) testFreshKeyPerItem(t *testing.T) {
	if !s.opts.FreshKeyPerItem {
		t.Skip("Options.FreshKeyPerItem is not set")
	}
	p := s.provider(t)
	e := s.encryptor(t, p)
	const n = 20
	envKeys := map[string]int{}
	contentKeys := map[string]int{}
	ciphertexts := map[string]int{}
	ec := cmp.EncryptionContext{TableName: tableName, PartitionKeyName: partitionKey, SortKeyName: sortKey}
	for i := range n {
		item := sampleItem("user#fresh", 1)
		stored := mustEncrypt(t, e, item)
		if v, ok := description(t, stored)[materialdesc.KeyEnvelopeKey]; ok {
			if j, dup := envKeys[v]; dup {
				t.Errorf("items %d and %d have the same %s", j, i, materialdesc.KeyEnvelopeKey)
			}
			envKeys[v] = i
		}
		if b, ok := stored[encryptedRef].(*types.AttributeValueMemberB); ok {
			if j, dup := ciphertexts[string(b.Value)]; dup {
				t.Errorf("items %d and %d have the same ciphertext of %s", j, i, encryptedRef)
			}
			ciphertexts[string(b.Value)] = i
		}
		checkDecrypt(t, fmt.Sprintf("item %d: ", i), e, stored, sampleItem("user#fresh", 1))

		ec.Attributes = item
		m, err := p.EncryptionMaterials(context.Background(), ec)
		if err != nil {
			t.Fatalf("EncryptionMaterials: %v", err)
		}
		if m.EncryptionKey() == nil {
			t.Fatal("FreshKeyPerItem is set, but the encryption materials hold no content key")
		}
		fp, err := fingerprint(m.EncryptionKey())
		if err != nil {
			t.Fatalf("AppendEncryptCBC: %v", err)
		}
		if j, dup := contentKeys[fp]; dup {
			t.Errorf("EncryptionMaterials calls %d and %d returned the same content key", j, i)
		}
		contentKeys[fp] = i
	}
}

// refusal reports whether err is a proper refusal of a foreign item.
func refusal(err error) bool {
	return errors.Is(err, cmp.ErrNoMaterials) || errors.Is(err, itemcrypto.ErrAuthentication)
}

func (s *suite) testForeignItems(t *testing.T) {
	type foreign struct {
		name     string
		provider func(*testing.T) cmp.Provider
	}
	var others []foreign
	if s.opts.Other != nil {
		others = append(others, foreign{"Other", s.opts.Other})
	}
	others = append(others, foreign{"RandomWrapped", randomWrapped}, foreign{"RandomStatic", randomStatic})
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			t.Run("ProviderRefuses", func(t *testing.T) {
				theirs := newEncryptor(t, tableName, s.policy, other(t, o.provider))
				ours := s.encryptor(t, s.provider(t))
				stored := mustEncrypt(t, theirs, sampleItem("user#foreign", 1))
				got, err := ours.Decrypt(context.Background(), stored)
				switch {
				case err == nil:
					t.Errorf("the provider decrypted an item of another provider")
				case got != nil:
					t.Errorf("Decrypt returned an item with its error %v", err)
				case !refusal(err):
					t.Errorf("reading another provider's item: error %v, want one matching cmp.ErrNoMaterials or itemcrypto.ErrAuthentication", err)
				}
			})
			t.Run("OtherRefuses", func(t *testing.T) {
				ours := s.encryptor(t, s.provider(t))
				theirs := newEncryptor(t, tableName, s.policy, other(t, o.provider))
				stored := mustEncrypt(t, ours, sampleItem("user#foreign", 2))
				_, err := theirs.Decrypt(context.Background(), stored)
				switch {
				case err == nil:
					t.Errorf("another provider decrypted the provider's item")
				case !refusal(err):
					t.Errorf("another provider reading the provider's item: error %v, want one matching cmp.ErrNoMaterials or itemcrypto.ErrAuthentication", err)
				}
			})
		})
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	const goroutines, iterations = 8, 50
	e := s.encryptor(t, s.provider(t)) // a new instance: its caches start cold
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			ctx := context.Background()
			for i := range iterations {
				pk := fmt.Sprintf("user#%d", g)
				stored, err := e.Encrypt(ctx, sampleItem(pk, i))
				if err != nil {
					t.Errorf("goroutine %d, item %d: Encrypt: %v", g, i, err)
					return
				}
				got, err := e.Decrypt(ctx, stored)
				if err != nil {
					t.Errorf("goroutine %d, item %d: Decrypt: %v", g, i, err)
					return
				}
				if d := diff(sampleItem(pk, i), got); d != "" {
					t.Errorf("goroutine %d, item %d: Decrypt returned another item: %s", g, i, d)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
}

func (s *suite) testContext(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"Canceled", canceled, context.Canceled},
		{"DeadlineExceeded", expired, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			check := func(what string, err error) bool {
				t.Helper()
				switch {
				case err == nil:
					t.Logf("%s with a done context: succeeded", what)
				case errors.Is(err, tc.want):
					t.Logf("%s with a done context: %v", what, err)
				default:
					t.Errorf("%s with a done context: error %v, want nil or one matching %v", what, err, tc.want)
				}
				return err == nil
			}
			warm := s.provider(t)
			warmEnc := s.encryptor(t, warm)
			want := sampleItem("user#ctx", 1)
			stored := mustEncrypt(t, warmEnc, sampleItem("user#ctx", 1))
			ec := cmp.EncryptionContext{TableName: tableName, PartitionKeyName: partitionKey, SortKeyName: sortKey, Attributes: want}

			// New instances: nothing cached yet.
			_, err := s.provider(t).EncryptionMaterials(ctx, ec)
			check("EncryptionMaterials on a new instance", err)
			dec := ec
			dec.Attributes = stored
			dec.MaterialDescription = description(t, stored)
			_, err = s.provider(t).DecryptionMaterials(ctx, dec)
			check("DecryptionMaterials on a new instance", err)
			out, err := s.encryptor(t, s.provider(t)).Encrypt(ctx, sampleItem("user#ctx", 2))
			if check("Encrypt with a new instance", err) && out == nil {
				t.Error("Encrypt returned neither an item nor an error")
			}
			got, err := s.encryptor(t, s.provider(t)).Decrypt(ctx, stored)
			if check("Decrypt with a new instance", err) {
				if d := diff(want, got); d != "" {
					t.Errorf("Decrypt with a done context returned another item: %s", d)
				}
			}

			// The instance that has just written an item.
			_, err = warmEnc.Encrypt(ctx, sampleItem("user#ctx", 3))
			check("Encrypt with a used instance", err)
			got, err = warmEnc.Decrypt(ctx, stored)
			if check("Decrypt with a used instance", err) {
				if d := diff(want, got); d != "" {
					t.Errorf("Decrypt with a done context returned another item: %s", d)
				}
			}
		})
	}
}

func (s *suite) testMaterials(t *testing.T) {
	ctx := context.Background()
	t.Run("Encryption", func(t *testing.T) {
		p := s.provider(t)
		m, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{
			TableName: tableName, PartitionKeyName: partitionKey, SortKeyName: sortKey, Attributes: sampleItem("user#m", 1),
		})
		if err != nil {
			t.Fatalf("EncryptionMaterials: %v", err)
		}
		// checked has verified the signing key.
		switch {
		case s.opts.Encrypts && m.EncryptionKey() == nil:
			t.Error("encryption materials hold no content key (set Options.Encrypts to false for a provider that only signs)")
		case !s.opts.Encrypts && m.EncryptionKey() != nil:
			t.Error("Options.Encrypts is false, but the encryption materials hold a content key")
		}
		desc := m.Description()
		for k, v := range desc {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Errorf("description entry %q is not valid UTF-8: items written with it cannot be read", k)
			}
		}
		decoded, err := materialdesc.Decode(desc.Encode())
		if err != nil {
			t.Errorf("the description does not decode after encoding: %v", err)
		} else if len(decoded) != len(desc) || !maps.Equal(decoded, desc) {
			t.Error("the description changes when encoded and decoded")
		}
	})
	t.Run("Decryption", func(t *testing.T) {
		stored := mustEncrypt(t, s.encryptor(t, s.provider(t)), sampleItem("user#m", 2))
		m, err := s.provider(t).DecryptionMaterials(ctx, cmp.EncryptionContext{
			TableName: tableName, PartitionKeyName: partitionKey, SortKeyName: sortKey,
			Attributes: stored, MaterialDescription: description(t, stored),
		})
		if err != nil {
			t.Fatalf("DecryptionMaterials for the provider's own item: %v", err)
		}
		// checked has verified the verification key.
		if s.opts.Encrypts && m.DecryptionKey() == nil {
			t.Error("decryption materials hold no content key")
		}
	})
	t.Run("EmptyDescription", func(t *testing.T) {
		p := s.provider(t)
		stored := mustEncrypt(t, s.encryptor(t, p), sampleItem("user#m", 3))
		for _, d := range []materialdesc.Description{nil, {}} {
			_, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{
				TableName: tableName, PartitionKeyName: partitionKey, SortKeyName: sortKey,
				Attributes: stored, MaterialDescription: d,
			})
			if err != nil && !refusal(err) {
				t.Errorf("DecryptionMaterials with an empty description (%#v): error %v, want materials or one matching cmp.ErrNoMaterials", d, err)
			}
		}
	})
}

// mutations returns altered copies of d, by name.
func mutations(d materialdesc.Description) (names []string, descs []materialdesc.Description) {
	add := func(name string, m materialdesc.Description) {
		names = append(names, name)
		descs = append(descs, m)
	}
	for _, k := range slices.Sorted(maps.Keys(d)) {
		v := d[k]
		m := d.Clone()
		delete(m, k)
		add("without "+k, m)
		for _, nv := range []string{"", "cmptest-garbage", alter(v), v + "0", "AAAA"} {
			if nv == v {
				continue
			}
			m := d.Clone()
			m[k] = nv
			add(fmt.Sprintf("%s set to %q", k, nv), m)
		}
	}
	m := d.Clone()
	m["cmptest-extra"] = "x"
	add("with an extra entry", m)
	return names, descs
}

// alter changes one character in the middle of v (base64 and decimal
// digits stay in their alphabet).
func alter(v string) string {
	r := []rune(v)
	if len(r) == 0 {
		return "A"
	}
	i := len(r) / 2
	switch {
	case r[i] == 'A':
		r[i] = 'B'
	case r[i] == '0':
		r[i] = '1'
	case r[i] >= '1' && r[i] <= '9':
		r[i] = '0'
	default:
		r[i] = 'A'
	}
	return string(r)
}

func (s *suite) testMutatedDescription(t *testing.T) {
	e := s.encryptor(t, s.provider(t))
	want := sampleItem("user#desc", 1)
	stored := mustEncrypt(t, e, sampleItem("user#desc", 1))
	names, descs := mutations(description(t, stored))
	for i, d := range descs {
		got, err := e.Decrypt(context.Background(), withDescription(stored, d))
		switch {
		case err == nil:
			if diff := diff(want, got); diff != "" {
				t.Errorf("description %s: Decrypt returned another item: %s", names[i], diff)
			}
		case !errors.Is(err, itemcrypto.ErrAuthentication):
			t.Errorf("description %s: error %v, want one matching itemcrypto.ErrAuthentication", names[i], err)
		}
	}
}

func (s *suite) testTamper(t *testing.T) {
	p := s.provider(t)
	e := s.encryptor(t, p)
	stored := mustEncrypt(t, e, sampleItem("user#tamper", 1))
	flip := func(name string) itemcrypto.Item {
		t.Helper()
		b, ok := stored[name].(*types.AttributeValueMemberB)
		if !ok {
			t.Fatalf("stored %s is %T, want binary", name, stored[name])
		}
		v := bytes.Clone(b.Value)
		v[len(v)-1] ^= 0x01
		c := maps.Clone(stored)
		c[name] = &types.AttributeValueMemberB{Value: v}
		return c
	}
	wantAuth := func(t *testing.T, e *itemcrypto.Encryptor, item itemcrypto.Item) {
		t.Helper()
		got, err := e.Decrypt(context.Background(), item)
		if !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Errorf("Decrypt of a tampered item: error %v, want one matching itemcrypto.ErrAuthentication", err)
		}
		if got != nil {
			t.Error("Decrypt of a tampered item returned an item")
		}
	}
	t.Run("EncryptedAttribute", func(t *testing.T) {
		if !s.opts.Encrypts {
			t.Skip("Options.Encrypts is false")
		}
		wantAuth(t, e, flip(encryptedRef))
	})
	t.Run("SignedAttribute", func(t *testing.T) {
		c := maps.Clone(stored)
		c[signedRef] = &types.AttributeValueMemberS{Value: "eve@example.com"}
		wantAuth(t, e, c)
	})
	t.Run("PartitionKey", func(t *testing.T) {
		c := maps.Clone(stored)
		c[partitionKey] = &types.AttributeValueMemberS{Value: "user#other"}
		wantAuth(t, e, c)
	})
	t.Run("Signature", func(t *testing.T) {
		wantAuth(t, e, flip(itemcrypto.SignatureAttribute))
	})
	t.Run("OtherTable", func(t *testing.T) {
		wantAuth(t, newEncryptor(t, otherTable, s.policy, p), stored)
	})
}

// randomWrapped is a Wrapped provider with random keys.
func randomWrapped(t *testing.T) cmp.Provider {
	t.Helper()
	kek, err := cmp.NewAESKey(random(32))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", random(32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// randomStatic is a Static provider with random keys.
func randomStatic(t *testing.T) cmp.Provider {
	t.Helper()
	enc, err := cmp.NewAESKey(random(32))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", random(32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: enc, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func random(n int) []byte {
	b := make([]byte, n)
	crand.Read(b)
	return b
}

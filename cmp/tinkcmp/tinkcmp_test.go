package tinkcmp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/testing/fakekms"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

const (
	table    = "orders"
	pkName   = "customer"
	skName   = "order"
	kekAD    = "itemcrypto tinkcmp test keyset"
	fakeBase = "fake-kms://"
)

func newHandle(t testing.TB) *keyset.Handle {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatalf("keyset.NewHandle: %v", err)
	}
	return h
}

func mustNew(t testing.TB, h *keyset.Handle) *tinkcmp.Provider {
	t.Helper()
	p, err := tinkcmp.New(h)
	if err != nil {
		t.Fatalf("tinkcmp.New: %v", err)
	}
	return p
}

func keysetProvider(h *keyset.Handle) func(*testing.T) cmp.Provider {
	return func(t *testing.T) cmp.Provider { return mustNew(t, h) }
}

func newKeyURI(t testing.TB) string {
	t.Helper()
	uri, err := fakekms.NewKeyURI()
	if err != nil {
		t.Fatalf("fakekms.NewKeyURI: %v", err)
	}
	return uri
}

func kmsAEAD(t testing.TB, uri string) tink.AEADWithContext {
	t.Helper()
	a, err := fakekms.NewAEADWithContext(uri)
	if err != nil {
		t.Fatalf("fakekms.NewAEADWithContext: %v", err)
	}
	return a
}

func kmsProvider(uri string) func(*testing.T) cmp.Provider {
	return func(t *testing.T) cmp.Provider {
		p, err := tinkcmp.NewKMS(kmsAEAD(t, uri))
		if err != nil {
			t.Fatalf("tinkcmp.NewKMS: %v", err)
		}
		return p
	}
}

func freshKeys(o *cmptest.Options) { o.FreshKeyPerItem = true }

func TestConformanceKeyset(t *testing.T) {
	h, other := newHandle(t), newHandle(t)
	cmptest.Run(t, keysetProvider(h), freshKeys, func(o *cmptest.Options) {
		o.Other = keysetProvider(other)
	})
}

// A keyset after rotation: two enabled keys, the newer primary.
func TestConformanceRotatedKeyset(t *testing.T) {
	m := keyset.NewManagerFromHandle(newHandle(t))
	id, err := m.Add(aead.XChaCha20Poly1305KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(id); err != nil {
		t.Fatal(err)
	}
	h, err := m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	cmptest.Run(t, keysetProvider(h), freshKeys)
}

func TestConformanceFakeKMS(t *testing.T) {
	uri, other := newKeyURI(t), newKeyURI(t)
	cmptest.Run(t, kmsProvider(uri), freshKeys, func(o *cmptest.Options) {
		o.Other = kmsProvider(other)
	})
}

// NewKMSClient over fakekms, whose GetAEAD returns an AEAD without context.
func TestConformanceKMSClient(t *testing.T) {
	uri := newKeyURI(t)
	client, err := fakekms.NewClient(fakeBase)
	if err != nil {
		t.Fatal(err)
	}
	cmptest.Run(t, func(t *testing.T) cmp.Provider {
		p, err := tinkcmp.NewKMSClient(client, uri)
		if err != nil {
			t.Fatalf("NewKMSClient: %v", err)
		}
		return p
	}, freshKeys, func(o *cmptest.Options) { o.Other = kmsProvider(newKeyURI(t)) })
}

// encryptedKeyset writes h encrypted under the fake KMS key with w.
func encryptedKeyset(t *testing.T, h *keyset.Handle, kek tink.AEADWithContext, json bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w keyset.Writer = keyset.NewBinaryWriter(&buf)
	if json {
		w = keyset.NewJSONWriter(&buf)
	}
	if err := h.WriteWithContext(context.Background(), w, kek, []byte(kekAD)); err != nil {
		t.Fatalf("WriteWithContext: %v", err)
	}
	return buf.Bytes()
}

func TestConformanceEncryptedKeyset(t *testing.T) {
	kek := kmsAEAD(t, newKeyURI(t))
	for _, json := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", json), func(t *testing.T) {
			h := newHandle(t)
			blob := encryptedKeyset(t, h, kek, json)
			key := insecurecleartextkeyset.KeysetMaterial(h).GetKey()[0].GetKeyData().GetValue()
			if bytes.Contains(blob, key) {
				t.Fatal("the encrypted keyset holds the key in clear")
			}
			cmptest.Run(t, func(t *testing.T) cmp.Provider {
				var r keyset.Reader = keyset.NewBinaryReader(bytes.NewReader(blob))
				if json {
					r = keyset.NewJSONReader(bytes.NewReader(blob))
				}
				p, err := tinkcmp.NewFromEncryptedKeyset(context.Background(), r, kek, []byte(kekAD))
				if err != nil {
					t.Fatalf("NewFromEncryptedKeyset: %v", err)
				}
				return p
			}, freshKeys)
		})
	}
}

// The legacy (context-free) Write and Read of tink-go produce keysets that
// NewFromEncryptedKeyset reads with the same KMS key.
func TestEncryptedKeysetLegacyWrite(t *testing.T) {
	uri := newKeyURI(t)
	plain, err := fakekms.NewAEAD(uri)
	if err != nil {
		t.Fatal(err)
	}
	h := newHandle(t)
	var buf bytes.Buffer
	if err := h.Write(keyset.NewJSONWriter(&buf), plain); err != nil {
		t.Fatalf("Write: %v", err)
	}
	blob := buf.Bytes()
	ctx := context.Background()
	p, err := tinkcmp.NewFromEncryptedKeyset(ctx, keyset.NewJSONReader(bytes.NewReader(blob)), kmsAEAD(t, uri), nil)
	if err != nil {
		t.Fatalf("NewFromEncryptedKeyset: %v", err)
	}
	e := encryptor(t, table, p)
	stored := mustEncrypt(t, e, item("c-1", 1))
	// The plain handle reads what the provider over the decrypted one wrote.
	mustDecrypt(t, encryptor(t, table, mustNew(t, h)), stored)

	// Another KMS key, wrong associated data, a cancelled context: refused.
	if _, err := tinkcmp.NewFromEncryptedKeyset(ctx, keyset.NewJSONReader(bytes.NewReader(blob)), kmsAEAD(t, newKeyURI(t)), nil); err == nil {
		t.Error("NewFromEncryptedKeyset with another KMS key succeeded")
	}
	if _, err := tinkcmp.NewFromEncryptedKeyset(ctx, keyset.NewJSONReader(bytes.NewReader(blob)), kmsAEAD(t, uri), []byte("other")); err == nil {
		t.Error("NewFromEncryptedKeyset with other associated data succeeded")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tinkcmp.NewFromEncryptedKeyset(canceled, keyset.NewJSONReader(bytes.NewReader(blob)), kmsAEAD(t, uri), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("NewFromEncryptedKeyset with a cancelled context: error %v, want context.Canceled", err)
	}
}

// --- helpers over itemcrypto ---

var policy = actions.Must(actions.Options{
	Default:      actions.EncryptAndSign,
	Overrides:    map[string]actions.Action{"status": actions.SignOnly},
	PartitionKey: pkName,
	SortKey:      skName,
})

func encryptor(t testing.TB, tableName string, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(itemcrypto.Config{TableName: tableName, Policy: policy, Provider: p})
	if err != nil {
		t.Fatalf("itemcrypto.New: %v", err)
	}
	return e
}

func item(customer string, order int) itemcrypto.Item {
	return itemcrypto.Item{
		pkName:   &types.AttributeValueMemberS{Value: customer},
		skName:   &types.AttributeValueMemberN{Value: fmt.Sprint(order)},
		"status": &types.AttributeValueMemberS{Value: "shipped"},
		"card":   &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	}
}

func mustEncrypt(t testing.TB, e *itemcrypto.Encryptor, it itemcrypto.Item) itemcrypto.Item {
	t.Helper()
	stored, err := e.Encrypt(context.Background(), it)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return stored
}

func mustDecrypt(t testing.TB, e *itemcrypto.Encryptor, stored itemcrypto.Item) itemcrypto.Item {
	t.Helper()
	got, err := e.Decrypt(context.Background(), stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if s, ok := got["card"].(*types.AttributeValueMemberS); !ok || s.Value != "4111 1111 1111 1111" {
		t.Fatalf("Decrypt returned card %T, want the plaintext", got["card"])
	}
	return got
}

func description(t testing.TB, stored itemcrypto.Item) materialdesc.Description {
	t.Helper()
	b, ok := stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
	if !ok {
		t.Fatal("no material description")
	}
	d, err := materialdesc.Decode(b.Value)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func withDescription(stored itemcrypto.Item, d materialdesc.Description) itemcrypto.Item {
	c := maps.Clone(stored)
	c[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: d.Encode()}
	return c
}

func itemKeyID(t testing.TB, stored itemcrypto.Item) uint32 {
	t.Helper()
	id, ok := tinkcmp.KeyID(description(t, stored))
	if !ok {
		t.Fatal("KeyID: the item names no keyset key")
	}
	return id
}

func primaryID(t testing.TB, h *keyset.Handle) uint32 {
	t.Helper()
	e, err := h.Primary()
	if err != nil {
		t.Fatal(err)
	}
	return e.KeyID()
}

// --- wire format ---

func TestDescription(t *testing.T) {
	h := newHandle(t)
	stored := mustEncrypt(t, encryptor(t, table, mustNew(t, h)), item("c-1", 1))
	d := description(t, stored)
	want := map[string]string{
		materialdesc.KeyWrapAlg:     tinkcmp.WrapAlgKeyset,
		materialdesc.KeyEnvelopeAlg: "AES/256",
		materialdesc.KeySymMode:     materialdesc.SymModeCBC,
		materialdesc.KeySigningAlg:  "HmacSHA256",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("description %s = %q, want %q", k, d[k], v)
		}
	}
	if len(d) != len(want)+1 {
		t.Errorf("description has %d entries, want %d", len(d), len(want)+1)
	}
	ct, err := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
	if err != nil {
		t.Fatalf("amzn-ddb-env-key is not standard base64: %v", err)
	}
	// Tink prefix (5) + AES-GCM nonce (12) + 64-byte secret + tag (16).
	if len(ct) != 5+12+64+16 {
		t.Errorf("wrapped key is %d bytes, want %d", len(ct), 5+12+64+16)
	}
	if ct[0] != 0x01 {
		t.Errorf("wrapped key starts with %#x, want the Tink prefix 0x01", ct[0])
	}
	if got, want := itemKeyID(t, stored), primaryID(t, h); got != want {
		t.Errorf("KeyID = %d, want the primary key %d", got, want)
	}

	kms := mustEncrypt(t, encryptor(t, table, kmsProvider(newKeyURI(t))(t)), item("c-1", 1))
	if got := description(t, kms)[materialdesc.KeyWrapAlg]; got != tinkcmp.WrapAlgKMS {
		t.Errorf("KMS item wrap-alg = %q, want %q", got, tinkcmp.WrapAlgKMS)
	}
	if _, ok := tinkcmp.KeyID(description(t, kms)); ok {
		t.Error("KeyID of a KMS item: ok, want false")
	}
}

// Keyset and KMS items are each other's foreign items: "not mine".
func TestWrapAlgSeparatesSources(t *testing.T) {
	ks := mustNew(t, newHandle(t))
	km := kmsProvider(newKeyURI(t))(t)
	for _, tc := range []struct {
		name         string
		writer, read cmp.Provider
	}{{"KMS item, keyset reader", km, ks}, {"keyset item, KMS reader", ks, km}} {
		stored := mustEncrypt(t, encryptor(t, table, tc.writer), item("c-1", 1))
		_, err := encryptor(t, table, tc.read).Decrypt(context.Background(), stored)
		if !errors.Is(err, cmp.ErrNoMaterials) || !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Errorf("%s: error %v, want cmp.ErrNoMaterials and itemcrypto.ErrAuthentication", tc.name, err)
		}
	}
}

// --- associated data ---

func TestAssociatedDataBinding(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    cmp.Provider
	}{{"keyset", mustNew(t, newHandle(t))}, {"KMS", kmsProvider(newKeyURI(t))(t)}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			stored := mustEncrypt(t, encryptor(t, table, tc.p), item("c-1", 1))
			ec := cmp.EncryptionContext{TableName: table, PartitionKeyName: pkName, SortKeyName: skName,
				Attributes: stored, MaterialDescription: description(t, stored)}
			if _, err := tc.p.DecryptionMaterials(ctx, ec); err != nil {
				t.Fatalf("DecryptionMaterials of the item as stored: %v", err)
			}
			with := func(name string, v types.AttributeValue) map[string]types.AttributeValue {
				c := maps.Clone(stored)
				c[name] = v
				return c
			}
			cases := map[string]func(*cmp.EncryptionContext){
				"other table": func(ec *cmp.EncryptionContext) { ec.TableName = "orders-archive" },
				"other partition key": func(ec *cmp.EncryptionContext) {
					ec.Attributes = with(pkName, &types.AttributeValueMemberS{Value: "c-2"})
				},
				"other sort key": func(ec *cmp.EncryptionContext) {
					ec.Attributes = with(skName, &types.AttributeValueMemberN{Value: "2"})
				},
				"partition key as B": func(ec *cmp.EncryptionContext) {
					ec.Attributes = with(pkName, &types.AttributeValueMemberB{Value: []byte("c-1")})
				},
				"keys renamed":          func(ec *cmp.EncryptionContext) { ec.PartitionKeyName, ec.SortKeyName = "order", "customer" },
				"no sort key":           func(ec *cmp.EncryptionContext) { ec.SortKeyName = "" },
				"partition key missing": func(ec *cmp.EncryptionContext) { c := maps.Clone(stored); delete(c, pkName); ec.Attributes = c },
			}
			for name, mutate := range cases {
				ec2 := ec
				mutate(&ec2)
				m, err := tc.p.DecryptionMaterials(ctx, ec2)
				if !errors.Is(err, cmp.ErrAuthentication) || m != nil {
					t.Errorf("%s: DecryptionMaterials error %v, want cmp.ErrAuthentication", name, err)
				}
			}
			// Numbers are bound in canonical form: "1.0" is the same key as "1".
			ec2 := ec
			ec2.Attributes = with(skName, &types.AttributeValueMemberN{Value: "1.0"})
			if _, err := tc.p.DecryptionMaterials(ctx, ec2); err != nil {
				t.Errorf("sort key 1.0 for 1: %v", err)
			}
			// Through itemcrypto: an item copied to another table.
			_, err := encryptor(t, "orders-archive", tc.p).Decrypt(ctx, stored)
			if !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("item in another table: error %v, want itemcrypto.ErrAuthentication", err)
			}
		})
	}
}

// Swapping the wrapped keys of two items of one provider does not work:
// each is bound to its own primary key.
func TestSwappedWrappedKey(t *testing.T) {
	e := encryptor(t, table, mustNew(t, newHandle(t)))
	a := mustEncrypt(t, e, item("c-1", 1))
	b := mustEncrypt(t, e, item("c-2", 1))
	swapped := maps.Clone(a)
	swapped[itemcrypto.MaterialDescriptionAttribute] = b[itemcrypto.MaterialDescriptionAttribute]
	if _, err := e.Decrypt(context.Background(), swapped); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("item with another item's description: error %v, want itemcrypto.ErrAuthentication", err)
	}
}

// --- rotation ---

type rotation struct {
	t       *testing.T
	m       *keyset.Manager
	p       *tinkcmp.Provider
	e       *itemcrypto.Encryptor
	a, b    uint32
	aItems  []itemcrypto.Item
	bItems  []itemcrypto.Item
	initial *keyset.Handle
}

// rotate writes items under key A, rotates to B and writes items under B.
func rotate(t *testing.T) *rotation {
	r := &rotation{t: t, initial: newHandle(t)}
	r.p = mustNew(t, r.initial)
	r.e = encryptor(t, table, r.p)
	r.a = primaryID(t, r.initial)
	for i := range 3 {
		r.aItems = append(r.aItems, mustEncrypt(t, r.e, item("c-a", i)))
	}
	r.m = keyset.NewManagerFromHandle(r.initial)
	var err error
	if r.b, err = r.m.Add(aead.AES256GCMKeyTemplate()); err != nil {
		t.Fatal(err)
	}
	if err := r.m.SetPrimary(r.b); err != nil {
		t.Fatal(err)
	}
	r.install()
	for i := range 3 {
		r.bItems = append(r.bItems, mustEncrypt(t, r.e, item("c-b", i)))
	}
	return r
}

// install hands the manager's keyset to the provider.
func (r *rotation) install() *keyset.Handle {
	r.t.Helper()
	h, err := r.m.Handle()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.p.SetKeyset(h); err != nil {
		r.t.Fatalf("SetKeyset: %v", err)
	}
	return h
}

func TestRotation(t *testing.T) {
	r := rotate(t)
	if r.a == r.b {
		t.Fatal("rotation kept the key ID")
	}
	for _, it := range r.aItems {
		if got := itemKeyID(t, it); got != r.a {
			t.Errorf("item written before rotation names key %d, want A = %d", got, r.a)
		}
		mustDecrypt(t, r.e, it)
	}
	for _, it := range r.bItems {
		if got := itemKeyID(t, it); got != r.b {
			t.Errorf("item written after rotation names key %d, want B = %d", got, r.b)
		}
		mustDecrypt(t, r.e, it)
	}
	// A provider over the old keyset cannot read B's items: B is unknown.
	old := encryptor(t, table, mustNew(t, r.initial))
	_, err := old.Decrypt(context.Background(), r.bItems[0])
	var unknown *tinkcmp.UnknownKeyError
	if !errors.As(err, &unknown) || unknown.KeyID != r.b {
		t.Errorf("old keyset reading a B item: error %v, want *UnknownKeyError{%d}", err, r.b)
	}
	if !errors.Is(err, itemcrypto.ErrAuthentication) || !errors.Is(err, cmp.ErrNoMaterials) {
		t.Errorf("old keyset reading a B item: error %v, want it to match itemcrypto.ErrAuthentication and cmp.ErrNoMaterials", err)
	}
	// A new instance over the rotated keyset reads both.
	h, _ := r.m.Handle()
	fresh := encryptor(t, table, mustNew(t, h))
	mustDecrypt(t, fresh, r.aItems[0])
	mustDecrypt(t, fresh, r.bItems[0])
}

func TestDisable(t *testing.T) {
	r := rotate(t)
	if err := r.m.Disable(r.a); err != nil {
		t.Fatal(err)
	}
	r.install()
	for _, it := range r.aItems {
		got, err := r.e.Decrypt(context.Background(), it)
		var disabled *tinkcmp.KeyDisabledError
		switch {
		case got != nil:
			t.Error("Decrypt returned an item with a disabled key")
		case !errors.As(err, &disabled):
			t.Fatalf("Decrypt of an item under disabled key A: error %v, want *tinkcmp.KeyDisabledError", err)
		case disabled.KeyID != r.a || disabled.Status != keyset.Disabled:
			t.Errorf("KeyDisabledError = %+v, want key %d, Disabled", *disabled, r.a)
		case !errors.Is(err, tinkcmp.ErrKeyDisabled):
			t.Errorf("error %v does not match ErrKeyDisabled", err)
		case errors.Is(err, itemcrypto.ErrAuthentication):
			t.Errorf("error %v matches ErrAuthentication: a disabled key is no tampering", err)
		case !strings.Contains(err.Error(), fmt.Sprint(r.a)):
			t.Errorf("error %q does not name key %d", err, r.a)
		}
	}
	for _, it := range r.bItems {
		mustDecrypt(t, r.e, it)
	}
	// New items still use B.
	if got := itemKeyID(t, mustEncrypt(t, r.e, item("c-b", 9))); got != r.b {
		t.Errorf("new item names key %d, want B = %d", got, r.b)
	}
	// Enabled again, A's items decrypt.
	if err := r.m.Enable(r.a); err != nil {
		t.Fatal(err)
	}
	r.install()
	mustDecrypt(t, r.e, r.aItems[0])
}

// Tink refuses to disable or delete the primary key; so does keyset.Manager
// for us, and the provider never sees a keyset without an enabled primary.
func TestDisablePrimaryRefused(t *testing.T) {
	r := rotate(t)
	if err := r.m.Disable(r.b); err == nil {
		t.Error("keyset.Manager disabled the primary key")
	}
	if err := r.m.Delete(r.b); err == nil {
		t.Error("keyset.Manager deleted the primary key")
	}
}

// Tink for Go has no destroy; Delete removes the key, and its items are
// then another keyset's.
func TestDelete(t *testing.T) {
	r := rotate(t)
	if err := r.m.Delete(r.a); err != nil {
		t.Fatal(err)
	}
	r.install()
	_, err := r.e.Decrypt(context.Background(), r.aItems[0])
	var unknown *tinkcmp.UnknownKeyError
	if !errors.As(err, &unknown) || unknown.KeyID != r.a {
		t.Fatalf("item of a deleted key: error %v, want *UnknownKeyError{%d}", err, r.a)
	}
	if !errors.Is(err, itemcrypto.ErrAuthentication) || !errors.Is(err, cmp.ErrNoMaterials) || errors.Is(err, tinkcmp.ErrKeyDisabled) {
		t.Errorf("item of a deleted key: error %v, want ErrAuthentication and ErrNoMaterials, not ErrKeyDisabled", err)
	}
	mustDecrypt(t, r.e, r.bItems[0])
}

// The key ID is read from the unsigned description: an item altered to
// name a disabled key reports that key, and nothing is decrypted; with the
// key enabled, the same item is an authentication failure.
func TestAlteredItemNamingDisabledKey(t *testing.T) {
	r := rotate(t)
	if err := r.m.Disable(r.a); err != nil {
		t.Fatal(err)
	}
	r.install()
	stored := r.bItems[0]
	d := description(t, stored)
	ct, _ := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
	ct[1], ct[2], ct[3], ct[4] = byte(r.a>>24), byte(r.a>>16), byte(r.a>>8), byte(r.a)
	d[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(ct)
	altered := withDescription(stored, d)

	got, err := r.e.Decrypt(context.Background(), altered)
	if got != nil || !errors.Is(err, tinkcmp.ErrKeyDisabled) {
		t.Errorf("altered item naming disabled key: item %v, error %v, want nil and ErrKeyDisabled", got != nil, err)
	}
	if err := r.m.Enable(r.a); err != nil {
		t.Fatal(err)
	}
	r.install()
	if _, err := r.e.Decrypt(context.Background(), altered); !errors.Is(err, itemcrypto.ErrAuthentication) || errors.Is(err, tinkcmp.ErrKeyDisabled) {
		t.Errorf("altered item, key enabled: error %v, want only itemcrypto.ErrAuthentication", err)
	}
}

// SetKeyset while other goroutines encrypt and decrypt (run with -race).
func TestSetKeysetConcurrent(t *testing.T) {
	r := rotate(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				stored, err := r.e.Encrypt(context.Background(), item(fmt.Sprintf("c-%d", g), i))
				if err != nil {
					t.Errorf("Encrypt: %v", err)
					return
				}
				if _, err := r.e.Decrypt(context.Background(), stored); err != nil {
					t.Errorf("Decrypt: %v", err)
					return
				}
			}
		})
	}
	for range 20 {
		id, err := r.m.Add(aead.AES128GCMKeyTemplate())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.SetPrimary(id); err != nil {
			t.Fatal(err)
		}
		r.install()
	}
	close(stop)
	wg.Wait()
	mustDecrypt(t, r.e, r.aItems[0])
}

// --- construction ---

func TestNewErrors(t *testing.T) {
	if _, err := tinkcmp.New(nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("New(nil): error %v, want cmp.ErrInvalidKey", err)
	}
	raw, err := keyset.NewHandle(aead.AES256GCMNoPrefixKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tinkcmp.New(raw); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("New(keyset with a RAW primary): error %v, want cmp.ErrUnsupportedAlgorithm", err)
	}
	macs, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tinkcmp.New(macs); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("New(MAC keyset): error %v, want cmp.ErrInvalidKey", err)
	}
	p := mustNew(t, newHandle(t))
	before := p.String()
	if err := p.SetKeyset(macs); err == nil {
		t.Error("SetKeyset(MAC keyset) succeeded")
	}
	if p.String() != before {
		t.Error("a failed SetKeyset changed the keyset")
	}

	if _, err := tinkcmp.NewKMS(nil); err == nil {
		t.Error("NewKMS(nil) succeeded")
	}
	km := kmsProvider(newKeyURI(t))(t).(*tinkcmp.Provider)
	if err := km.SetKeyset(newHandle(t)); err == nil {
		t.Error("SetKeyset on a KMS provider succeeded")
	}
	client, err := fakekms.NewClient("fake-kms://only-this-prefix")
	if err != nil {
		t.Fatal(err)
	}
	uri := newKeyURI(t)
	_, err = tinkcmp.NewKMSClient(client, uri)
	if err == nil {
		t.Fatal("NewKMSClient with an unsupported URI succeeded")
	}
	if strings.Contains(err.Error(), strings.TrimPrefix(uri, fakeBase)) {
		t.Error("NewKMSClient's error quotes the key URI (a fake KMS URI holds its key)")
	}
	if _, err := tinkcmp.NewKMSClient(nil, uri); err == nil {
		t.Error("NewKMSClient(nil) succeeded")
	}
	if _, err := tinkcmp.NewFromEncryptedKeyset(context.Background(), nil, nil, nil); err == nil {
		t.Error("NewFromEncryptedKeyset(nil) succeeded")
	}
}

// --- KMS errors ---

// stubKMS fails every call with err.
type stubKMS struct{ err error }

func (s stubKMS) EncryptWithContext(context.Context, []byte, []byte) ([]byte, error) {
	return nil, s.err
}
func (s stubKMS) DecryptWithContext(context.Context, []byte, []byte) ([]byte, error) {
	return nil, s.err
}

var errThrottled = errors.New("ThrottlingException: rate exceeded")

func TestKMSErrors(t *testing.T) {
	uri := newKeyURI(t)
	stored := mustEncrypt(t, encryptor(t, table, kmsProvider(uri)(t)), item("c-1", 1))
	ctx := context.Background()

	// Encrypt: always the service's failure.
	p, _ := tinkcmp.NewKMS(stubKMS{errThrottled})
	_, err := encryptor(t, table, p).Encrypt(ctx, item("c-1", 2))
	var kmsErr *tinkcmp.KMSError
	if !errors.As(err, &kmsErr) || kmsErr.Op != "Encrypt" || !errors.Is(err, errThrottled) {
		t.Errorf("Encrypt with a failing KMS: error %v, want *KMSError{Encrypt} wrapping the cause", err)
	}

	// Decrypt, by default: a refusal.
	_, err = encryptor(t, table, p).Decrypt(ctx, stored)
	if !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Decrypt with a failing KMS, default classification: error %v, want ErrAuthentication", err)
	}
	ec := cmp.EncryptionContext{TableName: table, PartitionKeyName: pkName, SortKeyName: skName, Attributes: stored, MaterialDescription: description(t, stored)}
	if _, err := p.DecryptionMaterials(ctx, ec); !errors.Is(err, cmp.ErrAuthentication) || !errors.Is(err, errThrottled) {
		t.Errorf("DecryptionMaterials: error %v, want ErrAuthentication with the cause reachable", err)
	}

	// Decrypt, classified as the service's failure.
	p, _ = tinkcmp.NewKMS(stubKMS{errThrottled}, func(o *tinkcmp.Options) {
		o.IsServiceError = func(err error) bool { return errors.Is(err, errThrottled) }
	})
	_, err = encryptor(t, table, p).Decrypt(ctx, stored)
	if !errors.As(err, &kmsErr) || kmsErr.Op != "Decrypt" || errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Decrypt with a throttled KMS: error %v, want *KMSError{Decrypt}, not ErrAuthentication", err)
	}

	// A context error from the KMS is the context's, whatever IsServiceError says.
	p, _ = tinkcmp.NewKMS(stubKMS{context.DeadlineExceeded})
	if _, err := p.DecryptionMaterials(ctx, ec); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("KMS deadline: error %v, want context.DeadlineExceeded only", err)
	}

	// A done context stops before the KMS is called.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	p, _ = tinkcmp.NewKMS(kmsAEAD(t, uri))
	if _, err := p.DecryptionMaterials(canceled, ec); !errors.Is(err, context.Canceled) {
		t.Errorf("DecryptionMaterials with a cancelled context: %v", err)
	}
	if _, err := p.EncryptionMaterials(canceled, ec); !errors.Is(err, context.Canceled) {
		t.Errorf("EncryptionMaterials with a cancelled context: %v", err)
	}
}

// --- redaction ---

func TestRedaction(t *testing.T) {
	h := newHandle(t)
	uri := newKeyURI(t)
	secrets := [][]byte{[]byte(strings.TrimPrefix(uri, fakeBase))}
	for _, k := range insecurecleartextkeyset.KeysetMaterial(h).GetKey() {
		secrets = append(secrets, k.GetKeyData().GetValue())
	}
	kp := mustNew(t, h)
	km := kmsProvider(uri)(t).(*tinkcmp.Provider)
	for _, p := range []*tinkcmp.Provider{kp, km} {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%c", "%e", "%t", "%b", "%o", "%U", "%w", "%10.3v"} {
			outs = append(outs, fmt.Sprintf(verb, p), fmt.Sprintf(verb, *p), fmt.Sprintf(verb, struct{ P tinkcmp.Provider }{*p}))
		}
		for _, v := range []any{p, *p, struct{ P tinkcmp.Provider }{*p}} {
			j, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(j), `"tinkcmp.Provider{`) {
				t.Errorf("json.Marshal(%T) = %s, want the redacted text", v, j)
			}
			outs = append(outs, string(j))
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("provider", "p", p, "v", *p)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("provider", "p", p)
		outs = append(outs, buf.String(), p.String(), p.GoString())
		for _, out := range outs {
			for _, s := range secrets {
				for _, enc := range []string{string(s), hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)), base64.StdEncoding.EncodeToString(s), fmt.Sprint(s)} {
					if len(enc) > 8 && strings.Contains(out, enc) {
						t.Fatalf("printed provider shows key material: %q", out)
					}
				}
			}
			if strings.Contains(out, "fake-kms") {
				t.Errorf("printed provider shows the KMS key URI: %q", out)
			}
		}
	}
	want := fmt.Sprintf("tinkcmp.Provider{keyset, primary key %d of 1}", primaryID(t, h))
	if got := fmt.Sprint(kp); got != want {
		t.Errorf("fmt.Sprint(keyset provider) = %q, want %q", got, want)
	}
	if got := fmt.Sprint(km); got != "tinkcmp.Provider{KMS}" {
		t.Errorf("fmt.Sprint(KMS provider) = %q", got)
	}
}

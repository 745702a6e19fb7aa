package cmp_test

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Keys of the KMS encryption context (spec §8.6), spelled out here rather
// than taken from the package under test.
const (
	kmsECEnvAlg = "*amzn-ddb-env-alg*"
	kmsECSigAlg = "*amzn-ddb-sig-alg*"
	kmsECTable  = "*aws-kms-table*"
)

// kmsEnv is a fake KMS with one enabled key, and the real SDK client on it.
type kmsEnv struct {
	srv    *kmstest.Server
	keyID  string
	keyARN string
	kms    *awskms.KMS
}

func newKMSEnv(t *testing.T) *kmsEnv {
	t.Helper()
	srv := kmstest.NewServer(t)
	id, arn := srv.CreateKey()
	return &kmsEnv{srv: srv, keyID: id, keyARN: arn, kms: awskms.New(srv.Client())}
}

func newDirectKMS(t testing.TB, k cmp.KMS, keyID string, cfgFns ...func(*cmp.DirectKMSConfig)) *cmp.DirectKMS {
	t.Helper()
	cfg := cmp.DirectKMSConfig{KMS: k, KeyID: keyID}
	for _, fn := range cfgFns {
		fn(&cfg)
	}
	p, err := cmp.NewDirectKMS(cfg)
	if err != nil {
		t.Fatalf("NewDirectKMS: %v", err)
	}
	return p
}

// newItemEncryptor encrypts every attribute but the keys, which are signed.
func newItemEncryptor(t testing.TB, table, pk, sk string, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	pol, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: pk, SortKey: sk})
	if err != nil {
		t.Fatalf("actions.New: %v", err)
	}
	e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: pol, Provider: p})
	if err != nil {
		t.Fatalf("itemcrypto.New: %v", err)
	}
	return e
}

func storedDesc(t testing.TB, item itemcrypto.Item) materialdesc.Description {
	t.Helper()
	b, ok := item[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
	if !ok {
		t.Fatalf("stored item has no B %s: %#v", itemcrypto.MaterialDescriptionAttribute, item[itemcrypto.MaterialDescriptionAttribute])
	}
	d, err := materialdesc.Decode(b.Value)
	if err != nil {
		t.Fatalf("materialdesc.Decode: %v", err)
	}
	return d
}

// withDesc returns a copy of item whose (unsigned) material description is
// edit applied to the stored one.
func withDesc(t testing.TB, item itemcrypto.Item, edit func(materialdesc.Description)) itemcrypto.Item {
	t.Helper()
	d := storedDesc(t, item)
	edit(d)
	out := maps.Clone(item)
	out[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: d.Encode()}
	return out
}

func with(item itemcrypto.Item, name string, v types.AttributeValue) itemcrypto.Item {
	out := maps.Clone(item)
	out[name] = v
	return out
}

func without(item itemcrypto.Item, name string) itemcrypto.Item {
	out := maps.Clone(item)
	delete(out, name)
	return out
}

func s(v string) types.AttributeValue  { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue  { return &types.AttributeValueMemberN{Value: v} }
func bv(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

func sameItem(t testing.TB, got, want itemcrypto.Item) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decrypted item:\n got %#v\nwant %#v", got, want)
	}
}

// TestDirectKMSRoundTrip drives Direct KMS through an Encryptor against the
// fake KMS with the real SDK client, and checks what reaches the KMS and
// what is stored.
func TestDirectKMSRoundTrip(t *testing.T) {
	binKey := []byte{0xfb, 0xff, 0xbf, 0x00} // std Base64 "+/+/AA==", URL-safe would be "-_-_AA=="
	tests := []struct {
		name    string
		pk, sk  string
		item    itemcrypto.Item
		wantCtx map[string]string // besides the table and algorithms
	}{
		{
			name: "S partition, N sort as stored",
			pk:   "id", sk: "rev",
			item:    itemcrypto.Item{"id": s("user-1"), "rev": n("10.50"), "secret": s("s3cr3t")},
			wantCtx: map[string]string{"id": "user-1", "rev": "10.50"},
		},
		{
			name: "N partition not canonicalised",
			pk:   "num", sk: "",
			item:    itemcrypto.Item{"num": n("-007.250"), "secret": n("42")},
			wantCtx: map[string]string{"num": "-007.250"},
		},
		{
			name: "B partition as standard padded Base64, S sort",
			pk:   "bin", sk: "name",
			item:    itemcrypto.Item{"bin": bv(binKey), "name": s("x"), "secret": bv([]byte("payload"))},
			wantCtx: map[string]string{"bin": "+/+/AA==", "name": "x"},
		},
		{
			name: "S partition, B sort",
			pk:   "id", sk: "bin",
			item:    itemcrypto.Item{"id": s("ünïcode"), "bin": bv([]byte{1, 2, 3}), "list": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a"), n("1")}}},
			wantCtx: map[string]string{"id": "ünïcode", "bin": "AQID"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newKMSEnv(t)
			const table = "direct-kms-items"
			enc := newItemEncryptor(t, table, tc.pk, tc.sk, newDirectKMS(t, env.kms, env.keyARN))
			ctx := context.Background()

			want := maps.Clone(tc.wantCtx)
			want[kmsECEnvAlg] = "AES/256"
			want[kmsECSigAlg] = "HmacSHA256/256"
			want[kmsECTable] = table

			stored, err := enc.Encrypt(ctx, tc.item)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			gen := env.srv.CallsFor(kmstest.OpGenerateDataKey)
			if len(gen) != 1 {
				t.Fatalf("GenerateDataKey calls = %d, want 1 (%+v)", len(gen), env.srv.Calls())
			}
			if got := gen[0].EncryptionContext; !reflect.DeepEqual(got, want) {
				t.Errorf("GenerateDataKey context:\n got %v\nwant %v", got, want)
			}
			if gen[0].KeyID != env.keyARN || gen[0].NumberOfBytes != 32 || gen[0].KeySpec != "" {
				t.Errorf("GenerateDataKey KeyId=%q NumberOfBytes=%d KeySpec=%q, want %q 32 \"\"", gen[0].KeyID, gen[0].NumberOfBytes, gen[0].KeySpec, env.keyARN)
			}

			// Keys are stored as they were, everything else is ciphertext.
			for name, v := range tc.item {
				if name == tc.pk || name == tc.sk {
					if !reflect.DeepEqual(stored[name], v) {
						t.Errorf("key %s stored as %#v, want %#v", name, stored[name], v)
					}
				} else if _, ok := stored[name].(*types.AttributeValueMemberB); !ok || reflect.DeepEqual(stored[name], v) {
					t.Errorf("attribute %s stored as %#v, want B ciphertext", name, stored[name])
				}
			}

			d := storedDesc(t, stored)
			envKey, err := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
			if err != nil || len(envKey) == 0 {
				t.Errorf("amzn-ddb-env-key %q is not standard Base64 of a blob: %v", d[materialdesc.KeyEnvelopeKey], err)
			}
			wantDesc := materialdesc.Description{
				materialdesc.KeyKMSContextAttr: "*keys*",
				materialdesc.KeyWrapAlg:        "kms",
				materialdesc.KeyEnvelopeAlg:    "AES/256",
				materialdesc.KeySigAlg:         "HmacSHA256/256",
				materialdesc.KeyEnvelopeKey:    d[materialdesc.KeyEnvelopeKey],
				materialdesc.KeySymMode:        materialdesc.SymModeCBC,
				materialdesc.KeySigningAlg:     "HmacSHA256",
			}
			if !reflect.DeepEqual(d, wantDesc) {
				t.Errorf("description:\n got %v\nwant %v", d, wantDesc)
			}

			got, err := enc.Decrypt(ctx, stored)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			sameItem(t, got, tc.item)
			dec := env.srv.CallsFor(kmstest.OpDecrypt)
			if len(dec) != 1 {
				t.Fatalf("Decrypt calls = %d, want 1", len(dec))
			}
			if got := dec[0].EncryptionContext; !reflect.DeepEqual(got, want) {
				t.Errorf("Decrypt context:\n got %v\nwant %v", got, want)
			}
			if dec[0].ErrorCode != "" || dec[0].KeyARN != env.keyARN {
				t.Errorf("Decrypt call = %+v, want success with key %s", dec[0], env.keyARN)
			}
		})
	}
}

// TestDirectKMSConfiguredDescription: configured entries are written, the
// provider's own entries win, and a configured algorithm pair reaches the
// KMS context.
func TestDirectKMSConfiguredDescription(t *testing.T) {
	env := newKMSEnv(t)
	p := newDirectKMS(t, env.kms, env.keyID, func(c *cmp.DirectKMSConfig) {
		c.ContentKeyAlgorithm = "AES/128"
		c.SigningAlgorithm = "HmacSHA384/384"
		c.Description = materialdesc.Description{"app": "billing", materialdesc.KeyWrapAlg: "AESWrap"}
	})
	enc := newItemEncryptor(t, "t", "id", "", p)
	item := itemcrypto.Item{"id": s("1"), "v": s("value")}
	stored, err := enc.Encrypt(context.Background(), item)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	d := storedDesc(t, stored)
	for k, want := range map[string]string{
		"app":                       "billing",
		materialdesc.KeyWrapAlg:     "kms",
		materialdesc.KeyEnvelopeAlg: "AES/128",
		materialdesc.KeySigAlg:      "HmacSHA384/384",
		materialdesc.KeySigningAlg:  "HmacSHA384",
	} {
		if d[k] != want {
			t.Errorf("description[%s] = %q, want %q", k, d[k], want)
		}
	}
	c := env.srv.CallsFor(kmstest.OpGenerateDataKey)[0]
	if c.EncryptionContext[kmsECEnvAlg] != "AES/128" || c.EncryptionContext[kmsECSigAlg] != "HmacSHA384/384" || c.NumberOfBytes != 32 {
		t.Errorf("GenerateDataKey = %+v, want AES/128, HmacSHA384/384 and 32 bytes", c)
	}
	got, err := enc.Decrypt(context.Background(), stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	sameItem(t, got, item)
}

// TestDirectKMSFreshDataKeyPerItem: one GenerateDataKey per item written,
// never a cached data key.
func TestDirectKMSFreshDataKeyPerItem(t *testing.T) {
	env := newKMSEnv(t)
	enc := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, env.kms, env.keyARN))
	item := itemcrypto.Item{"id": s("same"), "v": s("same value")}
	const items = 5
	seen := map[string]bool{}
	var sigs [][]byte
	for range items {
		stored, err := enc.Encrypt(context.Background(), item)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		seen[storedDesc(t, stored)[materialdesc.KeyEnvelopeKey]] = true
		sigs = append(sigs, stored[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value)
	}
	if len(seen) != items {
		t.Errorf("%d distinct env-keys over %d items, want %d", len(seen), items, items)
	}
	if got := len(env.srv.CallsFor(kmstest.OpGenerateDataKey)); got != items {
		t.Errorf("GenerateDataKey calls = %d, want %d", got, items)
	}
	for i := 1; i < len(sigs); i++ {
		if bytes.Equal(sigs[0], sigs[i]) {
			t.Errorf("items 0 and %d have the same signature: same signing key", i)
		}
	}
}

// fixedKMS is a cmp.KMS test double that always hands out the same data key,
// so that the derivation of the item keys can be checked independently.
type fixedKMS struct {
	dataKey, blob []byte
	mu            sync.Mutex
	genCtx        []map[string]string
	decCtx        []map[string]string
}

func (f *fixedKMS) GenerateDataKey(_ context.Context, keyID string, numBytes int, ec map[string]string) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.genCtx = append(f.genCtx, maps.Clone(ec))
	if numBytes != len(f.dataKey) {
		return nil, nil, fmt.Errorf("fixedKMS: asked for %d bytes, have %d", numBytes, len(f.dataKey))
	}
	return bytes.Clone(f.dataKey), bytes.Clone(f.blob), nil
}

func (f *fixedKMS) Decrypt(_ context.Context, keyID string, ciphertext []byte, ec map[string]string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decCtx = append(f.decCtx, maps.Clone(ec))
	if !bytes.Equal(ciphertext, f.blob) {
		return nil, cmp.ErrAuthentication
	}
	return bytes.Clone(f.dataKey), nil
}

func (f *fixedKMS) Encrypt(context.Context, string, []byte, map[string]string) ([]byte, error) {
	return nil, errors.New("fixedKMS: Encrypt not supported")
}

// TestDirectKMSDerivationKnownAnswer pins spec §8.6: the item keys are
// HKDF-SHA256(IKM = data key, salt = none, info "Encryption" / "Signing"),
// with the lengths of the algorithm descriptions. Keys derived here with
// crypto/hkdf drive a Static provider, in both directions.
func TestDirectKMSDerivationKnownAnswer(t *testing.T) {
	dataKey := make([]byte, 32)
	for i := range dataKey {
		dataKey[i] = byte(i*7 + 3)
	}
	tests := []struct {
		envAlg, sigAlg string // "" is the default
		wantEnv        string
		wantSig        string
		encLen, macLen int
		macAlg         string
	}{
		{"", "", "AES/256", "HmacSHA256/256", 32, 32, "HmacSHA256"},
		{"AES/128", "HmacSHA384/384", "AES/128", "HmacSHA384/384", 16, 48, "HmacSHA384"},
		{"AES/192", "HmacSHA512/512", "AES/192", "HmacSHA512/512", 24, 64, "HmacSHA512"},
		{"AES/256", "HmacSHA256/128", "AES/256", "HmacSHA256/128", 32, 16, "HmacSHA256"},
	}
	for _, tc := range tests {
		t.Run(tc.wantEnv+"+"+tc.wantSig, func(t *testing.T) {
			ctx := context.Background()
			derive := func(info string, n int) []byte {
				k, err := hkdf.Key(sha256.New, dataKey, nil, info, n)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			static := func(encInfo, sigInfo string) *cmp.Static {
				p, err := cmp.NewStatic(cmp.StaticConfig{
					EncryptionKey: mustAES(t, derive(encInfo, tc.encLen)),
					SigningKey:    mustHMAC(t, tc.macAlg, derive(sigInfo, tc.macLen)),
				})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			fk := &fixedKMS{dataKey: dataKey, blob: []byte("opaque-kms-blob")}
			direct := newDirectKMS(t, fk, "key", func(c *cmp.DirectKMSConfig) {
				c.ContentKeyAlgorithm, c.SigningAlgorithm = tc.envAlg, tc.sigAlg
			})
			const table = "kat"
			item := itemcrypto.Item{"id": s("k1"), "sk": n("1"), "a": s("attribute a"), "b": bv([]byte{9, 9, 9})}

			// DirectKMS writes; a Static provider with the keys derived
			// here reads. Static refuses descriptions that carry an
			// env-key, and the description is not signed: drop it.
			stored, err := newItemEncryptor(t, table, "id", "sk", direct).Encrypt(ctx, item)
			if err != nil {
				t.Fatalf("DirectKMS Encrypt: %v", err)
			}
			d := storedDesc(t, stored)
			if d[materialdesc.KeyEnvelopeAlg] != tc.wantEnv || d[materialdesc.KeySigAlg] != tc.wantSig {
				t.Errorf("description env/sig alg = %q %q, want %q %q", d[materialdesc.KeyEnvelopeAlg], d[materialdesc.KeySigAlg], tc.wantEnv, tc.wantSig)
			}
			if d[materialdesc.KeyEnvelopeKey] != base64.StdEncoding.EncodeToString(fk.blob) {
				t.Errorf("env-key = %q, want Base64 of the KMS blob", d[materialdesc.KeyEnvelopeKey])
			}
			noEnvKey := withDesc(t, stored, func(d materialdesc.Description) { delete(d, materialdesc.KeyEnvelopeKey) })
			got, err := newItemEncryptor(t, table, "id", "sk", static("Encryption", "Signing")).Decrypt(ctx, noEnvKey)
			if err != nil {
				t.Fatalf("Static (HKDF keys) Decrypt of a DirectKMS item: %v", err)
			}
			sameItem(t, got, item)
			// Control: the same check with the infos swapped must fail,
			// or it proves nothing.
			if _, err := newItemEncryptor(t, table, "id", "sk", static("Signing", "Encryption")).Decrypt(ctx, noEnvKey); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("Static with swapped infos: err = %v, want ErrAuthentication", err)
			}

			// A Static provider with the derived keys writes; DirectKMS
			// reads once the Direct KMS description is put in.
			stored2, err := newItemEncryptor(t, table, "id", "sk", static("Encryption", "Signing")).Encrypt(ctx, item)
			if err != nil {
				t.Fatalf("Static Encrypt: %v", err)
			}
			stored2 = withDesc(t, stored2, func(d materialdesc.Description) {
				d[materialdesc.KeyKMSContextAttr] = "*keys*"
				d[materialdesc.KeyWrapAlg] = "kms"
				d[materialdesc.KeyEnvelopeAlg] = tc.wantEnv
				d[materialdesc.KeySigAlg] = tc.wantSig
				d[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(fk.blob)
			})
			got, err = newItemEncryptor(t, table, "id", "sk", direct).Decrypt(ctx, stored2)
			if err != nil {
				t.Fatalf("DirectKMS Decrypt of a Static (HKDF keys) item: %v", err)
			}
			sameItem(t, got, item)

			wantCtx := map[string]string{kmsECEnvAlg: tc.wantEnv, kmsECSigAlg: tc.wantSig, kmsECTable: table, "id": "k1", "sk": "1"}
			for i, c := range append(fk.genCtx, fk.decCtx...) {
				if !reflect.DeepEqual(c, wantCtx) {
					t.Errorf("KMS call %d context = %v, want %v", i, c, wantCtx)
				}
			}
		})
	}
}

// TestDirectKMSDataKeySize: a KMS returning a data key of the wrong size is
// a KMS failure on encrypt and an authentication failure on decrypt.
func TestDirectKMSDataKeySize(t *testing.T) {
	ctx := context.Background()
	good := &fixedKMS{dataKey: bytes.Repeat([]byte{1}, 32), blob: []byte("blob")}
	stored, err := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, good, "k")).Encrypt(ctx, itemcrypto.Item{"id": s("1"), "v": s("v")})
	if err != nil {
		t.Fatal(err)
	}
	short := &shortKMS{}
	enc := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, short, "k"))
	out, err := enc.Encrypt(ctx, itemcrypto.Item{"id": s("1"), "v": s("v")})
	var kerr *cmp.KMSError
	if out != nil || !errors.As(err, &kerr) || kerr.Op != "GenerateDataKey" || kerr.KeyID != "k" {
		t.Errorf("Encrypt with a 16-byte data key = %v, %v; want nil, *cmp.KMSError{GenerateDataKey, k}", out, err)
	}
	out, err = enc.Decrypt(ctx, stored)
	if out != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Decrypt with a 16-byte data key = %v, %v; want nil, ErrAuthentication", out, err)
	}
}

type shortKMS struct{}

func (shortKMS) GenerateDataKey(context.Context, string, int, map[string]string) ([]byte, []byte, error) {
	return make([]byte, 16), []byte("blob"), nil
}
func (shortKMS) Decrypt(context.Context, string, []byte, map[string]string) ([]byte, error) {
	return make([]byte, 16), nil
}
func (shortKMS) Encrypt(context.Context, string, []byte, map[string]string) ([]byte, error) {
	return nil, errors.New("no")
}

// TestDirectKMSTamper: the KMS context binds the data key to the table and
// the key values; the description must be Direct KMS's.
func TestDirectKMSTamper(t *testing.T) {
	env := newKMSEnv(t)
	ctx := context.Background()
	const table = "orders"
	p := newDirectKMS(t, env.kms, env.keyARN)
	enc := newItemEncryptor(t, table, "id", "rev", p)
	item := itemcrypto.Item{"id": s("order-1"), "rev": n("10.50"), "total": n("99.99")}
	stored, err := enc.Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	other, err := enc.Encrypt(ctx, itemcrypto.Item{"id": s("order-2"), "rev": n("1"), "total": n("1")})
	if err != nil {
		t.Fatal(err)
	}

	// Items of other providers.
	macKey := mustHMAC(t, "HmacSHA256", repeat(0x11, 32))
	wrapped, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: mustAES(t, repeat(0x22, 32)), UnwrappingKey: mustAES(t, repeat(0x22, 32)), SigningKey: macKey})
	if err != nil {
		t.Fatal(err)
	}
	static, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: mustAES(t, repeat(0x33, 32)), SigningKey: macKey})
	if err != nil {
		t.Fatal(err)
	}
	wrappedItem, err := newItemEncryptor(t, table, "id", "rev", wrapped).Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	staticItem, err := newItemEncryptor(t, table, "id", "rev", static).Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}

	// kms: what the KMS Decrypt call must look like.
	const (
		noCall  = iota // the provider refuses the item by itself
		refused        // the KMS refuses the context (InvalidCiphertextException)
		accepts        // the KMS context is unchanged; the signature decides
	)
	tests := []struct {
		name  string
		table string
		item  itemcrypto.Item
		want  error // errors.Is; nil for success
		kms   int
	}{
		{"untouched", table, stored, nil, accepts},
		{"partition key value", table, with(stored, "id", s("order-9")), itemcrypto.ErrAuthentication, refused},
		{"sort key value", table, with(stored, "rev", n("10.51")), itemcrypto.ErrAuthentication, refused},
		{"sort key canonically equal but not as stored", table, with(stored, "rev", n("10.5")), itemcrypto.ErrAuthentication, refused},
		{"sort key type N to S, same text", table, with(stored, "rev", s("10.50")), itemcrypto.ErrAuthentication, accepts},
		{"table name", "orders-copy", stored, itemcrypto.ErrAuthentication, refused},
		{"sort key dropped", table, without(stored, "rev"), itemcrypto.ErrAuthentication, noCall},
		{"env-alg in description", table, withDesc(t, stored, func(d materialdesc.Description) { d[materialdesc.KeyEnvelopeAlg] = "AES/128" }), itemcrypto.ErrAuthentication, refused},
		{"sig-alg in description", table, withDesc(t, stored, func(d materialdesc.Description) { d[materialdesc.KeySigAlg] = "HmacSHA384/384" }), itemcrypto.ErrAuthentication, refused},
		{"env-key of another item", table, withDesc(t, stored, func(d materialdesc.Description) {
			d[materialdesc.KeyEnvelopeKey] = storedDesc(t, other)[materialdesc.KeyEnvelopeKey]
		}), itemcrypto.ErrAuthentication, refused},
		{"env-key not Base64", table, withDesc(t, stored, func(d materialdesc.Description) { d[materialdesc.KeyEnvelopeKey] = "!!!" }), itemcrypto.ErrAuthentication, noCall},
		{"unsupported env-alg", table, withDesc(t, stored, func(d materialdesc.Description) { d[materialdesc.KeyEnvelopeAlg] = "DES/56" }), cmp.ErrUnsupportedAlgorithm, noCall},
		{"wrap-alg not kms", table, withDesc(t, stored, func(d materialdesc.Description) { d[materialdesc.KeyWrapAlg] = "AESWrap" }), cmp.ErrNoMaterials, noCall},
		{"sig-alg missing", table, withDesc(t, stored, func(d materialdesc.Description) { delete(d, materialdesc.KeySigAlg) }), cmp.ErrNoMaterials, noCall},
		{"Wrapped provider's item", table, wrappedItem, cmp.ErrNoMaterials, noCall},
		{"Static provider's item", table, staticItem, cmp.ErrNoMaterials, noCall},
		{"another provider's item is also an authentication failure", table, staticItem, itemcrypto.ErrAuthentication, noCall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.srv.ResetCalls()
			got, err := newItemEncryptor(t, tc.table, "id", "rev", p).Decrypt(ctx, tc.item)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				sameItem(t, got, item)
			} else {
				if !errors.Is(err, tc.want) {
					t.Errorf("Decrypt error = %v, want %v", err, tc.want)
				}
				if got != nil {
					t.Errorf("Decrypt returned an item with error %v: %v", err, got)
				}
				var kerr *cmp.KMSError
				if errors.As(err, &kerr) {
					t.Errorf("a refused item is reported as a KMS failure: %v", err)
				}
			}
			calls := env.srv.CallsFor(kmstest.OpDecrypt)
			switch tc.kms {
			case noCall:
				if len(calls) != 0 {
					t.Errorf("KMS Decrypt called %d times for an item the provider should refuse by itself", len(calls))
				}
			case refused:
				if len(calls) != 1 || calls[0].ErrorCode != kmstest.CodeInvalidCiphertext {
					t.Errorf("KMS Decrypt calls = %+v, want one refused with InvalidCiphertextException", calls)
				}
			case accepts:
				if len(calls) != 1 || calls[0].ErrorCode != "" {
					t.Errorf("KMS Decrypt calls = %+v, want one that succeeds", calls)
				}
			}
		})
	}
}

// TestDirectKMSFailures: every KMS failure comes back as a *cmp.KMSError
// naming the operation and key and wrapping the SDK error; never an
// authentication failure, a panic or a partial item.
func TestDirectKMSFailures(t *testing.T) {
	tests := []struct {
		name   string
		encOp  bool   // the failure hits Encrypt (GenerateDataKey), else Decrypt
		keyRef string // the key the provider is configured with: "" the good key's ARN, "other" a second key
		setup  func(env *kmsEnv)
		op     string
		code   string
		typed  func(error) bool // errors.As to the kms/types error, when one exists
		// class, when set, is what the error matches instead of being a
		// *cmp.KMSError: a data key of another KMS key is another
		// provider's item (awskms maps IncorrectKeyException to
		// cmp.ErrNoMaterials).
		class error
	}{
		{name: "throttled GenerateDataKey", encOp: true, op: "GenerateDataKey", code: "ThrottlingException",
			setup: func(e *kmsEnv) { e.srv.FailNext(kmstest.OpGenerateDataKey, kmstest.CodeThrottling, 1) }},
		{name: "access denied GenerateDataKey", encOp: true, op: "GenerateDataKey", code: "AccessDeniedException",
			setup: func(e *kmsEnv) { e.srv.FailNext(kmstest.OpGenerateDataKey, kmstest.CodeAccessDenied, 1) }},
		{name: "internal error GenerateDataKey", encOp: true, op: "GenerateDataKey", code: "KMSInternalException",
			setup: func(e *kmsEnv) { e.srv.FailNext("", kmstest.CodeInternal, 1) }, typed: isErr[*kmstypes.KMSInternalException]},
		{name: "disabled key GenerateDataKey", encOp: true, op: "GenerateDataKey", code: "DisabledException",
			setup: func(e *kmsEnv) { e.srv.DisableKey(e.keyID) }, typed: isErr[*kmstypes.DisabledException]},
		{name: "key pending deletion GenerateDataKey", encOp: true, op: "GenerateDataKey", code: "KMSInvalidStateException",
			setup: func(e *kmsEnv) { e.srv.ScheduleKeyDeletion(e.keyID) }, typed: isErr[*kmstypes.KMSInvalidStateException]},
		{name: "unknown key GenerateDataKey", encOp: true, keyRef: "alias/no-such-key", op: "GenerateDataKey", code: "NotFoundException",
			typed: isErr[*kmstypes.NotFoundException]},
		{name: "throttled Decrypt", op: "Decrypt", code: "ThrottlingException",
			setup: func(e *kmsEnv) { e.srv.FailNext(kmstest.OpDecrypt, kmstest.CodeThrottling, 1) }},
		{name: "access denied Decrypt", op: "Decrypt", code: "AccessDeniedException",
			setup: func(e *kmsEnv) { e.srv.FailNext(kmstest.OpDecrypt, kmstest.CodeAccessDenied, 1) }},
		{name: "dependency timeout Decrypt", op: "Decrypt", code: "DependencyTimeoutException",
			setup: func(e *kmsEnv) { e.srv.FailNext(kmstest.OpDecrypt, "DependencyTimeoutException", 1) }, typed: isErr[*kmstypes.DependencyTimeoutException]},
		{name: "disabled key Decrypt", op: "Decrypt", code: "DisabledException",
			setup: func(e *kmsEnv) { e.srv.DisableKey(e.keyID) }, typed: isErr[*kmstypes.DisabledException]},
		{name: "reader configured with another key", keyRef: "other", op: "Decrypt", code: "IncorrectKeyException",
			typed: isErr[*kmstypes.IncorrectKeyException], class: cmp.ErrNoMaterials},
		// An unknown key ARN: keys named by id or ARN are checked on decrypt
		// (aliases are not, see TestDirectKMSAliasRepointed).
		{name: "reader configured with an unknown key", keyRef: "arn:aws:kms:us-west-2:111122223333:key/00000000-0000-0000-0000-000000000000", op: "Decrypt", code: "NotFoundException",
			typed: isErr[*kmstypes.NotFoundException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newKMSEnv(t)
			ctx := context.Background()
			item := itemcrypto.Item{"id": s("a"), "v": s("secret")}
			good := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, env.kms, env.keyARN))
			var stored itemcrypto.Item
			if !tc.encOp {
				var err error
				if stored, err = good.Encrypt(ctx, item); err != nil {
					t.Fatal(err)
				}
			}
			keyRef := env.keyARN
			switch tc.keyRef {
			case "":
			case "other":
				_, keyRef = env.srv.CreateKey()
			default:
				keyRef = tc.keyRef
			}
			enc := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, env.kms, keyRef))
			if tc.setup != nil {
				tc.setup(env)
			}

			var out itemcrypto.Item
			var err error
			if tc.encOp {
				out, err = enc.Encrypt(ctx, item)
			} else {
				out, err = enc.Decrypt(ctx, stored)
			}
			if err == nil {
				t.Fatalf("no error")
			}
			if out != nil {
				t.Errorf("returned an item with the error: %v", out)
			}
			var apiErr smithy.APIError
			if tc.class != nil {
				if !errors.Is(err, tc.class) || isErr[*cmp.KMSError](err) {
					t.Errorf("error %v does not match %v, or is a *cmp.KMSError", err, tc.class)
				}
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code || !tc.typed(err) {
					t.Errorf("error %v does not reach the SDK error %s", err, tc.code)
				}
				return
			}
			var kerr *cmp.KMSError
			if !errors.As(err, &kerr) {
				t.Fatalf("error %v (%T) is not a *cmp.KMSError", err, err)
			}
			if kerr.Op != tc.op || kerr.KeyID != keyRef {
				t.Errorf("KMSError Op=%q KeyID=%q, want %q %q", kerr.Op, kerr.KeyID, tc.op, keyRef)
			}
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Errorf("error %v does not reach a smithy.APIError with code %s", err, tc.code)
			}
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("error %v does not reach the typed kms/types error for %s", err, tc.code)
			}
			if errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("a KMS failure matches ErrAuthentication: %v", err)
			}
			if !strings.Contains(err.Error(), tc.op) || !strings.Contains(err.Error(), keyRef) {
				t.Errorf("message %q does not name the operation and key", err)
			}
		})
	}
}

func isErr[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

// TestDirectKMSKeyAttributeTypes: key attributes other than S, N and B cannot
// go into a KMS context.
func TestDirectKMSKeyAttributeTypes(t *testing.T) {
	env := newKMSEnv(t)
	enc := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, env.kms, env.keyARN))
	ctx := context.Background()
	for _, v := range []types.AttributeValue{
		&types.AttributeValueMemberBOOL{Value: true},
		&types.AttributeValueMemberNULL{Value: true},
		&types.AttributeValueMemberSS{Value: []string{"a"}},
		&types.AttributeValueMemberL{Value: []types.AttributeValue{s("a")}},
	} {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			env.srv.ResetCalls()
			out, err := enc.Encrypt(ctx, itemcrypto.Item{"id": v, "x": s("x")})
			if err == nil || out != nil {
				t.Fatalf("Encrypt = %v, %v; want nil and an error", out, err)
			}
			if msg := err.Error(); !strings.Contains(msg, `"id"`) || !strings.Contains(msg, "S, N or B") {
				t.Errorf("error %q does not name the attribute and the allowed types", msg)
			}
			if c := env.srv.Calls(); len(c) != 0 {
				t.Errorf("KMS called: %+v", c)
			}
		})
	}
	stored, err := enc.Encrypt(ctx, itemcrypto.Item{"id": s("a"), "x": s("x")})
	if err != nil {
		t.Fatal(err)
	}
	env.srv.ResetCalls()
	out, err := enc.Decrypt(ctx, with(stored, "id", &types.AttributeValueMemberBOOL{Value: true}))
	// A stored item whose key is not S, N or B has been tampered with.
	if out != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Decrypt of an item whose key became BOOL = %#v, %v; want nil, ErrAuthentication", out, err)
	}
	if c := env.srv.Calls(); len(c) != 0 {
		t.Errorf("KMS called: %+v", c)
	}
}

func TestNewDirectKMSValidation(t *testing.T) {
	k := &fixedKMS{dataKey: make([]byte, 32)}
	tests := []struct {
		name   string
		cfg    cmp.DirectKMSConfig
		wantIs error // nil: any error
		ok     bool
	}{
		{name: "defaults", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k"}, ok: true},
		{name: "AES/128 HmacSHA512/512", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", ContentKeyAlgorithm: "AES/128", SigningAlgorithm: "HmacSHA512/512"}, ok: true},
		{name: "no KMS", cfg: cmp.DirectKMSConfig{KeyID: "k"}},
		{name: "no key id", cfg: cmp.DirectKMSConfig{KMS: k}},
		{name: "DES", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", ContentKeyAlgorithm: "DES/56"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "AES/512", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", ContentKeyAlgorithm: "AES/512"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "AES/abc", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", ContentKeyAlgorithm: "AES/abc"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "HmacMD5", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", SigningAlgorithm: "HmacMD5/128"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "Hmac key of 100 bits", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", SigningAlgorithm: "HmacSHA256/100"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "Hmac key of 64 bits", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", SigningAlgorithm: "HmacSHA256/64"}, wantIs: cmp.ErrUnsupportedAlgorithm},
		{name: "signing alg as content alg", cfg: cmp.DirectKMSConfig{KMS: k, KeyID: "k", ContentKeyAlgorithm: "HmacSHA256/256"}, wantIs: cmp.ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := cmp.NewDirectKMS(tc.cfg)
			if tc.ok {
				if err != nil || p == nil {
					t.Fatalf("NewDirectKMS = %v, %v; want a provider", p, err)
				}
				return
			}
			if err == nil || p != nil {
				t.Fatalf("NewDirectKMS = %v, %v; want an error", p, err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not match %v", err, tc.wantIs)
			}
		})
	}
}

// TestDirectKMSConcurrent: 8 goroutines share one provider and one SDK
// client (run under -race).
func TestDirectKMSConcurrent(t *testing.T) {
	env := newKMSEnv(t)
	enc := newItemEncryptor(t, "t", "id", "n", newDirectKMS(t, env.kms, env.keyARN))
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				item := itemcrypto.Item{"id": s(fmt.Sprintf("w%d", w)), "n": n(fmt.Sprintf("%d.0", i)), "v": s(fmt.Sprintf("value %d/%d", w, i))}
				stored, err := enc.Encrypt(context.Background(), item)
				if err != nil {
					errs <- fmt.Errorf("Encrypt %d/%d: %w", w, i, err)
					return
				}
				got, err := enc.Decrypt(context.Background(), stored)
				if err != nil {
					errs <- fmt.Errorf("Decrypt %d/%d: %w", w, i, err)
					return
				}
				if !reflect.DeepEqual(got, item) {
					errs <- fmt.Errorf("item %d/%d: got %v, want %v", w, i, got, item)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if g, d := len(env.srv.CallsFor(kmstest.OpGenerateDataKey)), len(env.srv.CallsFor(kmstest.OpDecrypt)); g != workers*perWorker || d != workers*perWorker {
		t.Errorf("KMS calls: %d GenerateDataKey, %d Decrypt; want %d each", g, d, workers*perWorker)
	}
}

// TestDirectKMSAliasRepointed: manual key rotation re-points an alias at a
// new KMS key. New items then use the new key, and items written before
// must stay readable: both references call Decrypt without a KeyId (spec
// §8.6), so KMS takes the key from the ciphertext blob.
func TestDirectKMSAliasRepointed(t *testing.T) {
	env := newKMSEnv(t)
	ctx := context.Background()
	const alias = "alias/items"
	env.srv.CreateAlias(alias, env.keyID)
	enc := newItemEncryptor(t, "t", "id", "", newDirectKMS(t, env.kms, alias))
	item := itemcrypto.Item{"id": s("1"), "v": s("written before the rotation")}
	old, err := enc.Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	newID, newARN := env.srv.CreateKey()
	env.srv.CreateAlias(alias, newID)

	newer, err := enc.Encrypt(ctx, itemcrypto.Item{"id": s("2"), "v": s("after")})
	if err != nil {
		t.Fatal(err)
	}
	if gen := env.srv.CallsFor(kmstest.OpGenerateDataKey); gen[len(gen)-1].KeyARN != newARN {
		t.Errorf("item after the rotation uses key %s, want the new key %s", gen[len(gen)-1].KeyARN, newARN)
	}
	if _, err := enc.Decrypt(ctx, newer); err != nil {
		t.Errorf("item after the rotation: %v", err)
	}
	got, err := enc.Decrypt(ctx, old)
	if err != nil {
		dec := env.srv.CallsFor(kmstest.OpDecrypt)
		t.Fatalf("item written before the alias was re-pointed: %v (KMS Decrypt sent KeyId %q, error %s)", err, dec[len(dec)-1].KeyID, dec[len(dec)-1].ErrorCode)
	}
	sameItem(t, got, item)
}

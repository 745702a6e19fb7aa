package metastore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Helpers shared by the Memory and the DynamoDB tests.

func mustAES(t testing.TB, b byte) *cmp.AESKey {
	t.Helper()
	k, err := cmp.NewAESKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustHMAC(t testing.TB, b byte) *cmp.HMACKey {
	t.Helper()
	k, err := cmp.NewHMACKey("HmacSHA256", bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// metaProvider protects meta items; seed picks its keys.
func metaProvider(t testing.TB, seed byte) cmp.Provider {
	t.Helper()
	kek := mustAES(t, seed)
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mustHMAC(t, seed+1)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// metaEncryptor reads and writes meta items the way spec §8.7 describes
// them, independently of the package: keys N and V signed, everything else
// encrypted and signed, under the meta table's name.
func metaEncryptor(t testing.TB, table string, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	return encryptor(t, table, metastore.AttrName, metastore.AttrVersion, p)
}

func encryptor(t testing.TB, table, pk, sk string, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	pol, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: pk, SortKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: pol, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func s(v string) types.AttributeValue  { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue  { return &types.AttributeValueMemberN{Value: v} }
func bv(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

// metaItem is a plaintext meta item.
func metaItem(name string, version int64, enc, intKey []byte) itemcrypto.Item {
	return itemcrypto.Item{
		"N": s(name), "V": n(fmt.Sprint(version)),
		"t": s("0"), "enc": bv(enc), "encAlg": s("AES"), "int": bv(intKey), "intAlg": s("HmacSHA256"),
	}
}

// checkStoredMetaItem checks the on-disk form of a meta item (spec §8.7):
// N (S) and V (N) in clear, the five payload attributes B ciphertexts, the
// description and signature, nothing else. It returns the plaintext.
func checkStoredMetaItem(t testing.TB, table string, meta cmp.Provider, raw itemcrypto.Item, name string, version int64) itemcrypto.Item {
	t.Helper()
	if got := sortedKeys(raw); !reflect.DeepEqual(got, []string{"*amzn-ddb-map-desc*", "*amzn-ddb-map-sig*", "N", "V", "enc", "encAlg", "int", "intAlg", "t"}) {
		t.Errorf("stored attributes = %q", got)
	}
	if !reflect.DeepEqual(raw["N"], s(name)) || !reflect.DeepEqual(raw["V"], n(fmt.Sprint(version))) {
		t.Errorf("stored N, V = %#v, %#v; want S %q, N %d", raw["N"], raw["V"], name, version)
	}
	for _, a := range []string{"t", "enc", "encAlg", "int", "intAlg", "*amzn-ddb-map-desc*", "*amzn-ddb-map-sig*"} {
		if _, ok := raw[a].(*types.AttributeValueMemberB); !ok {
			t.Errorf("stored %s = %#v, want B", a, raw[a])
		}
	}
	plain, err := metaEncryptor(t, table, meta).Decrypt(context.Background(), raw)
	if err != nil {
		t.Fatalf("decrypting the stored meta item independently: %v", err)
	}
	for a, want := range map[string]types.AttributeValue{"N": s(name), "V": n(fmt.Sprint(version)), "t": s("0"), "encAlg": s("AES"), "intAlg": s("HmacSHA256")} {
		if !reflect.DeepEqual(plain[a], want) {
			t.Errorf("plaintext %s = %#v, want %#v", a, plain[a], want)
		}
	}
	for _, a := range []string{"enc", "int"} {
		if b, ok := plain[a].(*types.AttributeValueMemberB); !ok || len(b.Value) != 32 {
			t.Errorf("plaintext %s = %#v, want 32 bytes", a, plain[a])
		}
	}
	if len(plain) != 7 {
		t.Errorf("plaintext has %d attributes, want 7: %v", len(plain), sortedKeys(plain))
	}
	return plain
}

// wrappedFrom builds, independently of the package, the provider a meta item
// describes: Wrapped with enc as AES wrapping key, int as HMAC key and the
// meta-id in the description.
func wrappedFrom(t testing.TB, plain itemcrypto.Item) cmp.Provider {
	t.Helper()
	kek, err := cmp.NewAESKey(plain["enc"].(*types.AttributeValueMemberB).Value)
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", plain["int"].(*types.AttributeValueMemberB).Value)
	if err != nil {
		t.Fatal(err)
	}
	id := cmp.MetaID(plain["N"].(*types.AttributeValueMemberS).Value, mustInt(t, plain["V"].(*types.AttributeValueMemberN).Value))
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, Description: materialdesc.Description{materialdesc.KeyMetaID: id}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustInt(t testing.TB, v string) int64 {
	t.Helper()
	var i int64
	if _, err := fmt.Sscan(v, &i); err != nil {
		t.Fatal(err)
	}
	return i
}

func sortedKeys(m itemcrypto.Item) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var dataCounter struct {
	sync.Mutex
	n int
}

// sameKeys checks that items written by each provider are read by each
// other, and that the items name the meta-id wantID.
func sameKeys(t testing.TB, wantID string, providers ...cmp.Provider) {
	t.Helper()
	ctx := context.Background()
	for i, w := range providers {
		dataCounter.Lock()
		dataCounter.n++
		id := fmt.Sprint(dataCounter.n)
		dataCounter.Unlock()
		item := itemcrypto.Item{"id": s(id), "secret": s("secret " + id)}
		stored, err := encryptor(t, "data", "id", "", w).Encrypt(ctx, item)
		if err != nil {
			t.Fatalf("provider %d: Encrypt: %v", i, err)
		}
		d, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
		if err != nil {
			t.Fatal(err)
		}
		if d[materialdesc.KeyMetaID] != wantID || d[materialdesc.KeyWrapAlg] != materialdesc.WrapAESKW {
			t.Errorf("provider %d writes meta-id %q, wrap-alg %q; want %q, AESWrap", i, d[materialdesc.KeyMetaID], d[materialdesc.KeyWrapAlg], wantID)
		}
		for j, r := range providers {
			got, err := encryptor(t, "data", "id", "", r).Decrypt(ctx, stored)
			if err != nil {
				t.Errorf("item of provider %d, read by provider %d: %v", i, j, err)
				continue
			}
			if !reflect.DeepEqual(got, item) {
				t.Errorf("item of provider %d, read by provider %d: got %v", i, j, got)
			}
		}
	}
}

// differentKeys checks that an item of a is not readable by b.
func differentKeys(t testing.TB, a, b cmp.Provider) {
	t.Helper()
	ctx := context.Background()
	stored, err := encryptor(t, "data", "id", "", a).Encrypt(ctx, itemcrypto.Item{"id": s("x"), "v": s("v")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encryptor(t, "data", "id", "", b).Decrypt(ctx, stored); err == nil {
		t.Errorf("an item of one version decrypts with another version's provider")
	}
}

func newMemory(t testing.TB, table string, meta cmp.Provider) *metastore.Memory {
	t.Helper()
	m, err := metastore.NewMemory(table, meta)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Memory tests.

func TestMemoryItemFormat(t *testing.T) {
	meta := metaProvider(t, 1)
	m := newMemory(t, "meta", meta)
	p, err := m.CreateProvider(context.Background(), "mat", 0)
	if err != nil {
		t.Fatal(err)
	}
	items := m.Items()
	if len(items) != 1 {
		t.Fatalf("Items() = %d items, want 1", len(items))
	}
	plain := checkStoredMetaItem(t, "meta", meta, items[0], "mat", 0)
	sameKeys(t, "mat#0", p, wrappedFrom(t, plain))
}

// TestMemoryLoadHandBuiltItem: a meta item written per spec §8.7 with known
// keys, outside the package, gives the provider those keys make.
func TestMemoryLoadHandBuiltItem(t *testing.T) {
	meta := metaProvider(t, 1)
	encKey, intKey := bytes.Repeat([]byte{0xe1}, 32), bytes.Repeat([]byte{0x17}, 32)
	plain := metaItem("mat", 4, encKey, intKey)
	stored, err := metaEncryptor(t, "meta", meta).Encrypt(context.Background(), plain)
	if err != nil {
		t.Fatal(err)
	}
	m := newMemory(t, "meta", meta)
	if err := m.Load(stored); err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := m.Provider(context.Background(), "mat", 4)
	if err != nil {
		t.Fatalf("Provider: %v", err)
	}
	sameKeys(t, "mat#4", p, wrappedFrom(t, plain))
	if v, err := m.MaxVersion(context.Background(), "mat"); err != nil || v != 4 {
		t.Errorf("MaxVersion = %d, %v; want 4", v, err)
	}
}

func TestMemoryBadItems(t *testing.T) {
	meta := metaProvider(t, 1)
	ctx := context.Background()
	key32 := bytes.Repeat([]byte{7}, 32)
	good := metaItem("mat", 0, key32, key32)
	protect := func(table string, p cmp.Provider, plain itemcrypto.Item) itemcrypto.Item {
		stored, err := metaEncryptor(t, table, p).Encrypt(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	edit := func(name string, v types.AttributeValue) itemcrypto.Item {
		out := maps.Clone(good)
		if v == nil {
			delete(out, name)
		} else {
			out[name] = v
		}
		return out
	}
	flip := func(stored itemcrypto.Item, attr string) itemcrypto.Item {
		out := maps.Clone(stored)
		b := bytes.Clone(out[attr].(*types.AttributeValueMemberB).Value)
		b[len(b)/2] ^= 0x01
		out[attr] = bv(b)
		return out
	}
	goodStored := protect("meta", meta, good)
	movedVersion := maps.Clone(goodStored)
	movedVersion["V"] = n("1")
	tests := []struct {
		name    string
		stored  itemcrypto.Item
		version int64
		want    error
	}{
		{"flipped byte of enc", flip(goodStored, "enc"), 0, itemcrypto.ErrAuthentication},
		{"flipped byte of int", flip(goodStored, "int"), 0, itemcrypto.ErrAuthentication},
		{"flipped signature", flip(goodStored, "*amzn-ddb-map-sig*"), 0, itemcrypto.ErrAuthentication},
		{"moved to another version", movedVersion, 1, itemcrypto.ErrAuthentication},
		{"signed for another meta table", protect("other-meta", meta, good), 0, itemcrypto.ErrAuthentication},
		{"protected by another meta provider", protect("meta", metaProvider(t, 9), good), 0, itemcrypto.ErrAuthentication},
		{"material type 1", protect("meta", meta, edit("t", s("1"))), 0, metastore.ErrUnsupportedMaterial},
		{"material type missing", protect("meta", meta, edit("t", nil)), 0, metastore.ErrUnsupportedMaterial},
		{"encAlg DES", protect("meta", meta, edit("encAlg", s("DES"))), 0, metastore.ErrUnsupportedMaterial},
		{"enc of 15 bytes", protect("meta", meta, edit("enc", bv(key32[:15]))), 0, metastore.ErrUnsupportedMaterial},
		{"enc as S", protect("meta", meta, edit("enc", s("not bytes"))), 0, metastore.ErrUnsupportedMaterial},
		{"intAlg HmacMD5", protect("meta", meta, edit("intAlg", s("HmacMD5"))), 0, metastore.ErrUnsupportedMaterial},
		{"int missing", protect("meta", meta, edit("int", nil)), 0, metastore.ErrUnsupportedMaterial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemory(t, "meta", meta)
			if err := m.Load(tc.stored); err != nil {
				t.Fatalf("Load: %v", err)
			}
			p, err := m.Provider(ctx, "mat", tc.version)
			if p != nil || !errors.Is(err, tc.want) {
				t.Errorf("Provider = %v, %v; want nil, %v", p, err, tc.want)
			}
			// CreateProvider must not replace the bad item.
			p, err = m.CreateProvider(ctx, "mat", tc.version)
			if p != nil || !errors.Is(err, tc.want) {
				t.Errorf("CreateProvider over a bad item = %v, %v; want nil, %v", p, err, tc.want)
			}
		})
	}
}

func TestMemoryLoadInvalid(t *testing.T) {
	m := newMemory(t, "meta", metaProvider(t, 1))
	for _, it := range []itemcrypto.Item{
		{},
		{"N": s("mat")},
		{"V": n("0")},
		{"N": s("mat"), "V": s("0")},
		{"N": n("1"), "V": n("0")},
		{"N": s("mat"), "V": n("1.5")},
		{"N": s("mat"), "V": n("1e3")},
	} {
		if err := m.Load(it); err == nil {
			t.Errorf("Load(%v) accepted", sortedKeys(it))
		}
	}
	if items := m.Items(); len(items) != 0 {
		t.Errorf("Items() after failed loads = %d items", len(items))
	}
}

func TestMemoryVersions(t *testing.T) {
	m := newMemory(t, "meta", metaProvider(t, 1))
	ctx := context.Background()
	if _, err := m.MaxVersion(ctx, "mat"); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("MaxVersion of an unknown name = %v, want ErrVersionNotFound", err)
	}
	if _, err := m.Provider(ctx, "mat", 0); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("Provider of a missing version = %v, want ErrVersionNotFound", err)
	}
	var ps []cmp.Provider
	for _, v := range []int64{2, 0, 10, 9} {
		p, err := m.CreateProvider(ctx, "mat", v)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if _, err := m.CreateProvider(ctx, "other", 50); err != nil {
		t.Fatal(err)
	}
	if v, err := m.MaxVersion(ctx, "mat"); err != nil || v != 10 {
		t.Errorf("MaxVersion = %d, %v; want 10", v, err)
	}
	// CreateProvider of an existing version returns it.
	again, err := m.CreateProvider(ctx, "mat", 2)
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, "mat#2", ps[0], again)
	differentKeys(t, ps[0], ps[1])
	if _, err := m.Provider(ctx, "mat", 1); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("Provider of a missing version = %v, want ErrVersionNotFound", err)
	}
}

func TestMemoryConcurrentCreate(t *testing.T) {
	m := newMemory(t, "meta", metaProvider(t, 1))
	const workers = 10
	ps := make([]cmp.Provider, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			p, err := m.CreateProvider(context.Background(), "mat", 0)
			if err != nil {
				t.Error(err)
			}
			ps[i] = p
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := len(m.Items()); got != 1 {
		t.Errorf("%d meta items after concurrent creation, want 1", got)
	}
	sameKeys(t, "mat#0", ps...)
}

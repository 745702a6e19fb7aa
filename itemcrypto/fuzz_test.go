package itemcrypto_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// fuzzFixture is one encryptor and one real protected item. The policy has
// no DoNothing attribute, so every successful Decrypt of a mutated item must
// return exactly the original plaintext.
type fuzzFixture struct {
	e      *itemcrypto.Encryptor
	plain  item
	stored item
	names  []string // sorted attribute names of stored
}

func fuzzPolicy() *actions.Policy {
	return actions.Must(actions.Options{
		Default:      actions.EncryptAndSign,
		PartitionKey: "pk",
		SortKey:      "sk",
		Overrides:    map[string]actions.Action{"sign_s": actions.SignOnly, "sign_ns": actions.SignOnly, "sign_m": actions.SignOnly},
	})
}

func fuzzPlaintext() item {
	return item{
		"pk":        s("fuzz"),
		"sk":        n("7"),
		"secret_s":  s("PLAINTEXT-S-secret"),
		"secret_n":  n("-1.5"),
		"secret_l":  list(s("a"), b([]byte{1, 2}), null(), mapOf(map[string]av{"k": boolean(true)})),
		"secret_bs": bs([]byte{0x80}, []byte{0x01}),
		"sign_s":    s("visible"),
		"sign_ns":   ns("3", "1", "2"),
		"sign_m":    mapOf(map[string]av{"x": ss("p", "q"), "y": n("10")}),
	}
}

// fuzzFixtures builds deterministic fixtures (fixed keys, seeded Rand), so a
// crasher saved under testdata/fuzz replays against the same item.
func fuzzFixtures(tb testing.TB) []fuzzFixture {
	mac := must(cmp.NewHMACKey("", keyBytes(10, 32)))
	kek := must(cmp.NewAESKey(keyBytes(20, 32)))
	providers := []cmp.Provider{
		must(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: must(cmp.NewAESKey(keyBytes(30, 16))), SigningKey: mac})),
		must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, Rand: detRand(40)})),
	}
	var out []fuzzFixture
	for i, p := range providers {
		e := newEncryptor(tb, "FuzzTable", fuzzPolicy(), p, func(o *itemcrypto.Options) { o.Rand = detRand(uint64(50 + i)) })
		plain := fuzzPlaintext()
		stored := encryptOK(tb, e, plain)
		out = append(out, fuzzFixture{e: e, plain: plain, stored: stored, names: slices.Sorted(maps.Keys(stored))})
	}
	return append(out, dbesdkFuzzFixtures(tb)...)
}

// rawBytes is the byte content of a value that operation 0 replaces.
func rawBytes(v av) []byte {
	switch v := v.(type) {
	case *types.AttributeValueMemberB:
		return v.Value
	case *types.AttributeValueMemberS:
		return []byte(v.Value)
	case *types.AttributeValueMemberN:
		return []byte(v.Value)
	}
	return must(ddbserial.Marshal(v))
}

// checkDecrypt is the fuzz invariant: no panic; an error comes with a nil
// item; success returns exactly the original plaintext.
func checkDecrypt(t *testing.T, fx fuzzFixture, it item) {
	before := cloneItem(it)
	got, err := fx.e.Decrypt(context.Background(), it)
	if !sameItem(it, before) {
		t.Errorf("Decrypt modified its input")
	}
	if err != nil {
		if got != nil {
			t.Fatalf("Decrypt returned an item with error %v", err)
		}
		return
	}
	if !sameItem(got, fx.plain) {
		t.Fatalf("Decrypt of a mutated item succeeded with another plaintext: %s", diffItems(got, fx.plain))
	}
}

// FuzzDecrypt mutates one attribute of a real protected item. op selects the
// mutation: 0 replaces the value's bytes (B, S and N keep their type; other
// types become B), 1 replaces the value by the deserialization of data (or
// B data when it does not parse), 2 deletes the attribute, 3 adds an
// attribute named data.
func FuzzDecrypt(f *testing.F) {
	fixtures := fuzzFixtures(f)
	for fi, fx := range fixtures {
		for ai, name := range fx.names {
			v := fx.stored[name]
			f.Add(uint8(fi), uint8(ai), uint8(0), rawBytes(v))
			f.Add(uint8(fi), uint8(ai), uint8(1), must(ddbserial.Marshal(v)))
			f.Add(uint8(fi), uint8(ai), uint8(2), []byte(nil))
		}
		f.Add(uint8(fi), uint8(0), uint8(3), []byte("extra"))
		f.Add(uint8(fi), uint8(0), uint8(3), []byte(itemcrypto.SignatureAttribute))
	}
	f.Fuzz(func(t *testing.T, fixture, attr, op uint8, data []byte) {
		fx := fixtures[int(fixture)%len(fixtures)]
		it := cloneItem(fx.stored)
		name := fx.names[int(attr)%len(fx.names)]
		switch op % 4 {
		case 0:
			switch it[name].(type) {
			case *types.AttributeValueMemberS:
				it[name] = s(string(data))
			case *types.AttributeValueMemberN:
				it[name] = n(string(data))
			default:
				it[name] = b(data)
			}
		case 1:
			if v, err := ddbserial.Unmarshal(data); err == nil {
				it[name] = v
			} else {
				it[name] = b(data)
			}
		case 2:
			delete(it, name)
		case 3:
			it[string(data)] = s("added")
		}
		checkDecrypt(t, fx, it)
	})
}

// FuzzDecryptJSON mutates the whole protected item in its DynamoDB JSON form.
func FuzzDecryptJSON(f *testing.F) {
	fixtures := fuzzFixtures(f)
	for fi, fx := range fixtures {
		f.Add(uint8(fi), must(ddbjson.MarshalItem(fx.stored)))
	}
	f.Fuzz(func(t *testing.T, fixture uint8, data []byte) {
		fx := fixtures[int(fixture)%len(fixtures)]
		it, err := ddbjson.UnmarshalItem(data)
		if err != nil {
			return
		}
		checkDecrypt(t, fx, it)
	})
}

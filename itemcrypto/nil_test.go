package itemcrypto_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// nilPolicy gives one attribute each action.
func nilPolicy() *actions.Policy {
	return actions.Must(actions.Options{
		Default: actions.EncryptAndSign, PartitionKey: "pk",
		Overrides: map[string]actions.Action{"sign": actions.SignOnly, "free": actions.DoNothing},
	})
}

// nilValues are values a caller can build that hold a nil somewhere.
func nilValues() map[string]av {
	out := map[string]av{"nil interface": nil}
	for k := range byte(10) {
		v := avfuzzTypedNil(k)
		out[fmt.Sprintf("typed nil %T", v)] = v
	}
	out["nil in a list"] = list(s("a"), (*types.AttributeValueMemberN)(nil))
	out["nil in a map"] = mapOf(map[string]av{"k": (*types.AttributeValueMemberM)(nil)})
	out["nil interface in a map"] = mapOf(map[string]av{"k": nil})
	out["nil deep down"] = nested(20, list((*types.AttributeValueMemberB)(nil)))
	out["unknown member"] = &types.UnknownUnionMember{Tag: "X"}
	return out
}

func avfuzzTypedNil(k byte) av { return avfuzz.Value([]byte{1, k}) }

// TestTypedNilsNeverPanic: a nil anywhere, under any action, is an
// *AttributeError naming the attribute on Encrypt, and ErrAuthentication on
// Decrypt (the signature and description included); nothing panics.
func TestTypedNilsNeverPanic(t *testing.T) {
	ctx := context.Background()
	e := newEncryptor(t, "T", nilPolicy(), staticProvider(t))
	stored := encryptOK(t, e, item{"pk": s("p"), "enc": s("x"), "sign": s("y"), "free": s("z")})
	for name, v := range nilValues() {
		for _, attr := range []string{"pk", "enc", "sign", "free"} {
			t.Run(name+"/"+attr, func(t *testing.T) {
				in := item{"pk": s("p"), "enc": s("x"), "sign": s("y"), "free": s("z")}
				in[attr] = v
				_, err := e.Encrypt(ctx, in)
				var ae *itemcrypto.AttributeError
				if !errors.As(err, &ae) || ae.Name != attr || !errors.Is(err, itemcrypto.ErrUnsupportedValue) {
					t.Errorf("Encrypt = %v; want an *AttributeError for %q", err, attr)
				}
				if attr == "free" {
					return // DoNothing: stored as is, outside the signature
				}
				bad := cloneItem(stored)
				bad[attr] = v
				if got, err := e.Decrypt(ctx, bad); got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Errorf("Decrypt = %v, %v; want ErrAuthentication", got != nil, err)
				}
			})
		}
	}
	for _, reserved := range []string{itemcrypto.SignatureAttribute, itemcrypto.MaterialDescriptionAttribute} {
		for _, v := range []av{nil, (*types.AttributeValueMemberB)(nil), (*types.AttributeValueMemberS)(nil), &types.AttributeValueMemberB{}} {
			bad := cloneItem(stored)
			bad[reserved] = v
			if got, err := e.Decrypt(ctx, bad); got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("Decrypt with %s = %T: %v, %v; want ErrAuthentication", reserved, v, got != nil, err)
			}
		}
	}
	// Nil maps and nil sets are values too: a nil map is an empty map, a
	// nil set an empty set (refused where it is signed).
	in := item{"pk": s("p"), "enc": mapOf(nil), "sign": &types.AttributeValueMemberL{}}
	if _, err := e.Decrypt(ctx, encryptOK(t, e, in)); err != nil {
		t.Errorf("round trip of nil map and list: %v", err)
	}
	for _, set := range []av{&types.AttributeValueMemberSS{}, &types.AttributeValueMemberNS{}, &types.AttributeValueMemberBS{}} {
		_, err := e.Encrypt(ctx, item{"pk": s("p"), "sign": set})
		if !errors.Is(err, itemcrypto.ErrEmptySet) {
			t.Errorf("Encrypt(nil %T) = %v; want ErrEmptySet", set, err)
		}
	}
}

// FuzzEncryptValues: Encrypt of any hand-built item (typed nils, nil maps
// and sets, unknown members, deep nesting, numbers out of range, huge sets)
// never panics, fails only with an *AttributeError or ErrItemTooLarge, and
// what it protects decrypts back to the same values.
func FuzzEncryptValues(f *testing.F) {
	for _, seed := range [][]byte{
		{1, 'a', 1, 3}, {2, 'p', 'k', 4, 1, 'x'}, {1, 'a', 14, 0x80 | 40, 216},
		{1, 'a', 12, 47, 2, 0}, {1, 'b', 11, 0, 0}, {1, 'c', 8, 0}, {1, 'd', 13, 0},
		{1, 'e', 5, 1, 90}, {4, 's', 'i', 'g', 'n', 8, 3, 0, 1, '1', 1, 1, 200},
	} {
		f.Add(seed)
	}
	e := newEncryptor(f, "T", nilPolicy(), staticProvider(f))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		in := avfuzz.Item(data)
		in["pk"] = s("p")
		stored, err := e.Encrypt(ctx, in)
		if err != nil {
			var ae *itemcrypto.AttributeError
			if stored != nil || !errors.As(err, &ae) && !errors.Is(err, itemcrypto.ErrItemTooLarge) {
				t.Fatalf("Encrypt = %v (item %v); want an *AttributeError or ErrItemTooLarge", err, stored != nil)
			}
			return
		}
		got, err := e.Decrypt(ctx, stored)
		if err != nil {
			t.Fatalf("Decrypt of what Encrypt protected: %v", err)
		}
		for name, v := range in {
			if nilPolicy().Action(name) == actions.DoNothing {
				continue
			}
			if !ddbjson.Equal(got[name], v, ddbserial.CanonicalNumber) {
				t.Fatalf("attribute %q changed in the round trip", name)
			}
		}
	})
}

// FuzzDecryptValues puts hand-built values into a real protected item, in
// place of an attribute or beside them: Decrypt never panics, and fails
// with ErrAuthentication and no item, unless the value is one it may ignore.
func FuzzDecryptValues(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 1, 4}, {1, 1, 3}, {2, 14, 0x80 | 40, 216}, {3, 12, 47, 2, 0}, {4, 1, 9}, {5, 13, 0}, {6, 11, 0, 0},
	} {
		f.Add(seed)
	}
	e := newEncryptor(f, "T", nilPolicy(), staticProvider(f))
	plain := item{"pk": s("p"), "enc": s("x"), "sign": ns("1", "2"), "free": s("z")}
	stored := encryptOK(f, e, plain)
	targets := []string{"pk", "enc", "sign", "free", itemcrypto.SignatureAttribute, itemcrypto.MaterialDescriptionAttribute, "added"}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		target := targets[int(data[0])%len(targets)]
		it := cloneItem(stored)
		it[target] = avfuzz.Value(data[1:])
		got, err := e.Decrypt(ctx, it)
		if err != nil {
			if got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Fatalf("Decrypt = %v, %v; want ErrAuthentication and no item", got != nil, err)
			}
			return
		}
		if target != "free" && !sameValue(it[target], stored[target]) {
			t.Fatalf("Decrypt accepted a changed %q", target)
		}
		if !sameValue(got["pk"], plain["pk"]) || !sameValue(got["enc"], plain["enc"]) {
			t.Fatalf("Decrypt returned other plaintext")
		}
	})
}

package tinkcmp

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// The associated data is a wire format: it must never change for a given
// wrap-alg, or stored items become unreadable.
func TestAssociatedDataGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		ec   cmp.EncryptionContext
		want string
	}{
		{
			name: "partition and sort key",
			ec: cmp.EncryptionContext{TableName: "orders", PartitionKeyName: "customer", SortKeyName: "order",
				Attributes: map[string]types.AttributeValue{
					"customer": &types.AttributeValueMemberS{Value: "c-1"},
					"order":    &types.AttributeValueMemberN{Value: "0042.50"},
					"other":    &types.AttributeValueMemberS{Value: "not bound"},
				}},
			want: "00000017" + hex.EncodeToString([]byte(WrapAlgKeyset)) +
				"00000006" + hex.EncodeToString([]byte("orders")) +
				"00000002" +
				"00000008" + hex.EncodeToString([]byte("customer")) + "0073" + "00000003" + hex.EncodeToString([]byte("c-1")) +
				"00000005" + hex.EncodeToString([]byte("order")) + "006e" + "00000004" + hex.EncodeToString([]byte("42.5")),
		},
		{
			name: "partition key only, binary",
			ec: cmp.EncryptionContext{TableName: "t", PartitionKeyName: "id",
				Attributes: map[string]types.AttributeValue{"id": &types.AttributeValueMemberB{Value: []byte{0, 0xff}}}},
			want: "00000017" + hex.EncodeToString([]byte(WrapAlgKeyset)) +
				"00000001" + "74" +
				"00000001" +
				"00000002" + "6964" + "0062" + "00000002" + "00ff",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := associatedData(WrapAlgKeyset, tc.ec)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tc.want {
				t.Errorf("associatedData =\n%x\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestAssociatedDataErrors(t *testing.T) {
	for name, ec := range map[string]cmp.EncryptionContext{
		"no partition key name": {TableName: "t"},
		"partition key missing": {TableName: "t", PartitionKeyName: "id", Attributes: map[string]types.AttributeValue{}},
		"sort key missing": {TableName: "t", PartitionKeyName: "id", SortKeyName: "sk",
			Attributes: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}},
		"bad number": {TableName: "t", PartitionKeyName: "id",
			Attributes: map[string]types.AttributeValue{"id": &types.AttributeValueMemberN{Value: "1e"}}},
	} {
		if _, err := associatedData(WrapAlgKeyset, ec); err == nil {
			t.Errorf("%s: associatedData succeeded", name)
		}
	}
}

func TestClassify(t *testing.T) {
	ks := &keysetState{keys: map[uint32]keyInfo{
		1: {status: keyset.Enabled, prefix: prefixTink},
		2: {status: keyset.Disabled, prefix: prefixTink},
		3: {status: keyset.Destroyed, prefix: prefixTink},
		4: {status: keyset.Disabled, prefix: prefixLegacy},
		5: {status: keyset.Disabled, prefix: prefixNone},
	}}
	ct := func(b0 byte, id uint32) []byte {
		return append([]byte{b0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, make([]byte, 28)...)
	}
	for _, tc := range []struct {
		name string
		ct   []byte
		want error
	}{
		{"enabled key", ct(0x01, 1), cmp.ErrAuthentication},
		{"disabled key", ct(0x01, 2), &KeyDisabledError{KeyID: 2, Status: keyset.Disabled}},
		{"destroyed key", ct(0x01, 3), &KeyDisabledError{KeyID: 3, Status: keyset.Destroyed}},
		{"legacy prefix, disabled", ct(0x00, 4), &KeyDisabledError{KeyID: 4, Status: keyset.Disabled}},
		{"prefix type mismatch", ct(0x01, 4), &UnknownKeyError{KeyID: 4}},
		{"raw key's ID", ct(0x01, 5), &UnknownKeyError{KeyID: 5}},
		{"unknown key", ct(0x01, 99), &UnknownKeyError{KeyID: 99}},
		{"no prefix", ct(0x02, 2), cmp.ErrAuthentication},
		{"short", []byte{0x01, 0, 0}, cmp.ErrAuthentication},
	} {
		got := ks.classify(tc.ct)
		var gd *KeyDisabledError
		var wd *KeyDisabledError
		var gu, wu *UnknownKeyError
		switch {
		case errors.As(tc.want, &wd):
			if !errors.As(got, &gd) || *gd != *wd {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		case errors.As(tc.want, &wu):
			if !errors.As(got, &gu) || *gu != *wu || !errors.Is(got, cmp.ErrNoMaterials) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		default:
			if got != tc.want {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

// Package ddbattr is the DB-ESDK serialization of DynamoDB attribute values
// (specification dynamodb-encryption-client/ddb-attribute-serialization.md):
// a two-byte type id and a value, numbers normalized as DynamoDB stores
// them, sets and map keys in UTF-16 binary order, lengths as big-endian
// uint32.
//
// Bounds: [Append] writes at most len(input)+170 bytes per number and the
// framing (4 bytes per set member, 12 per map entry, 6 per list element)
// for every value it is given; [Parse] allocates at most a constant times
// its input plus a constant (each element it creates consumes at least 4
// input bytes), and recurses at most MaxDepth levels.
package ddbattr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Type ids of the DB-ESDK serialization.
const (
	TypeNull      uint16 = 0x0000
	TypeString    uint16 = 0x0001
	TypeNumber    uint16 = 0x0002
	TypeBoolean   uint16 = 0x0004
	TypeStringSet uint16 = 0x0101
	TypeNumberSet uint16 = 0x0102
	TypeBinarySet uint16 = 0x01FF
	TypeMap       uint16 = 0x0200
	TypeList      uint16 = 0x0300
	TypeBinary    uint16 = 0xFFFF
)

// MaxDepth is DynamoDB's nesting limit for lists and maps.
const MaxDepth = 32

// Errors of serialization and parsing; they name no value.
var (
	ErrNilValue   = errors.New("nil attribute value")
	ErrDuplicate  = errors.New("duplicate set member or map key")
	ErrTooDeep    = fmt.Errorf("value nested deeper than %d levels", MaxDepth)
	ErrMalformed  = errors.New("malformed serialized value")
	ErrNotUTF8    = errors.New("string is not valid UTF-8")
	ErrUnknownTag = errors.New("unknown attribute value type")
)

// TypeID returns the type id of v.
func TypeID(v types.AttributeValue) (uint16, error) {
	switch v.(type) {
	case *types.AttributeValueMemberNULL:
		return TypeNull, nil
	case *types.AttributeValueMemberS:
		return TypeString, nil
	case *types.AttributeValueMemberN:
		return TypeNumber, nil
	case *types.AttributeValueMemberB:
		return TypeBinary, nil
	case *types.AttributeValueMemberBOOL:
		return TypeBoolean, nil
	case *types.AttributeValueMemberSS:
		return TypeStringSet, nil
	case *types.AttributeValueMemberNS:
		return TypeNumberSet, nil
	case *types.AttributeValueMemberBS:
		return TypeBinarySet, nil
	case *types.AttributeValueMemberM:
		return TypeMap, nil
	case *types.AttributeValueMemberL:
		return TypeList, nil
	case nil:
		return 0, ErrNilValue
	}
	return 0, ErrUnknownTag
}

// Append appends the serialized value of v (without its type id) to dst and
// returns the type id.
func Append(dst []byte, v types.AttributeValue) ([]byte, uint16, error) {
	t, err := TypeID(v)
	if err != nil {
		return dst, 0, err
	}
	dst, err = appendValue(dst, v, 0)
	return dst, t, err
}

func appendValue(dst []byte, v types.AttributeValue, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return dst, ErrTooDeep
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		if v == nil {
			return dst, ErrNilValue
		}
		return dst, nil
	case *types.AttributeValueMemberS:
		if v == nil {
			return dst, ErrNilValue
		}
		if !utf8.ValidString(v.Value) {
			return dst, ErrNotUTF8
		}
		return append(dst, v.Value...), nil
	case *types.AttributeValueMemberN:
		if v == nil {
			return dst, ErrNilValue
		}
		n, err := NormalizeNumber(v.Value)
		if err != nil {
			return dst, err
		}
		return append(dst, n...), nil
	case *types.AttributeValueMemberB:
		if v == nil {
			return dst, ErrNilValue
		}
		return append(dst, v.Value...), nil
	case *types.AttributeValueMemberBOOL:
		if v == nil {
			return dst, ErrNilValue
		}
		if v.Value {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case *types.AttributeValueMemberSS:
		if v == nil {
			return dst, ErrNilValue
		}
		for _, s := range v.Value {
			if !utf8.ValidString(s) {
				return dst, ErrNotUTF8
			}
		}
		return appendStrings(dst, slices.Clone(v.Value))
	case *types.AttributeValueMemberNS:
		if v == nil {
			return dst, ErrNilValue
		}
		ns := make([]string, len(v.Value))
		for i, n := range v.Value {
			var err error
			if ns[i], err = NormalizeNumber(n); err != nil {
				return dst, err
			}
		}
		return appendStrings(dst, ns)
	case *types.AttributeValueMemberBS:
		if v == nil {
			return dst, ErrNilValue
		}
		bs := slices.Clone(v.Value)
		slices.SortFunc(bs, func(a, b []byte) int { return compareBytes(a, b) })
		for i := 1; i < len(bs); i++ {
			if compareBytes(bs[i-1], bs[i]) == 0 {
				return dst, ErrDuplicate
			}
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(bs)))
		for _, b := range bs {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
			dst = append(dst, b...)
		}
		return dst, nil
	case *types.AttributeValueMemberM:
		if v == nil {
			return dst, ErrNilValue
		}
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			if !utf8.ValidString(k) {
				return dst, ErrNotUTF8
			}
			keys = append(keys, k)
		}
		slices.SortFunc(keys, CompareUTF16)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(keys)))
		for _, k := range keys {
			dst = binary.BigEndian.AppendUint16(dst, TypeString)
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(k)))
			dst = append(dst, k...)
			var err error
			if dst, err = appendNested(dst, v.Value[k], depth); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case *types.AttributeValueMemberL:
		if v == nil {
			return dst, ErrNilValue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.Value)))
		for _, e := range v.Value {
			var err error
			if dst, err = appendNested(dst, e, depth); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case nil:
		return dst, ErrNilValue
	}
	return dst, ErrUnknownTag
}

// appendNested appends type id, length and value of a list element or map
// value.
func appendNested(dst []byte, v types.AttributeValue, depth int) ([]byte, error) {
	t, err := TypeID(v)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint16(dst, t)
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err = appendValue(dst, v, depth+1)
	if err != nil {
		return dst, err
	}
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst, nil
}

// appendStrings sorts ss (owned) in UTF-16 order and appends the set.
func appendStrings(dst []byte, ss []string) ([]byte, error) {
	slices.SortFunc(ss, CompareUTF16)
	size := 4
	for i, s := range ss {
		if i > 0 && ss[i-1] == s {
			return dst, ErrDuplicate
		}
		size += 4 + len(s)
	}
	dst = slices.Grow(dst, size)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(ss)))
	for _, s := range ss {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst, nil
}

func compareBytes(a, b []byte) int {
	return slices.Compare(a, b)
}

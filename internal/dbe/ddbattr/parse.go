package ddbattr

import (
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/wire"
)

// Parse returns the attribute value of type id t serialized as b. Binary
// values alias b. It refuses trailing bytes, duplicates, invalid UTF-8,
// numbers DynamoDB would refuse, and nesting beyond MaxDepth.
func Parse(t uint16, b []byte) (types.AttributeValue, error) {
	return parseValue(t, b, 0)
}

func parseValue(t uint16, b []byte, depth int) (types.AttributeValue, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	switch t {
	case TypeNull:
		if len(b) != 0 {
			return nil, ErrMalformed
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case TypeString:
		if !utf8.Valid(b) {
			return nil, ErrNotUTF8
		}
		return &types.AttributeValueMemberS{Value: string(b)}, nil
	case TypeNumber:
		n, err := parseNumber1(b)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: n}, nil
	case TypeBinary:
		return &types.AttributeValueMemberB{Value: b}, nil
	case TypeBoolean:
		if len(b) != 1 || b[0] > 1 {
			return nil, ErrMalformed
		}
		return &types.AttributeValueMemberBOOL{Value: b[0] == 1}, nil
	case TypeStringSet, TypeNumberSet, TypeBinarySet:
		return parseSet(t, b)
	case TypeMap:
		return parseMap(b, depth)
	case TypeList:
		return parseList(b, depth)
	}
	return nil, ErrUnknownTag
}

func parseNumber1(b []byte) (string, error) {
	s, _, err := parseNumber2(b)
	return s, err
}

// parseNumber2 returns a number as the writer stored it and its normalized
// form (the value, for duplicate checks).
func parseNumber2(b []byte) (stored, normalized string, err error) {
	s := string(b)
	n, err := NormalizeNumber(s)
	if err != nil {
		return "", "", err
	}
	return s, n, nil
}

// count reads an element count and checks that the rest can hold it at
// minSize bytes per element, so no allocation outgrows the input.
func count(r *wire.Reader, minSize int) (int, bool) {
	n, ok := r.U32()
	if !ok || uint64(n)*uint64(minSize) > uint64(len(r.B)) {
		return 0, false
	}
	return int(n), true
}

func parseSet(t uint16, b []byte) (types.AttributeValue, error) {
	r := wire.Reader{B: b}
	n, ok := count(&r, 4)
	if !ok {
		return nil, ErrMalformed
	}
	members := make([][]byte, n)
	for i := range members {
		var ok bool
		if members[i], ok = r.LV32(); !ok {
			return nil, ErrMalformed
		}
	}
	if len(r.B) != 0 {
		return nil, ErrMalformed
	}
	switch t {
	case TypeBinarySet:
		seen := make(map[string]struct{}, n)
		for _, m := range members {
			if _, dup := seen[string(m)]; dup {
				return nil, ErrDuplicate
			}
			seen[string(m)] = struct{}{}
		}
		return &types.AttributeValueMemberBS{Value: members}, nil
	default:
		ss := make([]string, n)
		seen := make(map[string]struct{}, n)
		for i, m := range members {
			key := ""
			if t == TypeNumberSet {
				var err error
				if ss[i], key, err = parseNumber2(m); err != nil {
					return nil, err // duplicates are by value: "1" and "1.0" are one
				}
			} else {
				if !utf8.Valid(m) {
					return nil, ErrNotUTF8
				}
				ss[i] = string(m)
				key = ss[i]
			}
			if _, dup := seen[key]; dup {
				return nil, ErrDuplicate
			}
			seen[key] = struct{}{}
		}
		if t == TypeNumberSet {
			return &types.AttributeValueMemberNS{Value: ss}, nil
		}
		return &types.AttributeValueMemberSS{Value: ss}, nil
	}
}

func parseMap(b []byte, depth int) (types.AttributeValue, error) {
	r := wire.Reader{B: b}
	n, ok := count(&r, 12)
	if !ok {
		return nil, ErrMalformed
	}
	m := make(map[string]types.AttributeValue, n)
	for range n {
		kt, ok := r.U16()
		if !ok || kt != TypeString {
			return nil, ErrMalformed
		}
		kb, ok := r.LV32()
		if !ok {
			return nil, ErrMalformed
		}
		if !utf8.Valid(kb) {
			return nil, ErrNotUTF8
		}
		v, err := nested(&r, depth)
		if err != nil {
			return nil, err
		}
		k := string(kb)
		if _, dup := m[k]; dup {
			return nil, ErrDuplicate
		}
		m[k] = v
	}
	if len(r.B) != 0 {
		return nil, ErrMalformed
	}
	return &types.AttributeValueMemberM{Value: m}, nil
}

func parseList(b []byte, depth int) (types.AttributeValue, error) {
	r := wire.Reader{B: b}
	n, ok := count(&r, 6)
	if !ok {
		return nil, ErrMalformed
	}
	l := make([]types.AttributeValue, n)
	for i := range l {
		v, err := nested(&r, depth)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	if len(r.B) != 0 {
		return nil, ErrMalformed
	}
	return &types.AttributeValueMemberL{Value: l}, nil
}

func nested(r *wire.Reader, depth int) (types.AttributeValue, error) {
	t, ok := r.U16()
	if !ok {
		return nil, ErrMalformed
	}
	vb, ok := r.LV32()
	if !ok {
		return nil, ErrMalformed
	}
	return parseValue(t, vb, depth+1)
}

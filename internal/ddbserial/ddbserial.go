// Package ddbserial implements the canonical binary serialization of DynamoDB
// attribute values used by the AWS DynamoDB Encryption Client (DDBEC), both as
// the plaintext of encrypted attributes and as the input hashed into the item
// signature (spec §2).
//
// Errors never quote values: they describe the type or the position only.
package ddbserial

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Type tags (the second byte; the first byte is always 0x00).
const (
	tagNull = 0x00
	tagBool = '?'
	tagS    = 's'
	tagN    = 'n'
	tagB    = 'b'
	tagSS   = 'S'
	tagNS   = 'N'
	tagBS   = 'B'
	tagL    = 'L'
	tagM    = 'M'
)

// MaxDepth bounds the nesting of lists and maps, on serialization and
// deserialization alike. DynamoDB itself allows 32 levels.
const MaxDepth = 32

// Errors returned by this package. They are matched with errors.Is and never
// carry the offending value.
var (
	// ErrUnsupportedType: a nil value, an unknown union member or NULL:false.
	ErrUnsupportedType = errors.New("unsupported attribute value type")
	// ErrEmptySet: a string, number or binary set with no members.
	ErrEmptySet = errors.New("empty set")
	// ErrInvalidNumber: a number that is not a plain decimal literal.
	ErrInvalidNumber = errors.New("invalid number")
	// ErrInvalidUTF8: a string, set member or map key that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrTooDeep: lists and maps nested deeper than MaxDepth.
	ErrTooDeep = errors.New("value nested too deeply")
	// ErrMalformed: serialized bytes that are not exactly one valid value.
	ErrMalformed = errors.New("malformed serialized attribute")
)

// Append appends the canonical serialization of v to dst.
func Append(dst []byte, v types.AttributeValue) ([]byte, error) {
	return appendValue(dst, v, 0)
}

// Marshal returns the canonical serialization of v.
func Marshal(v types.AttributeValue) ([]byte, error) {
	return Append(nil, v)
}

func appendTag(dst []byte, tag byte) []byte { return append(dst, 0, tag) }

func appendLV(dst []byte, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendLVString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendValue(dst []byte, v types.AttributeValue, depth int) ([]byte, error) {
	if IsNil(v) {
		return dst, ErrUnsupportedType
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		if !v.Value {
			return dst, fmt.Errorf("%w: NULL must be true", ErrUnsupportedType)
		}
		return appendTag(dst, tagNull), nil
	case *types.AttributeValueMemberBOOL:
		dst = appendTag(dst, tagBool)
		if v.Value {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case *types.AttributeValueMemberS:
		if !utf8.ValidString(v.Value) {
			return dst, ErrInvalidUTF8
		}
		return appendLVString(appendTag(dst, tagS), v.Value), nil
	case *types.AttributeValueMemberN:
		n, err := CanonicalNumber(v.Value)
		if err != nil {
			return dst, err
		}
		return appendLVString(appendTag(dst, tagN), n), nil
	case *types.AttributeValueMemberB:
		return appendLV(appendTag(dst, tagB), v.Value), nil
	case *types.AttributeValueMemberSS:
		return appendStringSet(appendTag(dst, tagSS), v.Value, false)
	case *types.AttributeValueMemberNS:
		return appendStringSet(appendTag(dst, tagNS), v.Value, true)
	case *types.AttributeValueMemberBS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (BS)", ErrEmptySet)
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagBS), uint32(len(v.Value)))
		if slices.IsSortedFunc(v.Value, bytes.Compare) {
			for _, m := range v.Value {
				dst = appendLV(dst, m)
			}
			return dst, nil
		}
		sorted := slices.Clone(v.Value)
		slices.SortFunc(sorted, bytes.Compare)
		for _, m := range sorted {
			dst = appendLV(dst, m)
		}
		return dst, nil
	case *types.AttributeValueMemberL:
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagL), uint32(len(v.Value)))
		var err error
		for _, e := range v.Value {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case *types.AttributeValueMemberM:
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagM), uint32(len(v.Value)))
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			if !utf8.ValidString(k) {
				return dst, ErrInvalidUTF8
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var err error
		for _, k := range keys {
			dst = appendLVString(appendTag(dst, tagS), k)
			if dst, err = appendValue(dst, v.Value[k], depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	default:
		return dst, ErrUnsupportedType
	}
}

// IsNil reports a nil value or a typed nil pointer inside the interface,
// which a type switch would otherwise dereference.
func IsNil(v types.AttributeValue) bool {
	switch v := v.(type) {
	case nil:
		return true
	case *types.AttributeValueMemberNULL:
		return v == nil
	case *types.AttributeValueMemberBOOL:
		return v == nil
	case *types.AttributeValueMemberS:
		return v == nil
	case *types.AttributeValueMemberN:
		return v == nil
	case *types.AttributeValueMemberB:
		return v == nil
	case *types.AttributeValueMemberSS:
		return v == nil
	case *types.AttributeValueMemberNS:
		return v == nil
	case *types.AttributeValueMemberBS:
		return v == nil
	case *types.AttributeValueMemberL:
		return v == nil
	case *types.AttributeValueMemberM:
		return v == nil
	}
	return false
}

// appendStringSet writes an SS or NS body: count, then members sorted by their
// (canonical) bytes.
func appendStringSet(dst []byte, members []string, numbers bool) ([]byte, error) {
	if len(members) == 0 {
		if numbers {
			return dst, fmt.Errorf("%w (NS)", ErrEmptySet)
		}
		return dst, fmt.Errorf("%w (SS)", ErrEmptySet)
	}
	sorted := make([]string, len(members))
	for i, m := range members {
		if numbers {
			n, err := CanonicalNumber(m)
			if err != nil {
				return dst, err
			}
			sorted[i] = n
		} else {
			if !utf8.ValidString(m) {
				return dst, ErrInvalidUTF8
			}
			sorted[i] = m
		}
	}
	slices.Sort(sorted)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(sorted)))
	for _, m := range sorted {
		dst = appendLVString(dst, m)
	}
	return dst, nil
}

// CanonicalNumber rewrites a DynamoDB number literal into the canonical form
// both reference clients hash and encrypt: plain decimal notation, no
// exponent, no leading or trailing zeros, no '+', no decimal point for
// integers, and "0" for every zero (spec §2.3, the Java algorithm).
func CanonicalNumber(s string) (string, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digits []byte
	fracDigits := 0
	seenPoint := false
	nDigits := 0
mantissa:
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			nDigits++
			if seenPoint {
				fracDigits++
			}
			// Leading zeros are dropped; after the point they still count
			// in fracDigits, which shifts the exponent.
			if len(digits) > 0 || c != '0' {
				digits = append(digits, c)
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			break mantissa
		}
	}
	if nDigits == 0 {
		return "", ErrInvalidNumber
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return "", ErrInvalidNumber
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return "", ErrInvalidNumber
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return "", ErrInvalidNumber
			}
			if exp > 1<<20 { // far beyond anything representable; keep arithmetic bounded
				return "", ErrInvalidNumber
			}
			exp = exp*10 + int(c-'0')
		}
		if eneg {
			exp = -exp
		}
	}
	if len(digits) == 0 {
		return "0", nil
	}
	exp -= fracDigits
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp > 1<<16 || exp < -(1<<16) {
		// DynamoDB numbers range over 1E-130..1E+126; refuse to expand
		// absurd exponents into megabytes of zeros.
		return "", ErrInvalidNumber
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0:
		b.Write(digits)
		for range exp {
			b.WriteByte('0')
		}
	default:
		p := len(digits) + exp
		if p > 0 {
			b.Write(digits[:p])
			b.WriteByte('.')
			b.Write(digits[p:])
		} else {
			b.WriteString("0.")
			for range -p {
				b.WriteByte('0')
			}
			b.Write(digits)
		}
	}
	return b.String(), nil
}

// Unmarshal parses exactly one serialized value; trailing bytes are an error.
func Unmarshal(b []byte) (types.AttributeValue, error) {
	return unmarshal(b, false)
}

// UnmarshalOwned is Unmarshal for a buffer the caller hands over: binary
// values alias b instead of being copied, so b must not be changed or
// reused afterwards.
func UnmarshalOwned(b []byte) (types.AttributeValue, error) {
	return unmarshal(b, true)
}

func unmarshal(b []byte, owned bool) (types.AttributeValue, error) {
	d := decoder{b: b, owned: owned}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(d.b) {
		return nil, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	return v, nil
}

type decoder struct {
	b     []byte
	off   int
	owned bool // binary values may alias b
}

func (d *decoder) bytes(b []byte) []byte {
	if d.owned {
		return b
	}
	return bytes.Clone(b)
}

func (d *decoder) need(n int) error {
	if n < 0 || len(d.b)-d.off < n {
		return fmt.Errorf("%w: truncated", ErrMalformed)
	}
	return nil
}

func (d *decoder) uint32() (int, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	if n > uint32(len(d.b)) { // a count or length can never exceed the input
		return 0, fmt.Errorf("%w: length out of range", ErrMalformed)
	}
	return int(n), nil
}

// count reads a set's member count; DynamoDB sets are never empty.
func (d *decoder) count() (int, error) {
	n, err := d.uint32()
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: %w", ErrMalformed, ErrEmptySet)
	}
	return n, err
}

func (d *decoder) lv() ([]byte, error) {
	n, err := d.uint32()
	if err != nil {
		return nil, err
	}
	if err := d.need(n); err != nil {
		return nil, err
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v, nil
}

func (d *decoder) lvString() (string, error) {
	b, err := d.lv()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: %w", ErrMalformed, ErrInvalidUTF8)
	}
	return string(b), nil
}

func (d *decoder) value(depth int) (types.AttributeValue, error) {
	if err := d.need(2); err != nil {
		return nil, err
	}
	if d.b[d.off] != 0 {
		return nil, fmt.Errorf("%w: reserved tag byte is not zero", ErrMalformed)
	}
	tag := d.b[d.off+1]
	d.off += 2
	switch tag {
	case tagNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case tagBool:
		if err := d.need(1); err != nil {
			return nil, err
		}
		c := d.b[d.off]
		d.off++
		if c > 1 {
			return nil, fmt.Errorf("%w: bad BOOL byte", ErrMalformed)
		}
		return &types.AttributeValueMemberBOOL{Value: c == 1}, nil
	case tagS:
		s, err := d.lvString()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberS{Value: s}, nil
	case tagN:
		s, err := d.lvString()
		if err != nil {
			return nil, err
		}
		if _, err := CanonicalNumber(s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return &types.AttributeValueMemberN{Value: s}, nil
	case tagB:
		b, err := d.lv()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberB{Value: d.bytes(b)}, nil
	case tagSS, tagNS:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		members := make([]string, 0, min(n, 1024))
		for range n {
			s, err := d.lvString()
			if err != nil {
				return nil, err
			}
			if tag == tagNS {
				if _, err := CanonicalNumber(s); err != nil {
					return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
				}
			}
			members = append(members, s)
		}
		if tag == tagSS {
			return &types.AttributeValueMemberSS{Value: members}, nil
		}
		return &types.AttributeValueMemberNS{Value: members}, nil
	case tagBS:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		members := make([][]byte, 0, min(n, 1024))
		for range n {
			b, err := d.lv()
			if err != nil {
				return nil, err
			}
			members = append(members, d.bytes(b))
		}
		return &types.AttributeValueMemberBS{Value: members}, nil
	case tagL:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, ErrTooDeep)
		}
		n, err := d.uint32()
		if err != nil {
			return nil, err
		}
		list := make([]types.AttributeValue, 0, min(n, 1024))
		for range n {
			e, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, e)
		}
		return &types.AttributeValueMemberL{Value: list}, nil
	case tagM:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, ErrTooDeep)
		}
		n, err := d.uint32()
		if err != nil {
			return nil, err
		}
		m := make(map[string]types.AttributeValue, min(n, 1024))
		for range n {
			if err := d.need(2); err != nil {
				return nil, err
			}
			if d.b[d.off] != 0 || d.b[d.off+1] != tagS {
				return nil, fmt.Errorf("%w: map key is not a string", ErrMalformed)
			}
			d.off += 2
			k, err := d.lvString()
			if err != nil {
				return nil, err
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%w: duplicate map key", ErrMalformed)
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	default:
		return nil, fmt.Errorf("%w: unknown type tag", ErrMalformed)
	}
}

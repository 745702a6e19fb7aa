// Package ddbserial implements the canonical binary serialization of DynamoDB
// attribute values used by the AWS DynamoDB Encryption Client (DDBEC), both as
// the plaintext of encrypted attributes and as the input hashed into the item
// signature (spec §2).
//
// Errors never quote values: they describe the type or the position only.
//
// # Bounds
//
// Every function here does work linear in its input and allocates a bounded
// multiple of it, whatever the input holds:
//   - A number outside DynamoDB's range (more than 38 significant digits, a
//     magnitude outside 1E-130..9.99E+125) is refused with
//     [ErrNumberOutOfRange] after one pass over its literal and before any
//     expansion, so a canonical number is at most [MaxCanonicalNumber]
//     (170) bytes: a literal of k bytes serializes to at most 6+170 bytes
//     (a set member to at most 4+170), and an N attribute of DynamoDB JSON
//     ({"N":"1e125"}, 13 bytes) is at most 14 times its JSON size.
//   - [Measure] computes the exact serialized size (and a lower bound of
//     DynamoDB's own size) without allocating, so callers bound a value
//     before it is built.
//   - [Append] allocates nothing beyond dst's growth except the sort order
//     of a set (4 bytes per SS or BS member, 48 per NS member); [Unmarshal]
//     allocates the decoded value, at most a few words per input byte.
//   - Lists and maps nest at most [MaxDepth] levels in both directions.
package ddbserial

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
	// ErrNumberOutOfRange: a number literal outside DynamoDB's range, more
	// than 38 significant digits or a magnitude outside 1E-130..9.99E+125.
	// It matches ErrInvalidNumber too.
	ErrNumberOutOfRange = fmt.Errorf("%w: outside DynamoDB's range (at most 38 significant digits, magnitude 1E-130 to 9.99E+125)", ErrInvalidNumber)
	// ErrInvalidUTF8: a string, set member or map key that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrTooDeep: lists and maps nested deeper than MaxDepth.
	ErrTooDeep = errors.New("value nested too deeply")
	// ErrMalformed: serialized bytes that are not exactly one valid value.
	ErrMalformed = errors.New("malformed serialized attribute")
)

// Append appends the canonical serialization of v to dst.
func Append(dst []byte, v types.AttributeValue) ([]byte, error) {
	e := encoder{buf: dst}
	err := e.value(v, 0)
	return e.buf, err
}

// Marshal returns the canonical serialization of v.
func Marshal(v types.AttributeValue) ([]byte, error) {
	return Append(nil, v)
}

// flushAt is the size at which WriteTo hands its buffer to the writer.
const flushAt = 4096

// WriteTo writes the canonical serialization of v to w, typically a hash,
// through scratch: it holds at most about 4 KiB (or one string or binary
// value) in memory at a time, whatever v expands to, and returns scratch
// (grown, emptied) for reuse. On an error part of v may have been written.
// w's errors are ignored: it is meant for a hash.Hash, which never fails.
func WriteTo(w io.Writer, scratch []byte, v types.AttributeValue) ([]byte, error) {
	e := encoder{buf: scratch[:0], w: w}
	err := e.value(v, 0)
	if err == nil && len(e.buf) > 0 {
		w.Write(e.buf)
	}
	return e.buf[:0], err
}

// encoder appends to buf; with w set it streams: buf goes to w whenever it
// passes flushAt, and long values go to w directly.
type encoder struct {
	buf []byte
	w   io.Writer
}

func (e *encoder) spill() {
	if e.w != nil && len(e.buf) >= flushAt {
		e.w.Write(e.buf)
		e.buf = e.buf[:0]
	}
}

func (e *encoder) tag(tag byte) { e.buf = append(e.buf, 0, tag) }

func (e *encoder) uint32(n int) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n)) }

func (e *encoder) lv(b []byte) {
	e.uint32(len(b))
	if e.w != nil && len(b) >= flushAt {
		e.w.Write(e.buf)
		e.w.Write(b)
		e.buf = e.buf[:0]
		return
	}
	e.buf = append(e.buf, b...)
	e.spill()
}

func (e *encoder) lvString(s string) {
	e.uint32(len(s))
	if e.w != nil && len(s) >= flushAt {
		e.w.Write(e.buf)
		io.WriteString(e.w, s)
		e.buf = e.buf[:0]
		return
	}
	e.buf = append(e.buf, s...)
	e.spill()
}

func (e *encoder) number(n number) {
	e.uint32(n.canonicalLen())
	e.buf = n.appendCanonical(e.buf)
	e.spill()
}

func (e *encoder) value(v types.AttributeValue, depth int) error {
	if IsNil(v) {
		return ErrUnsupportedType
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		if !v.Value {
			return fmt.Errorf("%w: NULL must be true", ErrUnsupportedType)
		}
		e.tag(tagNull)
	case *types.AttributeValueMemberBOOL:
		e.tag(tagBool)
		if v.Value {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
	case *types.AttributeValueMemberS:
		if !utf8.ValidString(v.Value) {
			return ErrInvalidUTF8
		}
		e.tag(tagS)
		e.lvString(v.Value)
	case *types.AttributeValueMemberN:
		n, err := parseNumber(v.Value)
		if err != nil {
			return err
		}
		e.tag(tagN)
		e.number(n)
	case *types.AttributeValueMemberB:
		e.tag(tagB)
		e.lv(v.Value)
	case *types.AttributeValueMemberSS:
		e.tag(tagSS)
		return e.stringSet(v.Value)
	case *types.AttributeValueMemberNS:
		e.tag(tagNS)
		return e.numberSet(v.Value)
	case *types.AttributeValueMemberBS:
		if len(v.Value) == 0 {
			return fmt.Errorf("%w (BS)", ErrEmptySet)
		}
		e.tag(tagBS)
		e.uint32(len(v.Value))
		if slices.IsSortedFunc(v.Value, bytes.Compare) {
			for _, m := range v.Value {
				e.lv(m)
			}
			return nil
		}
		for _, i := range sortedIndex(v.Value, bytes.Compare) {
			e.lv(v.Value[i])
		}
	case *types.AttributeValueMemberL:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.tag(tagL)
		e.uint32(len(v.Value))
		for _, el := range v.Value {
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberM:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.tag(tagM)
		e.uint32(len(v.Value))
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			if !utf8.ValidString(k) {
				return ErrInvalidUTF8
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e.tag(tagS)
			e.lvString(k)
			if err := e.value(v.Value[k], depth+1); err != nil {
				return err
			}
		}
	default:
		return ErrUnsupportedType
	}
	return nil
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

// stringSet writes an SS body: count, then members sorted by their bytes.
// It sorts indexes (4 bytes per member), never copies of the members.
func (e *encoder) stringSet(members []string) error {
	if len(members) == 0 {
		return fmt.Errorf("%w (SS)", ErrEmptySet)
	}
	for _, m := range members {
		if !utf8.ValidString(m) {
			return ErrInvalidUTF8
		}
	}
	e.uint32(len(members))
	if slices.IsSorted(members) {
		for _, m := range members {
			e.lvString(m)
		}
		return nil
	}
	for _, i := range sortedIndex(members, strings.Compare) {
		e.lvString(members[i])
	}
	return nil
}

// numberSet writes an NS body: count, then the canonical members in byte
// order. The members are sorted by a parsed form (numKey, 12 bytes each);
// each canonical member is rendered, at most MaxCanonicalNumber bytes on the
// stack, as it is compared and written, never stored.
func (e *encoder) numberSet(members []string) error {
	if len(members) == 0 {
		return fmt.Errorf("%w (NS)", ErrEmptySet)
	}
	keys := make([]numKey, len(members))
	for i, m := range members {
		n, err := parseNumber(m)
		if err != nil {
			return err
		}
		if len(m) > math.MaxInt32 {
			return ErrInvalidNumber
		}
		keys[i] = numKey{idx: int32(i), first: int32(n.first), exp: int16(n.exp), sig: uint8(n.sig), neg: n.neg}
	}
	slices.SortFunc(keys, func(a, b numKey) int {
		var ba, bb [MaxCanonicalNumber]byte
		return bytes.Compare(a.number(members).appendCanonical(ba[:0]), b.number(members).appendCanonical(bb[:0]))
	})
	e.uint32(len(members))
	for _, k := range keys {
		e.number(k.number(members))
	}
	return nil
}

// numKey is a parsed in-range number literal, members[idx]: sig (≤ 38)
// digits from first, times 10^exp (-167..125).
type numKey struct {
	idx, first int32
	exp        int16
	sig        uint8
	neg        bool
}

func (k numKey) number(members []string) number {
	return number{s: members[k.idx], neg: k.neg, first: int(k.first), sig: int(k.sig), exp: int(k.exp)}
}

// sortedIndex returns the indexes of s in the order cmp sorts its elements.
func sortedIndex[E any](s []E, cmp func(a, b E) int) []int32 {
	idx := make([]int32, len(s))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp(s[a], s[b]) })
	return idx
}

// DynamoDB's number range: at most 38 significant digits, magnitude
// 1E-130 to 9.9999999999999999999999999999999999999E+125 (and zero).
const (
	maxSigDigits = 38
	minAdjExp    = -130 // exponent of the leading digit
	maxAdjExp    = 125
	// MaxCanonicalNumber is the longest canonical form of an in-range
	// number: "-0." + 129 zeros + 38 digits.
	MaxCanonicalNumber = 3 + (-minAdjExp - 1) + maxSigDigits
)

// number is a parsed number literal: the value is sig significant digits,
// read from s starting at first (skipping a '.'), times 10^exp.
type number struct {
	s     string
	neg   bool
	first int
	sig   int
	exp   int
}

// parseNumber checks s as spec §2.3 step 1 does and DynamoDB's range, in one
// pass and without allocating: the canonical form is then rendered from s.
func parseNumber(s string) (number, error) {
	n := number{s: s}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		n.neg = s[i] == '-'
		i++
	}
	fracDigits, pendingZeros, nDigits := 0, 0, 0
	seenPoint := false
mantissa:
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			nDigits++
			if seenPoint {
				fracDigits++
			}
			switch {
			case c != '0':
				if n.sig == 0 {
					n.first = i
				}
				n.sig += pendingZeros + 1
				pendingZeros = 0
			case n.sig > 0:
				pendingZeros++ // significant only if a non-zero digit follows
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			break mantissa
		}
	}
	if nDigits == 0 {
		return number{}, ErrInvalidNumber
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return number{}, ErrInvalidNumber
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return number{}, ErrInvalidNumber
		}
		// No literal shorter than its exponent can come back in range, so
		// the exponent is clamped (and never overflows); a zero keeps any
		// exponent below 2^20, as before.
		limit := max(len(s)+maxAdjExp-minAdjExp, 1<<20)
		big := false
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return number{}, ErrInvalidNumber
			}
			if exp = exp*10 + int(c-'0'); exp > limit {
				exp, big = limit, true
			}
		}
		if big && n.sig == 0 {
			return number{}, ErrInvalidNumber // zero, but with an absurd exponent
		}
		if eneg {
			exp = -exp
		}
	}
	if n.sig == 0 {
		n.neg = false // every zero is "0"
		return n, nil
	}
	n.exp = exp - fracDigits + pendingZeros
	if n.sig > maxSigDigits {
		return number{}, ErrNumberOutOfRange
	}
	if adj := n.exp + n.sig - 1; adj < minAdjExp || adj > maxAdjExp {
		return number{}, ErrNumberOutOfRange
	}
	return n, nil
}

// canonicalLen is the length of n's canonical form.
func (n number) canonicalLen() int {
	if n.sig == 0 {
		return 1
	}
	l := n.sig
	switch p := n.sig + n.exp; {
	case n.exp >= 0:
		l += n.exp
	case p > 0:
		l++ // the point
	default:
		l += 2 - p // "0." and the zeros after the point
	}
	if n.neg {
		l++
	}
	return l
}

// appendDigits appends n's significant digits.
func (n number) appendDigits(dst []byte, count int) ([]byte, int) {
	i := n.first
	for ; count > 0; i++ {
		if c := n.s[i]; c != '.' {
			dst = append(dst, c)
			count--
		}
	}
	return dst, i
}

// appendCanonical appends n's canonical form (spec §2.3 steps 2-6).
func (n number) appendCanonical(dst []byte) []byte {
	if n.sig == 0 {
		return append(dst, '0')
	}
	if n.neg {
		dst = append(dst, '-')
	}
	switch p := n.sig + n.exp; {
	case n.exp >= 0:
		dst, _ = n.appendDigits(dst, n.sig)
		for range n.exp {
			dst = append(dst, '0')
		}
	case p > 0:
		var next int
		dst, next = n.appendDigits(dst, p)
		dst = append(dst, '.')
		rest := n
		rest.first, rest.sig = next, n.sig-p
		dst, _ = rest.appendDigits(dst, rest.sig)
	default:
		dst = append(dst, '0', '.')
		for range -p {
			dst = append(dst, '0')
		}
		dst, _ = n.appendDigits(dst, n.sig)
	}
	return dst
}

// CanonicalNumber rewrites a DynamoDB number literal into the canonical form
// both reference clients hash and encrypt: plain decimal notation, no
// exponent, no leading or trailing zeros, no '+', no decimal point for
// integers, and "0" for every zero (spec §2.3, the Java algorithm).
//
// A literal outside DynamoDB's range (more than 38 significant digits, a
// magnitude outside 1E-130..9.99E+125) is refused with
// [ErrNumberOutOfRange] before anything is expanded, so the result is never
// longer than [MaxCanonicalNumber] bytes and the work is linear in len(s).
func CanonicalNumber(s string) (string, error) {
	n, err := parseNumber(s)
	if err != nil {
		return "", err
	}
	if n.sig == 0 {
		return "0", nil
	}
	return string(n.appendCanonical(make([]byte, 0, n.canonicalLen()))), nil
}

// AppendCanonicalNumber appends the canonical form of s to dst, as
// [CanonicalNumber] returns it.
func AppendCanonicalNumber(dst []byte, s string) ([]byte, error) {
	n, err := parseNumber(s)
	if err != nil {
		return dst, err
	}
	return n.appendCanonical(dst), nil
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

// checkNumber accepts a number literal as read back from a plaintext. Its
// range is not checked: Unmarshal expands nothing, and a writer that does
// not bound numbers (the Java client) may have encrypted one outside
// DynamoDB's range; Marshal refuses it again.
func checkNumber(s string) error {
	if _, err := parseNumber(s); err != nil && !errors.Is(err, ErrNumberOutOfRange) {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
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
		if err := checkNumber(s); err != nil {
			return nil, err
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
				if err := checkNumber(s); err != nil {
					return nil, err
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

// Sizes are two measures of one value.
type Sizes struct {
	// Serialized is the exact length of the value's canonical
	// serialization, len(Marshal(v)).
	Serialized int
	// Stored is a lower bound of the size DynamoDB charges for the value
	// (its published rules: the bytes of strings and binaries, about one byte
	// per two significant digits of a number plus one, one byte for NULL
	// and BOOL, members and elements summed, map keys counted). An item whose
	// attributes add up to more than DynamoDB's 400 KB can never have come
	// from DynamoDB.
	Stored int
}

// Add adds o to s.
func (s *Sizes) Add(o Sizes) {
	s.Serialized += o.Serialized
	s.Stored += o.Stored
}

// Measure checks v as [Marshal] does and returns its sizes, without
// building anything: it allocates nothing and its work is linear in the
// size of v. Use it to bound the cost of a value before serializing it.
func Measure(v types.AttributeValue) (Sizes, error) {
	return measure(v, 0, true)
}

// MeasureLoose is [Measure] for a value that is stored as it is, never
// serialized: it refuses only what no store can hold (a nil or typed-nil
// member anywhere, an unknown union member, nesting deeper than MaxDepth)
// and lets a store judge the rest (an empty set, an invalid number or
// string). Such values count by their raw length; Serialized is then not
// exact.
func MeasureLoose(v types.AttributeValue) (Sizes, error) {
	return measure(v, 0, false)
}

func measure(v types.AttributeValue, depth int, strict bool) (Sizes, error) {
	if IsNil(v) {
		return Sizes{}, ErrUnsupportedType
	}
	const hdr = 2 + 4 // tag and length or count
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		if !v.Value && strict {
			return Sizes{}, fmt.Errorf("%w: NULL must be true", ErrUnsupportedType)
		}
		return Sizes{Serialized: 2, Stored: 1}, nil
	case *types.AttributeValueMemberBOOL:
		return Sizes{Serialized: 3, Stored: 1}, nil
	case *types.AttributeValueMemberS:
		if strict && !utf8.ValidString(v.Value) {
			return Sizes{}, ErrInvalidUTF8
		}
		return Sizes{Serialized: hdr + len(v.Value), Stored: len(v.Value)}, nil
	case *types.AttributeValueMemberN:
		s, err := measureNumber(v.Value, strict)
		s.Serialized += hdr - 4
		return s, err
	case *types.AttributeValueMemberB:
		return Sizes{Serialized: hdr + len(v.Value), Stored: len(v.Value)}, nil
	case *types.AttributeValueMemberSS:
		if len(v.Value) == 0 && strict {
			return Sizes{}, fmt.Errorf("%w (SS)", ErrEmptySet)
		}
		s := Sizes{Serialized: hdr}
		for _, m := range v.Value {
			if strict && !utf8.ValidString(m) {
				return Sizes{}, ErrInvalidUTF8
			}
			s.Add(Sizes{Serialized: 4 + len(m), Stored: len(m)})
		}
		return s, nil
	case *types.AttributeValueMemberNS:
		if len(v.Value) == 0 && strict {
			return Sizes{}, fmt.Errorf("%w (NS)", ErrEmptySet)
		}
		s := Sizes{Serialized: hdr}
		for _, m := range v.Value {
			ms, err := measureNumber(m, strict)
			if err != nil {
				return Sizes{}, err
			}
			s.Add(ms)
		}
		return s, nil
	case *types.AttributeValueMemberBS:
		if len(v.Value) == 0 && strict {
			return Sizes{}, fmt.Errorf("%w (BS)", ErrEmptySet)
		}
		s := Sizes{Serialized: hdr}
		for _, m := range v.Value {
			s.Add(Sizes{Serialized: 4 + len(m), Stored: len(m)})
		}
		return s, nil
	case *types.AttributeValueMemberL:
		if depth >= MaxDepth {
			return Sizes{}, ErrTooDeep
		}
		s := Sizes{Serialized: hdr}
		for _, e := range v.Value {
			es, err := measure(e, depth+1, strict)
			if err != nil {
				return Sizes{}, err
			}
			s.Add(es)
		}
		return s, nil
	case *types.AttributeValueMemberM:
		if depth >= MaxDepth {
			return Sizes{}, ErrTooDeep
		}
		s := Sizes{Serialized: hdr}
		for k, e := range v.Value {
			if strict && !utf8.ValidString(k) {
				return Sizes{}, ErrInvalidUTF8
			}
			es, err := measure(e, depth+1, strict)
			if err != nil {
				return Sizes{}, err
			}
			s.Add(Sizes{Serialized: hdr + len(k), Stored: len(k)})
			s.Add(es)
		}
		return s, nil
	default:
		return Sizes{}, ErrUnsupportedType
	}
}

// measureNumber sizes a number as a set member (length prefix, canonical
// form); loosely, an invalid literal counts as its raw length.
func measureNumber(s string, strict bool) (Sizes, error) {
	n, err := parseNumber(s)
	if err != nil {
		if strict {
			return Sizes{}, err
		}
		return Sizes{Serialized: 4 + len(s), Stored: len(s)}, nil
	}
	return Sizes{Serialized: 4 + n.canonicalLen(), Stored: n.stored()}, nil
}

// stored is a lower bound of DynamoDB's size of n: one byte, plus one per
// two significant digits.
func (n number) stored() int { return 1 + n.sig/2 }

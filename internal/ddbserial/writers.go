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

// Form is one writer's canonical form of a value: how numbers are
// canonicalised and how set members and map keys (and, in the string to
// sign, attribute names) are ordered. The reference clients differ in four
// places (spec §11, rows 6-9):
//
//	                      FormDefault      FormJava            FormPython
//	-0                    "0"              "0"                 "-0"
//	29-38 digits          exact            exact               rounded to 28 (half even)
//	BS member order       unsigned bytes   signed bytes        unsigned bytes
//	SS, map keys, names   code points      UTF-16 code units   code points
//
// FormDefault is what [Append] writes. Every value without such a case has
// the same bytes in all three forms.
type Form uint8

const (
	// FormDefault: the Java client's numbers, the Python client's orders.
	FormDefault Form = iota
	// FormJava: the Java client's form (BigDecimal, String.compareTo,
	// ByteBuffer.compareTo).
	FormJava
	// FormPython: the Python client's form (decimal normalize() under the
	// default 28-digit context, bytes order).
	FormPython
)

func (f Form) String() string {
	switch f {
	case FormDefault:
		return "default"
	case FormJava:
		return "java"
	case FormPython:
		return "python"
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// pythonPrecision is the precision of Python's default decimal context,
// under which the Python client normalises numbers.
const pythonPrecision = 28

// dynamoDBPrecision is the precision of the boto3 context the Python client
// parses numbers with; longer coefficients make it raise.
const dynamoDBPrecision = 38

// AppendForm appends the serialization of v in form f. For FormDefault it
// is [Append].
func AppendForm(dst []byte, v types.AttributeValue, f Form) ([]byte, error) {
	if f == FormDefault {
		return Append(dst, v)
	}
	return appendFormValue(dst, v, f, 0)
}

// appendFormValue handles the types whose bytes depend on the form and
// leaves the scalars to Append.
func appendFormValue(dst []byte, v types.AttributeValue, f Form, depth int) ([]byte, error) {
	if IsNil(v) {
		return dst, ErrUnsupportedType
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberN:
		if f != FormPython {
			return Append(dst, v)
		}
		dst = appendTag(dst, tagN)
		at := len(dst)
		dst, err := appendPythonNumber(append(dst, 0, 0, 0, 0), v.Value)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
		return dst, err
	case *types.AttributeValueMemberNS:
		if f != FormPython {
			return Append(dst, v)
		}
		return appendPythonNumberSet(dst, v.Value)
	case *types.AttributeValueMemberSS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (SS)", ErrEmptySet)
		}
		for _, m := range v.Value {
			if !utf8.ValidString(m) {
				return dst, ErrInvalidUTF8
			}
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagSS), uint32(len(v.Value)))
		for _, i := range sortedIndex(v.Value, f.compareStrings) {
			dst = appendLVString(dst, v.Value[i])
		}
		return dst, nil
	case *types.AttributeValueMemberBS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (BS)", ErrEmptySet)
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagBS), uint32(len(v.Value)))
		for _, i := range sortedIndex(v.Value, f.compareBytes) {
			dst = appendLV(dst, v.Value[i])
		}
		return dst, nil
	case *types.AttributeValueMemberL:
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagL), uint32(len(v.Value)))
		var err error
		for _, e := range v.Value {
			if dst, err = appendFormValue(dst, e, f, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case *types.AttributeValueMemberM:
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		keys, err := mapKeys(v.Value)
		if err != nil {
			return dst, err
		}
		f.SortNames(keys)
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagM), uint32(len(keys)))
		for _, k := range keys {
			dst = appendLVString(appendTag(dst, tagS), k)
			if dst, err = appendFormValue(dst, v.Value[k], f, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	return Append(dst, v) // a scalar: the same in every form
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

// errTooCostly: rendering a value in another writer's form would cost far
// more memory than the value takes; a reader does not try that form.
var errTooCostly = errors.New("value too costly to render in this form")

// appendPythonNumberSet writes an NS body in Python's form: members
// canonicalised as Python does, in byte order. The canonical forms are
// rendered into one buffer, which may be at most twice (plus 4 KiB) the
// members' own length: a set of tiny literals of huge expansion (1E-130)
// is refused with errTooCostly rather than rendered.
func appendPythonNumberSet(dst []byte, members []string) ([]byte, error) {
	if len(members) == 0 {
		return dst, fmt.Errorf("%w (NS)", ErrEmptySet)
	}
	in, out := 0, 0
	for _, m := range members {
		n, err := parseNumber(m)
		if err != nil {
			return dst, err
		}
		in += len(m)
		out += n.canonicalLen() + 2 // "-0", or one more digit after a carry
	}
	if out > 2*in+4096 {
		return dst, errTooCostly
	}
	buf := make([]byte, 0, out)
	ends := make([]int32, len(members))
	for i, m := range members {
		var err error
		if buf, err = appendPythonNumber(buf, m); err != nil {
			return dst, err
		}
		ends[i] = int32(len(buf))
	}
	member := func(i int32) []byte {
		start := int32(0)
		if i > 0 {
			start = ends[i-1]
		}
		return buf[start:ends[i]]
	}
	idx := make([]int32, len(members))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return bytes.Compare(member(a), member(b)) })
	dst = binary.BigEndian.AppendUint32(appendTag(dst, tagNS), uint32(len(members)))
	for _, i := range idx {
		dst = appendLV(dst, member(i))
	}
	clear(buf)
	return dst, nil
}

func mapKeys(m map[string]types.AttributeValue) ([]string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !utf8.ValidString(k) {
			return nil, ErrInvalidUTF8
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (f Form) compareStrings(a, b string) int {
	if f == FormJava {
		return CompareUTF16(a, b)
	}
	return strings.Compare(a, b)
}

func (f Form) compareBytes(a, b []byte) int {
	if f == FormJava {
		return CompareSignedBytes(a, b)
	}
	return bytes.Compare(a, b)
}

// SortNames sorts attribute names or map keys in the order of form f.
func (f Form) SortNames(names []string) {
	slices.SortFunc(names, f.compareStrings)
}

// PythonNumber canonicalises a number literal as the Python client does
// (spec §2.3): like [CanonicalNumber], except that a negative zero stays
// "-0" and a value of more than 28 significant digits is rounded to 28,
// half to even. A coefficient of more than 38 digits is an error, as it is
// in the Python client (its boto3 context traps rounding).
func PythonNumber(s string) (string, error) {
	b, err := appendPythonNumber(nil, s)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// appendPythonNumber appends PythonNumber(s) to dst.
// pythonEtiny is the smallest exponent of a digit in the Python client's
// number context (boto3's DYNAMODB_CONTEXT: Emin -128, precision 38).
const pythonEtiny = -128 - dynamoDBPrecision + 1

func appendPythonNumber(dst []byte, s string) ([]byte, error) {
	n, err := parseNumber(s)
	if err != nil {
		return dst, err
	}
	spelt := coefficientDigits(s)
	if spelt > dynamoDBPrecision {
		return dst, fmt.Errorf("%w: more than %d significant digits", ErrInvalidNumber, dynamoDBPrecision)
	}
	// Python's number context (Emin -128, precision 38, so Etiny -165)
	// traps a literal whose last digit as spelt lies below 1E-165: the
	// Python client can neither write nor verify it.
	if n.sig > 0 && n.exp-(spelt-n.sig) < pythonEtiny {
		return dst, fmt.Errorf("%w: a digit below 1E%d, which the Python client cannot serialize", ErrInvalidNumber, pythonEtiny)
	}
	if n.sig == 0 && strings.HasPrefix(s, "-") {
		return append(dst, '-', '0'), nil
	}
	if n.sig <= pythonPrecision {
		return n.appendCanonical(dst), nil
	}
	var all [maxSigDigits + 1]byte
	digits, _ := n.appendDigits(all[:0], n.sig)
	rest := digits[pythonPrecision:]
	kept := digits[:pythonPrecision]
	exp := n.exp + len(rest)
	tail := false
	for _, c := range rest[1:] {
		tail = tail || c != '0'
	}
	if rest[0] > '5' || (rest[0] == '5' && (tail || (kept[len(kept)-1]-'0')%2 == 1)) {
		i := len(kept) - 1
		for ; i >= 0 && kept[i] == '9'; i-- {
			kept[i] = '0'
		}
		if i < 0 { // 99...9 rounds up to 10^28: "1" and one more power
			kept = kept[:1]
			kept[0] = '1'
			exp += pythonPrecision
		} else {
			kept[i]++
		}
	}
	for kept[len(kept)-1] == '0' {
		kept = kept[:len(kept)-1]
		exp++
	}
	r := number{s: string(kept), neg: n.neg, sig: len(kept), exp: exp}
	return r.appendCanonical(dst), nil
}

// coefficientDigits counts the mantissa digits of a number literal from its
// first non-zero digit on, trailing zeros included: the length of the
// coefficient Python's Decimal parses it into.
func coefficientDigits(s string) int {
	n, started := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			started = true
		}
		if started {
			n++
		}
	}
	return n
}

// CompareUTF16 compares two UTF-8 strings in the order of their UTF-16
// code units (Java's String.compareTo). It differs from byte order only
// where a supplementary-plane character (a surrogate pair, D800-DBFF first)
// meets one in U+E000..U+FFFF.
func CompareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return utf16Key(ra) - utf16Key(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16Key orders runes as their first UTF-16 code unit does: U+E000..U+FFFF
// after every supplementary-plane character, the rest in code point order.
func utf16Key(r rune) int {
	if r >= 0xE000 && r <= 0xFFFF {
		return int(r) + 0x110000
	}
	return int(r)
}

// CompareSignedBytes compares byte strings as Java's ByteBuffer.compareTo
// does: lexicographically with bytes as signed values, a proper prefix
// first.
func CompareSignedBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(int8(a[i])) - int(int8(b[i]))
		}
	}
	return len(a) - len(b)
}

// Diverges reports whether v's serialization in form f differs from its
// default one ([Append]). It is exact, and cheap enough to run on untrusted
// items: numbers are parsed without allocating, strings are scanned for the
// only characters whose order differs before any sorting, and a set that is
// sorted costs a 4-byte index per member.
func Diverges(v types.AttributeValue, f Form) bool {
	if f == FormDefault || IsNil(v) {
		return false
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberN:
		return f == FormPython && pythonDiffers(v.Value)
	case *types.AttributeValueMemberNS:
		return f == FormPython && slices.ContainsFunc(v.Value, pythonDiffers)
	case *types.AttributeValueMemberSS:
		return f == FormJava && stringsDiverge(v.Value)
	case *types.AttributeValueMemberBS:
		if f != FormJava || !slices.ContainsFunc(v.Value, hasHighByte) {
			return false
		}
		return !sortedUnder(v.Value, bytes.Compare, CompareSignedBytes)
	case *types.AttributeValueMemberL:
		return slices.ContainsFunc(v.Value, func(e types.AttributeValue) bool { return Diverges(e, f) })
	case *types.AttributeValueMemberM:
		for _, e := range v.Value {
			if Diverges(e, f) {
				return true
			}
		}
		if f != FormJava {
			return false
		}
		var private, supplementary bool
		for k := range v.Value {
			p, s := utf16Classes(k)
			private, supplementary = private || p, supplementary || s
		}
		if !private || !supplementary {
			return false
		}
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			keys = append(keys, k)
		}
		return !sortedUnder(keys, strings.Compare, CompareUTF16)
	}
	return false
}

// NamesDiverge reports whether names, sorted in byte order, are in another
// order in form f.
func (f Form) NamesDiverge(sorted []string) bool {
	return f == FormJava && stringsDiverge(sorted) && !slices.IsSortedFunc(sorted, CompareUTF16)
}

// pythonDiffers: Python signs -0 and numbers of 29-38 significant digits
// otherwise. Invalid numbers are not Python's (it raises).
func pythonDiffers(s string) bool {
	n, err := parseNumber(s)
	return err == nil && ((n.sig == 0 && strings.HasPrefix(s, "-")) || n.sig > pythonPrecision) && coefficientDigits(s) <= dynamoDBPrecision
}

// stringsDiverge reports whether UTF-16 order sorts members otherwise than
// byte order; only sets holding both a U+E000..U+FFFF and a supplementary
// character can.
func stringsDiverge(members []string) bool {
	var private, supplementary bool
	for _, m := range members {
		p, s := utf16Classes(m)
		private, supplementary = private || p, supplementary || s
	}
	return private && supplementary && !sortedUnder(members, strings.Compare, CompareUTF16)
}

// utf16Classes reports whether s holds a character of U+E000..U+FFFF (UTF-8
// lead byte EE or EF) and one above U+FFFF (lead byte F0..F4).
func utf16Classes(s string) (private, supplementary bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0xEE || c == 0xEF:
			private = true
		case c >= 0xF0:
			supplementary = true
		}
	}
	return private, supplementary
}

func hasHighByte(b []byte) bool {
	return slices.ContainsFunc(b, func(c byte) bool { return c >= 0x80 })
}

// sortedUnder reports whether s, sorted by a, is also sorted by b: true
// exactly when both orders agree on s.
func sortedUnder[E any](s []E, a, b func(x, y E) int) bool {
	idx := sortedIndex(s, a)
	for i := 1; i < len(idx); i++ {
		if b(s[idx[i-1]], s[idx[i]]) > 0 {
			return false
		}
	}
	return true
}

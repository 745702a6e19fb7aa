package ddbserial

import (
	"bytes"
	"encoding/binary"
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
// leaves the others to appendValue.
func appendFormValue(dst []byte, v types.AttributeValue, f Form, depth int) ([]byte, error) {
	if IsNil(v) {
		return dst, ErrUnsupportedType
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberN:
		n, err := f.number(v.Value)
		if err != nil {
			return dst, err
		}
		return appendLVString(appendTag(dst, tagN), n), nil
	case *types.AttributeValueMemberNS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (NS)", ErrEmptySet)
		}
		members := make([]string, len(v.Value))
		for i, m := range v.Value {
			n, err := f.number(m)
			if err != nil {
				return dst, err
			}
			members[i] = n
		}
		return appendMembers(appendTag(dst, tagNS), members, strings.Compare), nil
	case *types.AttributeValueMemberSS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (SS)", ErrEmptySet)
		}
		for _, m := range v.Value {
			if !utf8.ValidString(m) {
				return dst, ErrInvalidUTF8
			}
		}
		return appendMembers(appendTag(dst, tagSS), slices.Clone(v.Value), f.compareStrings), nil
	case *types.AttributeValueMemberBS:
		if len(v.Value) == 0 {
			return dst, fmt.Errorf("%w (BS)", ErrEmptySet)
		}
		members := slices.Clone(v.Value)
		slices.SortFunc(members, f.compareBytes)
		dst = binary.BigEndian.AppendUint32(appendTag(dst, tagBS), uint32(len(members)))
		for _, m := range members {
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
	return appendValue(dst, v, depth)
}

// appendMembers sorts members with cmp and writes the count and members of
// an SS or NS body.
func appendMembers(dst []byte, members []string, cmp func(a, b string) int) []byte {
	slices.SortFunc(members, cmp)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(members)))
	for _, m := range members {
		dst = appendLVString(dst, m)
	}
	return dst
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

// number canonicalises a number literal in form f.
func (f Form) number(s string) (string, error) {
	if f == FormPython {
		return PythonNumber(s)
	}
	return CanonicalNumber(s)
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

// NamesDiverge reports whether names, sorted in byte order, are in another
// order in form f.
func (f Form) NamesDiverge(sorted []string) bool {
	return f == FormJava && !slices.IsSortedFunc(sorted, CompareUTF16)
}

// PythonNumber canonicalises a number literal as the Python client does
// (spec §2.3): like [CanonicalNumber], except that a negative zero stays
// "-0" and a value of more than 28 significant digits is rounded to 28,
// half to even. A coefficient of more than 38 digits is an error, as it is
// in the Python client (its boto3 context traps rounding).
func PythonNumber(s string) (string, error) {
	canon, err := CanonicalNumber(s)
	if err != nil {
		return "", err
	}
	if coefficientDigits(s) > dynamoDBPrecision {
		return "", fmt.Errorf("%w: more than %d significant digits", ErrInvalidNumber, dynamoDBPrecision)
	}
	if canon == "0" {
		if strings.HasPrefix(s, "-") {
			return "-0", nil
		}
		return canon, nil
	}
	neg, digits, exp := decompose(canon)
	if len(digits) <= pythonPrecision {
		return canon, nil
	}
	rest := digits[pythonPrecision:]
	kept := []byte(digits[:pythonPrecision])
	exp += len(rest)
	up := rest[0] > '5' || (rest[0] == '5' && (strings.TrimRight(rest[1:], "0") != "" || (kept[len(kept)-1]-'0')%2 == 1))
	if up {
		i := len(kept) - 1
		for ; i >= 0 && kept[i] == '9'; i-- {
			kept[i] = '0'
		}
		if i < 0 {
			kept = append([]byte{'1'}, kept...)
		} else {
			kept[i]++
		}
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return CanonicalNumber(fmt.Sprintf("%s%sE%d", sign, kept, exp))
}

// decompose splits a canonical number into its sign, its significant digits
// (no leading or trailing zeros) and the exponent of the last digit.
func decompose(canon string) (neg bool, digits string, exp int) {
	if neg = strings.HasPrefix(canon, "-"); neg {
		canon = canon[1:]
	}
	intPart, frac, _ := strings.Cut(canon, ".")
	digits = strings.TrimLeft(intPart+frac, "0")
	exp = -len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	return neg, trimmed, exp
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
// default one ([Append]). It is exact for numbers and orders; it never
// reports a value whose bytes are the same.
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
		if f != FormJava {
			return false
		}
		sorted := slices.Clone(v.Value)
		slices.Sort(sorted)
		return !slices.IsSortedFunc(sorted, CompareUTF16)
	case *types.AttributeValueMemberBS:
		if f != FormJava {
			return false
		}
		sorted := slices.Clone(v.Value)
		slices.SortFunc(sorted, bytes.Compare)
		return !slices.IsSortedFunc(sorted, CompareSignedBytes)
	case *types.AttributeValueMemberL:
		return slices.ContainsFunc(v.Value, func(e types.AttributeValue) bool { return Diverges(e, f) })
	case *types.AttributeValueMemberM:
		keys := make([]string, 0, len(v.Value))
		for k, e := range v.Value {
			if Diverges(e, f) {
				return true
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return f.NamesDiverge(keys)
	}
	return false
}

func pythonDiffers(s string) bool {
	p, err := PythonNumber(s)
	if err != nil {
		return false // Python cannot have written it
	}
	c, err := CanonicalNumber(s)
	return err == nil && p != c
}

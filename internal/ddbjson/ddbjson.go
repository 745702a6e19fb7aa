// Package ddbjson converts between DynamoDB JSON (the shape `aws dynamodb
// get-item` prints: {"S": "..."}, {"N": "..."}, {"B": "<base64>"}, ...) and
// aws-sdk-go-v2 attribute values.
//
// It writes exactly what encoding/json writes for that shape (sorted names,
// encoding/json's escaping, standard base64) and reads it in one pass: the
// form of a protected item is mostly base64, and re-parsing each nesting
// level with encoding/json cost several times the cryptography on large
// items. It reads what encoding/json reads, to the same values, except that
// it is strict: an object must have exactly one type key, spelt as DynamoDB
// spells it, a name may appear once in an object, and there is no null
// (not even for the whole item). It writes only what it reads back: strings
// that are not UTF-8, and nesting beyond 32 levels, are refused. Its errors
// name the top-level attribute, never quote a value.
//
// Reading is bounded by the input's size, whatever it holds: [UnmarshalItem]
// and [UnmarshalValue] read each byte at most twice (a set's members are
// counted before they are read) and allocate at most 16 bytes per byte of
// input, plus 288 for each map (M, or the item) that is not empty (the
// least Go allocates for a map of one entry, over its empty map), plus 16
// KiB. Whatever the input, that is at most 32 bytes per byte plus 16 KiB;
// maps of one entry nested to the limit come nearest (31 per byte), then
// sets of empty members (8 for BS, 5.3 for SS and NS) and lists and maps of
// empty values (11). TestParseBound holds these on the worst shape of each
// type.
package ddbjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Errors, matched with errors.Is. Every error of this package is an
// [*Error] whose Kind is one of them.
var (
	// ErrSyntax: data that is not a valid DynamoDB JSON value or item.
	ErrSyntax = errors.New("ddbjson: not a DynamoDB JSON value")
	// ErrUnsupportedType: a nil or unknown attribute value, or lists and
	// maps nested more than 32 levels, cannot be rendered (they would not
	// read back).
	ErrUnsupportedType = errors.New("ddbjson: unsupported attribute value type")
	// ErrInvalidUTF8: a string, set member or name that is not UTF-8, which
	// JSON cannot carry; it is refused rather than altered. It is
	// ddbserial.ErrInvalidUTF8, and so itemcrypto.ErrInvalidUTF8.
	ErrInvalidUTF8 = ddbserial.ErrInvalidUTF8
)

// An Error reports data that is not DynamoDB JSON, or an attribute value
// that cannot be written as DynamoDB JSON. Its message never quotes a value.
type Error struct {
	// Attribute is the top-level attribute at fault, "" when there is none
	// (UnmarshalValue, MarshalValue, or a fault outside every attribute).
	Attribute string
	// Kind is ErrSyntax, ErrUnsupportedType or ErrInvalidUTF8; the Error
	// matches it.
	Kind error
	// Reason says what is wrong, "" when Kind says it all.
	Reason string
	// Offset is the 1-based byte offset in the input where reading
	// stopped, for a syntax error; 0 otherwise.
	Offset int
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Attribute != "" {
		s += fmt.Sprintf(": attribute %q", e.Attribute)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Offset > 0 {
		s += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Kind }

// maxDepth bounds nesting, as DynamoDB does: whatever ddbserial can
// serialize, this package reads and writes.
const maxDepth = ddbserial.MaxDepth

// UnmarshalItem parses a DynamoDB JSON object of attributes. Errors match
// ErrSyntax and name the top-level attribute being read.
func UnmarshalItem(data []byte) (map[string]types.AttributeValue, error) {
	p := parser{data: data}
	item, err := p.item(0)
	if err != nil {
		return nil, p.fail(err)
	}
	p.attr = ""
	if err := p.end(); err != nil {
		return nil, p.fail(err)
	}
	return item, nil
}

// UnmarshalValue parses one DynamoDB JSON value such as {"S": "x"}. Errors
// match ErrSyntax.
func UnmarshalValue(data []byte) (types.AttributeValue, error) {
	p := parser{data: data}
	v, err := p.value(0)
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, p.fail(err)
	}
	return v, nil
}

// MarshalItem renders an item as DynamoDB JSON with sorted attribute names,
// byte for byte what encoding/json writes for it. Errors match
// ErrUnsupportedType or ErrInvalidUTF8 and name the top-level attribute.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	return appendItem(make([]byte, 0, sizeHint(item)), item, 0)
}

// MarshalItemIndent is MarshalItem with indentation, for people to read.
func MarshalItemIndent(item map[string]types.AttributeValue, prefix, indent string) ([]byte, error) {
	data, err := MarshalItem(item)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(2 * len(data))
	if err := json.Indent(&buf, data, prefix, indent); err != nil {
		return nil, err // not reached: MarshalItem writes valid JSON
	}
	return buf.Bytes(), nil
}

// MarshalValue renders one value as DynamoDB JSON. Errors match
// ErrUnsupportedType or ErrInvalidUTF8.
func MarshalValue(v types.AttributeValue) ([]byte, error) {
	return appendValue(nil, v, 0)
}

// Equal reports whether two values are the same DynamoDB value: sets compare
// as sets, numbers by their canonical form (as canon renders them), lists in order.
func Equal(a, b types.AttributeValue, canon func(string) (string, error)) bool {
	num := func(s string) string {
		if c, err := canon(s); err == nil {
			return c
		}
		return s
	}
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && num(a.Value) == num(b.Value)
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(a.Value, b.Value)
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberNULL:
		b, ok := b.(*types.AttributeValueMemberNULL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberSS:
		b, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(a.Value, b.Value, func(s string) string { return s })
	case *types.AttributeValueMemberNS:
		b, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(a.Value, b.Value, num)
	case *types.AttributeValueMemberBS:
		b, ok := b.(*types.AttributeValueMemberBS)
		return ok && sameSet(a.Value, b.Value, func(b []byte) string { return string(b) })
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(a.Value, b.Value, func(x, y types.AttributeValue) bool { return Equal(x, y, canon) })
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		return ok && EqualItems(a.Value, b.Value, canon)
	}
	return false
}

// EqualItems reports whether two items hold the same names and Equal values.
func EqualItems(a, b map[string]types.AttributeValue, canon func(string) (string, error)) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Equal(av, bv, canon) {
			return false
		}
	}
	return true
}

func sameSet[T any](a, b []T, key func(T) string) bool {
	if len(a) != len(b) {
		return false
	}
	ka := make([]string, len(a))
	kb := make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

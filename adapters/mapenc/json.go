package mapenc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The JSON form is DynamoDB JSON, byte for byte what encoding/json writes
// for it (and so internal/ddbjson and the itemcrypto command). It is written
// and read here in one pass: the form of a protected item is mostly base64,
// and ddbjson's decoder, which re-parses each nesting level, costs several
// times the cryptography on large items. TestJSONMatchesDDBJSON and
// FuzzUnmarshalJSON hold the two to the same output and the same values.

// maxJSONDepth bounds the nesting of lists and maps, as DynamoDB does.
const maxJSONDepth = 32

// MarshalJSON renders a protected item (or any item) as a DynamoDB JSON
// document, the shape `aws dynamodb get-item` prints and the itemcrypto
// command reads:
//
//	{"card":{"B":"<base64>"},"id":{"S":"o-1"},"total":{"N":"42.5"},...}
//
// Every one of DynamoDB's ten types is kept exactly (numbers as their
// decimal strings, binary as standard base64, sets as arrays), so that
// [UnmarshalJSON] gives back an item that verifies: the document can live in
// any store of JSON (a file, a Postgres jsonb column, Redis, a document
// database). Attribute names are sorted, so the output is deterministic.
//
// Strings must be UTF-8, as in DynamoDB: JSON cannot carry other bytes, and
// an item with them is refused with an error matching
// itemcrypto.ErrInvalidUTF8 rather than altered. A nil value, or lists and
// maps nested more than 32 levels, match itemcrypto.ErrUnsupportedValue.
func MarshalJSON(item map[string]types.AttributeValue) ([]byte, error) {
	return appendItemJSON(make([]byte, 0, jsonSizeHint(item)), item, 0)
}

// UnmarshalJSON parses a DynamoDB JSON document into an item, the inverse
// of [MarshalJSON]. Pass the result to [Codec.Decrypt] or
// [Codec.DecryptMap], which verify it. Nesting is bounded (32 levels); the
// caller bounds the document's size. Errors match [ErrInvalidJSON] and name
// the attribute, never the value.
//
// It is strict: an object must have exactly one type key, spelt as
// DynamoDB spells it, and an attribute name may appear once.
func UnmarshalJSON(data []byte) (map[string]types.AttributeValue, error) {
	p := jsonParser{data: data}
	p.ws()
	item, err := p.item(0)
	if err == nil {
		if p.ws(); p.pos != len(p.data) {
			err = errors.New("data after the item")
		}
	}
	if err != nil {
		if p.attr != "" {
			return nil, fmt.Errorf("%w: attribute %q: %v", ErrInvalidJSON, p.attr, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	return item, nil
}

// Writing.

func appendItemJSON(dst []byte, item map[string]types.AttributeValue, depth int) ([]byte, error) {
	dst = append(dst, '{')
	for i, name := range slices.Sorted(maps.Keys(item)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !utf8.ValidString(name) {
			return nil, attrErr(name, depth, itemcrypto.ErrInvalidUTF8)
		}
		dst = appendJSONString(dst, name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValueJSON(dst, item[name], depth); err != nil {
			return nil, attrErr(name, depth, err)
		}
	}
	return append(dst, '}'), nil
}

// attrErr names the top-level attribute of an error.
func attrErr(name string, depth int, err error) error {
	if depth > 0 {
		return err
	}
	return fmt.Errorf("mapenc: attribute %q: %w", name, err)
}

var errTooDeep = fmt.Errorf("%w: lists and maps nested more than %d levels", itemcrypto.ErrUnsupportedValue, maxJSONDepth)

func appendValueJSON(dst []byte, v types.AttributeValue, depth int) ([]byte, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if v == nil {
			break
		}
		if !utf8.ValidString(v.Value) {
			return nil, itemcrypto.ErrInvalidUTF8
		}
		dst = append(dst, `{"S":`...)
		return append(appendJSONString(dst, v.Value), '}'), nil
	case *types.AttributeValueMemberN:
		if v == nil {
			break
		}
		if !utf8.ValidString(v.Value) {
			return nil, itemcrypto.ErrInvalidUTF8
		}
		dst = append(dst, `{"N":`...)
		return append(appendJSONString(dst, v.Value), '}'), nil
	case *types.AttributeValueMemberB:
		if v == nil {
			break
		}
		dst = append(dst, `{"B":"`...)
		return append(base64.StdEncoding.AppendEncode(dst, v.Value), `"}`...), nil
	case *types.AttributeValueMemberBOOL:
		if v == nil {
			break
		}
		if v.Value {
			return append(dst, `{"BOOL":true}`...), nil
		}
		return append(dst, `{"BOOL":false}`...), nil
	case *types.AttributeValueMemberNULL:
		if v == nil {
			break
		}
		if v.Value {
			return append(dst, `{"NULL":true}`...), nil
		}
		return append(dst, `{"NULL":false}`...), nil
	case *types.AttributeValueMemberSS:
		if v == nil {
			break
		}
		return appendStringsJSON(append(dst, `{"SS":[`...), v.Value)
	case *types.AttributeValueMemberNS:
		if v == nil {
			break
		}
		return appendStringsJSON(append(dst, `{"NS":[`...), v.Value)
	case *types.AttributeValueMemberBS:
		if v == nil {
			break
		}
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(base64.StdEncoding.AppendEncode(append(dst, '"'), b), '"')
		}
		return append(dst, "]}"...), nil
	case *types.AttributeValueMemberL:
		if v == nil {
			break
		}
		if depth >= maxJSONDepth {
			return nil, errTooDeep
		}
		dst = append(dst, `{"L":[`...)
		for i, e := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValueJSON(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, "]}"...), nil
	case *types.AttributeValueMemberM:
		if v == nil {
			break
		}
		if depth >= maxJSONDepth {
			return nil, errTooDeep
		}
		dst = append(dst, `{"M":`...)
		dst, err := appendItemJSON(dst, v.Value, depth+1)
		if err != nil {
			return nil, err
		}
		return append(dst, '}'), nil
	}
	return nil, fmt.Errorf("%w: nil or unknown attribute value", itemcrypto.ErrUnsupportedValue)
}

func appendStringsJSON(dst []byte, ss []string) ([]byte, error) {
	for i, s := range ss {
		if !utf8.ValidString(s) {
			return nil, itemcrypto.ErrInvalidUTF8
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, "]}"...), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, valid UTF-8, as a JSON string escaped exactly
// as encoding/json.Marshal escapes it (HTML characters and U+2028, U+2029
// included).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSizeHint estimates the size of item's JSON form, so that one buffer
// usually suffices.
func jsonSizeHint(item map[string]types.AttributeValue) int {
	n := 2
	for name, v := range item {
		n += len(name) + 8
		switch v := v.(type) {
		case *types.AttributeValueMemberB:
			if v != nil {
				n += base64.StdEncoding.EncodedLen(len(v.Value))
			}
		case *types.AttributeValueMemberS:
			if v != nil {
				n += len(v.Value) + len(v.Value)/8
			}
		default:
			n += 32
		}
	}
	return n
}

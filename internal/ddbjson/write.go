package ddbjson

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writing, in one pass into one buffer.

func appendItem(dst []byte, item map[string]types.AttributeValue, depth int) ([]byte, error) {
	dst = append(dst, '{')
	for i, name := range slices.Sorted(maps.Keys(item)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !utf8.ValidString(name) {
			return nil, attrErr(name, depth, errBadUTF8)
		}
		dst = appendString(dst, name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, item[name], depth); err != nil {
			return nil, attrErr(name, depth, err)
		}
	}
	return append(dst, '}'), nil
}

// attrErr names the top-level attribute of an error, an *Error from this
// file.
func attrErr(name string, depth int, err error) error {
	e, ok := err.(*Error)
	if depth > 0 || !ok {
		return err
	}
	named := *e
	named.Attribute = name
	return &named
}

var (
	errBadUTF8  = &Error{Kind: ErrInvalidUTF8}
	errTooDeep  = &Error{Kind: ErrUnsupportedType, Reason: fmt.Sprintf("lists and maps nested more than %d levels", maxDepth)}
	errNilValue = &Error{Kind: ErrUnsupportedType, Reason: "nil or unknown attribute value"}
)

func appendValue(dst []byte, v types.AttributeValue, depth int) ([]byte, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if v == nil {
			break
		}
		if !utf8.ValidString(v.Value) {
			return nil, errBadUTF8
		}
		dst = append(dst, `{"S":`...)
		return append(appendString(dst, v.Value), '}'), nil
	case *types.AttributeValueMemberN:
		if v == nil {
			break
		}
		if !utf8.ValidString(v.Value) {
			return nil, errBadUTF8
		}
		dst = append(dst, `{"N":`...)
		return append(appendString(dst, v.Value), '}'), nil
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
		return appendStrings(append(dst, `{"SS":[`...), v.Value)
	case *types.AttributeValueMemberNS:
		if v == nil {
			break
		}
		return appendStrings(append(dst, `{"NS":[`...), v.Value)
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
		if depth >= maxDepth {
			return nil, errTooDeep
		}
		dst = append(dst, `{"L":[`...)
		for i, e := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, "]}"...), nil
	case *types.AttributeValueMemberM:
		if v == nil {
			break
		}
		if depth >= maxDepth {
			return nil, errTooDeep
		}
		dst = append(dst, `{"M":`...)
		dst, err := appendItem(dst, v.Value, depth+1)
		if err != nil {
			return nil, err
		}
		return append(dst, '}'), nil
	}
	return nil, errNilValue
}

func appendStrings(dst []byte, ss []string) ([]byte, error) {
	for i, s := range ss {
		if !utf8.ValidString(s) {
			return nil, errBadUTF8
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, "]}"...), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s, valid UTF-8, as a JSON string escaped exactly
// as encoding/json.Marshal escapes it (HTML characters and U+2028, U+2029
// included).
func appendString(dst []byte, s string) []byte {
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

// sizeHint estimates the size of item's JSON form, so that one buffer
// usually suffices.
func sizeHint(item map[string]types.AttributeValue) int {
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

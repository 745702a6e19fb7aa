// Package ddbjson converts between DynamoDB JSON (the shape `aws dynamodb
// get-item` prints: {"S": "..."}, {"N": "..."}, {"B": "<base64>"}, ...) and
// aws-sdk-go-v2 attribute values.
package ddbjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrSyntax is returned for JSON that is not a valid DynamoDB JSON value.
var ErrSyntax = errors.New("ddbjson: not a DynamoDB JSON value")

// maxDepth bounds nesting, as DynamoDB does.
const maxDepth = 32

// UnmarshalItem parses a DynamoDB JSON object of attributes.
func UnmarshalItem(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return itemFromRaw(raw, 0)
}

// UnmarshalValue parses one DynamoDB JSON value such as {"S": "x"}.
func UnmarshalValue(data []byte) (types.AttributeValue, error) {
	return value(data, 0)
}

func itemFromRaw(raw map[string]json.RawMessage, depth int) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(raw))
	for name, r := range raw {
		v, err := value(r, depth)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		item[name] = v
	}
	return item, nil
}

func value(data []byte, depth int) (types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if len(raw) != 1 {
		return nil, fmt.Errorf("%w: want exactly one type key, got %d", ErrSyntax, len(raw))
	}
	for tag, body := range raw {
		return typed(tag, body, depth)
	}
	panic("unreachable")
}

func typed(tag string, body json.RawMessage, depth int) (types.AttributeValue, error) {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, fmt.Errorf("%w: null body for type %q", ErrSyntax, tag)
	}
	var err error
	switch tag {
	case "S":
		var s string
		err = json.Unmarshal(body, &s)
		return &types.AttributeValueMemberS{Value: s}, wrap(err)
	case "N":
		var s string
		err = json.Unmarshal(body, &s)
		return &types.AttributeValueMemberN{Value: s}, wrap(err)
	case "B":
		var b []byte // encoding/json decodes standard base64 into []byte
		err = json.Unmarshal(body, &b)
		if b == nil {
			b = []byte{}
		}
		return &types.AttributeValueMemberB{Value: b}, wrap(err)
	case "BOOL":
		var b bool
		err = json.Unmarshal(body, &b)
		return &types.AttributeValueMemberBOOL{Value: b}, wrap(err)
	case "NULL":
		var b bool
		err = json.Unmarshal(body, &b)
		return &types.AttributeValueMemberNULL{Value: b}, wrap(err)
	case "SS":
		var ss []string
		err = json.Unmarshal(body, &ss)
		return &types.AttributeValueMemberSS{Value: ss}, wrap(err)
	case "NS":
		var ns []string
		err = json.Unmarshal(body, &ns)
		return &types.AttributeValueMemberNS{Value: ns}, wrap(err)
	case "BS":
		var bs [][]byte
		err = json.Unmarshal(body, &bs)
		return &types.AttributeValueMemberBS{Value: bs}, wrap(err)
	case "L", "M":
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: nested too deeply", ErrSyntax)
		}
	}
	switch tag {
	case "L":
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, wrap(err)
		}
		list := make([]types.AttributeValue, len(raws))
		for i, r := range raws {
			if list[i], err = value(r, depth+1); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: list}, nil
	case "M":
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, wrap(err)
		}
		m, err := itemFromRaw(raw, depth+1)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrSyntax, tag)
	}
}

func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

// ErrUnsupportedType: a nil or unknown attribute value cannot be rendered.
var ErrUnsupportedType = errors.New("ddbjson: unsupported attribute value type")

// MarshalItem renders an item as DynamoDB JSON with sorted attribute names.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	j, err := itemJSON(item)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// MarshalItemIndent is MarshalItem with indentation, for people to read.
func MarshalItemIndent(item map[string]types.AttributeValue, prefix, indent string) ([]byte, error) {
	j, err := itemJSON(item)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(j, prefix, indent)
}

// MarshalValue renders one value as DynamoDB JSON.
func MarshalValue(v types.AttributeValue) ([]byte, error) {
	j, err := valueJSON(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

func itemJSON(item map[string]types.AttributeValue) (map[string]any, error) {
	out := make(map[string]any, len(item))
	for k, v := range item {
		j, err := valueJSON(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = j
	}
	return out, nil
}

func valueJSON(v types.AttributeValue) (any, error) {
	if ddbserial.IsNil(v) {
		return nil, ErrUnsupportedType
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			var err error
			if l[i], err = valueJSON(e); err != nil {
				return nil, err
			}
		}
		return map[string]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		m, err := itemJSON(v.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any{"M": m}, nil
	default:
		return nil, ErrUnsupportedType
	}
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

package ddbjson_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The reference: the encoding/json implementation this package had before
// its one-pass reader and writer, kept here only as the oracle they are held
// to (TestMatchesEncodingJSON, FuzzUnmarshalItem). encoding/json defines the
// text; the package must write what it writes and read what it reads, to the
// same values, refusing only what the package doc says it refuses.

const refMaxDepth = 32

func refUnmarshalItem(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	return refItem(raw, 0)
}

func refItem(raw map[string]json.RawMessage, depth int) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(raw))
	for name, r := range raw {
		v, err := refValue(r, depth)
		if err != nil {
			return nil, err
		}
		item[name] = v
	}
	return item, nil
}

func refValue(data []byte, depth int) (types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if len(raw) != 1 {
		return nil, fmt.Errorf("%d type keys", len(raw))
	}
	for tag, body := range raw {
		return refTyped(tag, body, depth)
	}
	panic("unreachable")
}

func refTyped(tag string, body json.RawMessage, depth int) (types.AttributeValue, error) {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, errors.New("null body")
	}
	var err error
	switch tag {
	case "S":
		var s string
		err = json.Unmarshal(body, &s)
		return &types.AttributeValueMemberS{Value: s}, err
	case "N":
		var s string
		err = json.Unmarshal(body, &s)
		return &types.AttributeValueMemberN{Value: s}, err
	case "B":
		var b []byte
		err = json.Unmarshal(body, &b)
		if b == nil {
			b = []byte{}
		}
		return &types.AttributeValueMemberB{Value: b}, err
	case "BOOL":
		var b bool
		err = json.Unmarshal(body, &b)
		return &types.AttributeValueMemberBOOL{Value: b}, err
	case "NULL":
		var b bool
		err = json.Unmarshal(body, &b)
		return &types.AttributeValueMemberNULL{Value: b}, err
	case "SS":
		var ss []string
		err = json.Unmarshal(body, &ss)
		return &types.AttributeValueMemberSS{Value: ss}, err
	case "NS":
		var ns []string
		err = json.Unmarshal(body, &ns)
		return &types.AttributeValueMemberNS{Value: ns}, err
	case "BS":
		var bs [][]byte
		err = json.Unmarshal(body, &bs)
		return &types.AttributeValueMemberBS{Value: bs}, err
	case "L", "M":
		if depth >= refMaxDepth {
			return nil, errors.New("nested too deeply")
		}
	}
	switch tag {
	case "L":
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, err
		}
		list := make([]types.AttributeValue, len(raws))
		for i, r := range raws {
			if list[i], err = refValue(r, depth+1); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: list}, nil
	case "M":
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, err
		}
		m, err := refItem(raw, depth+1)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, errors.New("unknown type")
}

// refItemJSON is the value encoding/json marshals into an item's DynamoDB
// JSON (json.Marshal sorts the names).
func refItemJSON(item map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		out[k] = refValueJSON(v)
	}
	return out
}

func refValueJSON(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = refValueJSON(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": refItemJSON(v.Value)}
	}
	panic(fmt.Sprintf("refValueJSON: %T", v))
}

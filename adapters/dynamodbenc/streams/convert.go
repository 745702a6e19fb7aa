package streams

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// The conversions below are lossless for the ten DynamoDB types: numbers
// stay the strings DynamoDB sent (never parsed), binary values are copied
// byte for byte (nil stays nil, empty stays empty), sets keep their order,
// and nil maps and lists stay nil. They copy: the result shares no slice or
// map with the argument. A value they cannot represent (a nil or unknown
// union member, a NULL that is not true, an unset
// events.DynamoDBAttributeValue) is an error naming its path, never a
// silently dropped attribute.

// maxDepth bounds the nesting of the values converted: DynamoDB allows 32
// levels; the slack covers the item and its attributes.
const maxDepth = 64

var errTooDeep = errors.New("nested deeper than DynamoDB allows")

// FromLambdaMap converts an item of a Lambda DynamoDB event (Keys,
// NewImage or OldImage of events.DynamoDBStreamRecord) to the SDK's
// attribute values.
func FromLambdaMap(m map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	return fromLambdaMap(m, 0)
}

// FromLambda converts one attribute value of a Lambda DynamoDB event to the
// SDK's.
func FromLambda(av events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	return fromLambda(av, 0)
}

func fromLambdaMap(m map[string]events.DynamoDBAttributeValue, depth int) (map[string]types.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		c, err := fromLambda(v, depth)
		if err != nil {
			return nil, pathErr(strconv.Quote(k), err)
		}
		out[k] = c
	}
	return out, nil
}

func fromLambda(av events.DynamoDBAttributeValue, depth int) (_ types.AttributeValue, err error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	// The accessors of events.DynamoDBAttributeValue panic on a value that
	// was never set (its zero value claims DataTypeBinary but holds nothing).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("an unset or inconsistent events.DynamoDBAttributeValue (%v)", r)
		}
	}()
	switch av.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: av.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: av.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: bytes.Clone(av.Binary())}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: av.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: slices.Clone(av.StringSet())}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: slices.Clone(av.NumberSet())}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: cloneBytes(av.BinarySet())}, nil
	case events.DataTypeList:
		l := av.List()
		if l == nil {
			return &types.AttributeValueMemberL{}, nil
		}
		out := make([]types.AttributeValue, len(l))
		for i, v := range l {
			c, err := fromLambda(v, depth+1)
			if err != nil {
				return nil, pathErr(fmt.Sprintf("[%d]", i), err)
			}
			out[i] = c
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := fromLambdaMap(av.Map(), depth+1)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown events.DynamoDBDataType %d", av.DataType())
}

// ToLambdaMap converts an item of SDK attribute values to the attribute
// values of a Lambda DynamoDB event.
func ToLambdaMap(m map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	return toLambdaMap(m, 0)
}

// ToLambda converts one SDK attribute value to a Lambda event's.
func ToLambda(av types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	return toLambda(av, 0)
}

func toLambdaMap(m map[string]types.AttributeValue, depth int) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		c, err := toLambda(v, depth)
		if err != nil {
			return nil, pathErr(strconv.Quote(k), err)
		}
		out[k] = c
	}
	return out, nil
}

func toLambda(av types.AttributeValue, depth int) (events.DynamoDBAttributeValue, error) {
	var zero events.DynamoDBAttributeValue
	if depth > maxDepth {
		return zero, errTooDeep
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(bytes.Clone(v.Value)), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		if !v.Value {
			return zero, errNullFalse
		}
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(slices.Clone(v.Value)), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(slices.Clone(v.Value)), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(cloneBytes(v.Value)), nil
	case *types.AttributeValueMemberL:
		if v.Value == nil {
			return events.NewListAttribute(nil), nil
		}
		out := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			c, err := toLambda(e, depth+1)
			if err != nil {
				return zero, pathErr(fmt.Sprintf("[%d]", i), err)
			}
			out[i] = c
		}
		return events.NewListAttribute(out), nil
	case *types.AttributeValueMemberM:
		m, err := toLambdaMap(v.Value, depth+1)
		if err != nil {
			return zero, err
		}
		return events.NewMapAttribute(m), nil
	}
	return zero, unknownMember(av)
}

// FromStreamsMap converts an item of the DynamoDB Streams API (Keys,
// NewImage or OldImage of dynamodbstreams/types.StreamRecord) to DynamoDB's
// attribute values.
func FromStreamsMap(m map[string]streamtypes.AttributeValue) (map[string]types.AttributeValue, error) {
	return fromStreamsMap(m, 0)
}

// FromStreams converts one attribute value of the DynamoDB Streams API to
// DynamoDB's.
func FromStreams(av streamtypes.AttributeValue) (types.AttributeValue, error) {
	return fromStreams(av, 0)
}

func fromStreamsMap(m map[string]streamtypes.AttributeValue, depth int) (map[string]types.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		c, err := fromStreams(v, depth)
		if err != nil {
			return nil, pathErr(strconv.Quote(k), err)
		}
		out[k] = c
	}
	return out, nil
}

func fromStreams(av streamtypes.AttributeValue, depth int) (types.AttributeValue, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch v := av.(type) {
	case *streamtypes.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}, nil
	case *streamtypes.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}, nil
	case *streamtypes.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.Value)}, nil
	case *streamtypes.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}, nil
	case *streamtypes.AttributeValueMemberNULL:
		if !v.Value {
			return nil, errNullFalse
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case *streamtypes.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: slices.Clone(v.Value)}, nil
	case *streamtypes.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: slices.Clone(v.Value)}, nil
	case *streamtypes.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: cloneBytes(v.Value)}, nil
	case *streamtypes.AttributeValueMemberL:
		if v.Value == nil {
			return &types.AttributeValueMemberL{}, nil
		}
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			c, err := fromStreams(e, depth+1)
			if err != nil {
				return nil, pathErr(fmt.Sprintf("[%d]", i), err)
			}
			out[i] = c
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case *streamtypes.AttributeValueMemberM:
		m, err := fromStreamsMap(v.Value, depth+1)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, unknownMember(av)
}

// ToStreamsMap converts an item of DynamoDB attribute values to the
// DynamoDB Streams API's.
func ToStreamsMap(m map[string]types.AttributeValue) (map[string]streamtypes.AttributeValue, error) {
	return toStreamsMap(m, 0)
}

// ToStreams converts one DynamoDB attribute value to the DynamoDB Streams
// API's.
func ToStreams(av types.AttributeValue) (streamtypes.AttributeValue, error) {
	return toStreams(av, 0)
}

func toStreamsMap(m map[string]types.AttributeValue, depth int) (map[string]streamtypes.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]streamtypes.AttributeValue, len(m))
	for k, v := range m {
		c, err := toStreams(v, depth)
		if err != nil {
			return nil, pathErr(strconv.Quote(k), err)
		}
		out[k] = c
	}
	return out, nil
}

func toStreams(av types.AttributeValue, depth int) (streamtypes.AttributeValue, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return &streamtypes.AttributeValueMemberS{Value: v.Value}, nil
	case *types.AttributeValueMemberN:
		return &streamtypes.AttributeValueMemberN{Value: v.Value}, nil
	case *types.AttributeValueMemberB:
		return &streamtypes.AttributeValueMemberB{Value: bytes.Clone(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return &streamtypes.AttributeValueMemberBOOL{Value: v.Value}, nil
	case *types.AttributeValueMemberNULL:
		if !v.Value {
			return nil, errNullFalse
		}
		return &streamtypes.AttributeValueMemberNULL{Value: true}, nil
	case *types.AttributeValueMemberSS:
		return &streamtypes.AttributeValueMemberSS{Value: slices.Clone(v.Value)}, nil
	case *types.AttributeValueMemberNS:
		return &streamtypes.AttributeValueMemberNS{Value: slices.Clone(v.Value)}, nil
	case *types.AttributeValueMemberBS:
		return &streamtypes.AttributeValueMemberBS{Value: cloneBytes(v.Value)}, nil
	case *types.AttributeValueMemberL:
		if v.Value == nil {
			return &streamtypes.AttributeValueMemberL{}, nil
		}
		out := make([]streamtypes.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			c, err := toStreams(e, depth+1)
			if err != nil {
				return nil, pathErr(fmt.Sprintf("[%d]", i), err)
			}
			out[i] = c
		}
		return &streamtypes.AttributeValueMemberL{Value: out}, nil
	case *types.AttributeValueMemberM:
		m, err := toStreamsMap(v.Value, depth+1)
		if err != nil {
			return nil, err
		}
		return &streamtypes.AttributeValueMemberM{Value: m}, nil
	}
	return nil, unknownMember(av)
}

var errNullFalse = errors.New("NULL false is not a DynamoDB value")

func unknownMember(av any) error {
	if av == nil {
		return errors.New("a nil attribute value")
	}
	return fmt.Errorf("an attribute value of unknown type %T", av)
}

func cloneBytes(bs [][]byte) [][]byte {
	if bs == nil {
		return nil
	}
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = bytes.Clone(b)
	}
	return out
}

// pathError is a conversion failure at a path of quoted attribute names and
// list indexes (names only: never values).
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return fmt.Sprintf("attribute %s: %v", e.path, e.err) }
func (e *pathError) Unwrap() error { return e.err }

// pathErr prefixes err's path with step: an attribute name or "[i]".
func pathErr(step string, err error) error {
	if pe, ok := err.(*pathError); ok {
		sep := "."
		if pe.path[0] == '[' {
			sep = ""
		}
		return &pathError{path: step + sep + pe.path, err: pe.err}
	}
	return &pathError{path: step, err: err}
}

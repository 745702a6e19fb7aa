package ddbjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

func canon(s string) (string, error) { return ddbserial.CanonicalNumber(s) }

// sameJSON compares two JSON documents structurally.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func TestRoundTripAllTypes(t *testing.T) {
	tests := []struct {
		json string
		want types.AttributeValue
	}{
		{`{"S": "héllo \"x\""}`, &types.AttributeValueMemberS{Value: "héllo \"x\""}},
		{`{"S": ""}`, &types.AttributeValueMemberS{Value: ""}},
		{`{"N": "-12.50"}`, &types.AttributeValueMemberN{Value: "-12.50"}},
		{`{"B": "AAECAw=="}`, &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 3}}},
		{`{"B": ""}`, &types.AttributeValueMemberB{Value: []byte{}}},
		{`{"BOOL": true}`, &types.AttributeValueMemberBOOL{Value: true}},
		{`{"BOOL": false}`, &types.AttributeValueMemberBOOL{Value: false}},
		{`{"NULL": true}`, &types.AttributeValueMemberNULL{Value: true}},
		{`{"SS": ["b", "a"]}`, &types.AttributeValueMemberSS{Value: []string{"b", "a"}}},
		{`{"NS": ["1", "2.5"]}`, &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}},
		{`{"BS": ["AA==", "/w=="]}`, &types.AttributeValueMemberBS{Value: [][]byte{{0}, {0xff}}}},
		{`{"L": [{"S": "x"}, {"N": "1"}, {"L": []}]}`, &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		}}},
		{`{"M": {"a": {"BOOL": true}, "b": {"M": {}}}}`, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberBOOL{Value: true}, "b": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}}},
	}
	for _, tc := range tests {
		v, err := ddbjson.UnmarshalValue([]byte(tc.json))
		if err != nil {
			t.Errorf("UnmarshalValue(%s): %v", tc.json, err)
			continue
		}
		if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", tc.want) || !ddbjson.Equal(v, tc.want, canon) {
			t.Errorf("UnmarshalValue(%s) = %#v; want %#v", tc.json, v, tc.want)
		}
		out, err := ddbjson.MarshalValue(v)
		if err != nil {
			t.Errorf("MarshalValue(%s): %v", tc.json, err)
			continue
		}
		if !sameJSON(t, out, []byte(tc.json)) {
			t.Errorf("MarshalValue(UnmarshalValue(%s)) = %s", tc.json, out)
		}
		v2, err := ddbjson.UnmarshalValue(out)
		if err != nil || !ddbjson.Equal(v, v2, canon) {
			t.Errorf("UnmarshalValue(%s) = %#v, %v; want %#v", out, v2, err, v)
		}
	}
}

func TestItemRoundTrip(t *testing.T) {
	in := `{"b": {"N": "1"}, "a": {"S": "x"}, "c": {"L": [{"NULL": true}]}}`
	item, err := ddbjson.UnmarshalItem([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(item) != 3 {
		t.Fatalf("UnmarshalItem: %d attributes, want 3", len(item))
	}
	out, err := ddbjson.MarshalItem(item)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"S":"x"},"b":{"N":"1"},"c":{"L":[{"NULL":true}]}}`; string(out) != want {
		t.Errorf("MarshalItem = %s; want %s", out, want)
	}
	item2, err := ddbjson.UnmarshalItem(out)
	if err != nil || !ddbjson.EqualItems(item, item2, canon) {
		t.Errorf("UnmarshalItem(MarshalItem(item)) = %v, %v", item2, err)
	}
	ind, err := ddbjson.MarshalItemIndent(item, "", "  ")
	if err != nil || !sameJSON(t, ind, out) || !bytes.Contains(ind, []byte("\n  ")) {
		t.Errorf("MarshalItemIndent = %s, %v", ind, err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`null`,
		`"S"`,
		`[]`,
		`{}`,
		`{"X": "1"}`,
		`{"s": "lower case"}`,
		`{"STRING": "x"}`,
		`{"S": "a", "N": "1"}`,
		`{"S": "a", "BOOL": true}`,
		`{"S": 1}`,
		`{"N": 1}`,
		`{"B": "not base64!"}`,
		`{"B": 5}`,
		`{"BOOL": "true"}`,
		`{"NULL": "true"}`,
		`{"SS": "a"}`,
		`{"SS": [1]}`,
		`{"NS": [1]}`,
		`{"BS": ["%%%"]}`,
		`{"L": {}}`,
		`{"L": [{"X": 1}]}`,
		`{"L": [{}]}`,
		`{"M": []}`,
		`{"M": {"a": {"S": "x", "N": "1"}}}`,
		`{"M": {"a": {"Q": "x"}}}`,
		`{"S": "x"} trailing`,
		`{"S": "x"`,
	} {
		if v, err := ddbjson.UnmarshalValue([]byte(in)); !errors.Is(err, ddbjson.ErrSyntax) {
			t.Errorf("UnmarshalValue(%s) = %#v, %v; want ErrSyntax", in, v, err)
		}
	}
	for _, in := range []string{``, `null x`, `[]`, `"x"`, `{"a": {}}`, `{"a": {"X": 1}}`, `{"a": {"S": "x", "B": ""}}`, `{"a": 1}`} {
		if v, err := ddbjson.UnmarshalItem([]byte(in)); !errors.Is(err, ddbjson.ErrSyntax) {
			t.Errorf("UnmarshalItem(%s) = %v, %v; want ErrSyntax", in, v, err)
		}
	}
}

// TestUnmarshalNullBodies: DynamoDB JSON has no null type bodies; {"S": null}
// is not a string value.
func TestUnmarshalNullBodies(t *testing.T) {
	for _, tag := range []string{"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"} {
		in := fmt.Sprintf(`{%q: null}`, tag)
		if v, err := ddbjson.UnmarshalValue([]byte(in)); !errors.Is(err, ddbjson.ErrSyntax) {
			t.Errorf("UnmarshalValue(%s) = %#v, %v; want ErrSyntax", in, v, err)
		}
	}
}

// TestMarshalUnsupported: MarshalValue must not turn a value it cannot
// represent into JSON its own UnmarshalValue rejects.
func TestMarshalUnsupported(t *testing.T) {
	for _, v := range []types.AttributeValue{nil, &types.UnknownUnionMember{Tag: "X"}} {
		out, err := ddbjson.MarshalValue(v)
		if err != nil {
			continue
		}
		if _, err := ddbjson.UnmarshalValue(out); err != nil {
			t.Errorf("MarshalValue(%#v) = %s, nil; want an error (it does not parse back: %v)", v, out, err)
		}
	}
	item := map[string]types.AttributeValue{"a": nil}
	if out, err := ddbjson.MarshalItem(item); err == nil {
		if _, err := ddbjson.UnmarshalItem(out); err != nil {
			t.Errorf("MarshalItem({a: nil}) = %s, nil; want an error (it does not parse back: %v)", out, err)
		}
	}
}

func TestDepth(t *testing.T) {
	nested := func(n int) string {
		return strings.Repeat(`{"L": [`, n) + `{"NULL": true}` + strings.Repeat(`]}`, n)
	}
	// Whatever ddbserial can serialize, ddbjson must read.
	if _, err := ddbjson.UnmarshalValue([]byte(nested(ddbserial.MaxDepth))); err != nil {
		t.Errorf("UnmarshalValue(%d nested lists) = %v; want success", ddbserial.MaxDepth, err)
	}
	for _, n := range []int{ddbserial.MaxDepth + 2, 100, 10000} {
		if _, err := ddbjson.UnmarshalValue([]byte(nested(n))); !errors.Is(err, ddbjson.ErrSyntax) {
			t.Errorf("UnmarshalValue(%d nested lists) = %v; want ErrSyntax", n, err)
		}
	}
	m := strings.Repeat(`{"M": {"k": `, 100) + `{"NULL": true}` + strings.Repeat(`}}`, 100)
	if _, err := ddbjson.UnmarshalValue([]byte(m)); !errors.Is(err, ddbjson.ErrSyntax) {
		t.Errorf("UnmarshalValue(100 nested maps) = %v; want ErrSyntax", err)
	}
}

func TestEqual(t *testing.T) {
	val := func(s string) types.AttributeValue {
		t.Helper()
		v, err := ddbjson.UnmarshalValue([]byte(s))
		if err != nil {
			t.Fatalf("UnmarshalValue(%s): %v", s, err)
		}
		return v
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"N": "55.00"}`, `{"N": "55"}`, true},
		{`{"N": "1e2"}`, `{"N": "100"}`, true},
		{`{"N": "1"}`, `{"N": "2"}`, false},
		{`{"N": "1"}`, `{"S": "1"}`, false},
		{`{"S": "a"}`, `{"S": "a"}`, true},
		{`{"S": "a"}`, `{"S": "A"}`, false},
		{`{"B": "AQI="}`, `{"B": "AQI="}`, true},
		{`{"B": "AQI="}`, `{"B": "AgE="}`, false},
		{`{"B": "AQI="}`, `{"BS": ["AQI="]}`, false},
		{`{"BOOL": true}`, `{"BOOL": false}`, false},
		{`{"NULL": true}`, `{"NULL": true}`, true},
		{`{"SS": ["a", "b"]}`, `{"SS": ["b", "a"]}`, true},
		{`{"SS": ["a", "b"]}`, `{"SS": ["a"]}`, false},
		{`{"SS": ["a", "a"]}`, `{"SS": ["a", "b"]}`, false},
		{`{"SS": ["a"]}`, `{"NS": ["1"]}`, false},
		{`{"NS": ["1.0", "2"]}`, `{"NS": ["2", "1"]}`, true},
		{`{"NS": ["1", "2"]}`, `{"NS": ["1", "3"]}`, false},
		{`{"BS": ["AA==", "AQ=="]}`, `{"BS": ["AQ==", "AA=="]}`, true},
		{`{"BS": ["AA=="]}`, `{"BS": ["AQ=="]}`, false},
		{`{"L": [{"S": "a"}, {"N": "1"}]}`, `{"L": [{"S": "a"}, {"N": "1.0"}]}`, true},
		{`{"L": [{"S": "a"}, {"N": "1"}]}`, `{"L": [{"N": "1"}, {"S": "a"}]}`, false},
		{`{"L": [{"S": "a"}]}`, `{"L": [{"S": "a"}, {"S": "a"}]}`, false},
		{`{"M": {"a": {"N": "1"}}}`, `{"M": {"a": {"N": "1.00"}}}`, true},
		{`{"M": {"a": {"N": "1"}}}`, `{"M": {"b": {"N": "1"}}}`, false},
		{`{"M": {"a": {"N": "1"}}}`, `{"M": {"a": {"N": "1"}, "b": {"N": "1"}}}`, false},
		{`{"M": {}}`, `{"L": []}`, false},
	}
	for _, tc := range tests {
		a, b := val(tc.a), val(tc.b)
		if got := ddbjson.Equal(a, b, canon); got != tc.want {
			t.Errorf("Equal(%s, %s) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
		if got := ddbjson.Equal(b, a, canon); got != tc.want {
			t.Errorf("Equal(%s, %s) = %v; want %v", tc.b, tc.a, got, tc.want)
		}
	}
	if ddbjson.Equal(nil, nil, canon) || ddbjson.Equal(val(`{"S": ""}`), nil, canon) {
		t.Errorf("Equal with nil values reported true")
	}
}

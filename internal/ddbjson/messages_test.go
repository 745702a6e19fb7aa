package ddbjson_test

import (
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// TestErrorMessages pins what a user sees for the usual mistakes: the
// attribute, the offending type key where it looks like one, the byte
// offset, and a word on plain JSON.
func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"id": {"S": "a"}, "name": "Ada"}`,
			`ddbjson: not a DynamoDB JSON value: attribute "name": want a DynamoDB attribute value such as {"S": "text"}, not a JSON string (is this plain JSON?) (at byte 28)`},
		{`{"n": 5}`,
			`ddbjson: not a DynamoDB JSON value: attribute "n": want a DynamoDB attribute value such as {"S": "text"}, not a JSON number (is this plain JSON?) (at byte 7)`},
		{`{"id": {"STR": "a"}}`,
			`ddbjson: not a DynamoDB JSON value: attribute "id": unknown type key "STR" (want S, N, B, BOOL, NULL, SS, NS, BS, L or M) (at byte 9)`},
		{`{"id": {"4111 1111": "a"}}`,
			`ddbjson: not a DynamoDB JSON value: attribute "id": unknown type key (want S, N, B, BOOL, NULL, SS, NS, BS, L or M) (at byte 9)`},
		{`{"id": {"S": "a"},, }`,
			`ddbjson: not a DynamoDB JSON value: attribute "id": malformed JSON (at byte 19)`},
		{`{"id":{"S":"a"},"id":{"S":"b"}}`,
			`ddbjson: not a DynamoDB JSON value: attribute "id": name appears twice (at byte 21)`},
		{`{"a":{"M":{"x":{"S":"a"}, "x" :{"S":"b"}}}}`,
			`ddbjson: not a DynamoDB JSON value: attribute "a": name appears twice (at byte 30)`},
		{`{"id": {"S": "a"}`,
			`ddbjson: not a DynamoDB JSON value: attribute "id": unexpected end of JSON (at byte 18)`},
	} {
		_, err := ddbjson.UnmarshalItem([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("UnmarshalItem(%s) error = %v;\nwant %s", tc.in, err, tc.want)
		}
	}
}

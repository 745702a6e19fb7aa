package mapenc

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The JSON form is DynamoDB JSON as internal/ddbjson writes and reads it
// (and so the itemcrypto command): byte for byte what encoding/json writes,
// written and read in one pass. This file only restates ddbjson's errors in
// this package's terms.

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
	data, err := ddbjson.MarshalItem(item)
	if err != nil {
		return nil, jsonError(err)
	}
	return data, nil
}

// UnmarshalJSON parses a DynamoDB JSON document into an item, the inverse
// of [MarshalJSON]. Pass the result to [Codec.Decrypt] or
// [Codec.DecryptMap], which verify it. Nesting is bounded (32 levels); the
// caller bounds the document's size: parsing allocates at most 16 bytes per
// byte of data, and a DecryptJSON that fails verification at most 24 (the
// Go form of the values; no value is expanded before the signature check,
// see package itemcrypto's Bounds), each plus 288 bytes for every map (M,
// or the item) that is not empty (the least Go allocates for a map of one
// entry, over its empty map) and 16 KiB. Whatever the document, both are at
// most 32 bytes per byte plus 16 KiB, which nested maps of one entry come
// nearest to (31). Errors match [ErrInvalidJSON] and name the attribute,
// never the value.
//
// It is strict: an object must have exactly one type key, spelt as
// DynamoDB spells it, and an attribute name may appear once.
func UnmarshalJSON(data []byte) (map[string]types.AttributeValue, error) {
	item, err := ddbjson.UnmarshalItem(data)
	if err != nil {
		return nil, jsonError(err)
	}
	return item, nil
}

// jsonError restates an error of ddbjson: [ErrInvalidJSON] for data that is
// not DynamoDB JSON, itemcrypto.ErrUnsupportedValue or
// itemcrypto.ErrInvalidUTF8 for an item JSON cannot carry. Like ddbjson's,
// its message names the attribute, never the value.
func jsonError(err error) error {
	var e *ddbjson.Error
	if !errors.As(err, &e) {
		return err // not reached: ddbjson returns only *ddbjson.Error
	}
	switch e.Kind {
	case ddbjson.ErrSyntax:
		if e.Attribute != "" {
			return fmt.Errorf("%w: attribute %q: %s", ErrInvalidJSON, e.Attribute, e.Reason)
		}
		return fmt.Errorf("%w: %s", ErrInvalidJSON, e.Reason)
	case ddbjson.ErrUnsupportedType:
		err = fmt.Errorf("%w: %s", itemcrypto.ErrUnsupportedValue, e.Reason)
	default: // ddbjson.ErrInvalidUTF8, which is itemcrypto.ErrInvalidUTF8
		err = e.Kind
	}
	if e.Attribute != "" {
		return fmt.Errorf("mapenc: attribute %q: %w", e.Attribute, err)
	}
	return err
}

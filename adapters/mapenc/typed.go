package mapenc

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// TypedCodec is a [Codec] for one Go type T: a struct, a pointer to a
// struct, or a map. Its struct tags are read, and checked against the
// Config, when it is made. It is safe for concurrent use.
type TypedCodec[T any] struct {
	c    *Codec
	enc  *protector
	info *typeInfo
	typ  reflect.Type
}

// For returns a TypedCodec for T under cfg: New(cfg, optFns...) then
// Typed[T]. An itemcrypto struct tag of T that is invalid or contradicts cfg
// is a [*TagError] here.
func For[T any](cfg Config, optFns ...func(*Options)) (*TypedCodec[T], error) {
	c, err := New(cfg, optFns...)
	if err != nil {
		return nil, err
	}
	return Typed[T](c)
}

// Typed returns a TypedCodec for T that shares c (its configuration and its
// cache of struct types).
func Typed[T any](c *Codec) (*TypedCodec[T], error) {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Interface {
		return nil, fmt.Errorf("%w: got interface type %v", ErrUnsupportedType, t)
	}
	enc, info, err := c.encryptorFor(t)
	if err != nil {
		return nil, err
	}
	return &TypedCodec[T]{c: c, enc: enc, info: info, typ: t}, nil
}

// String, GoString, Format, LogValue and MarshalJSON describe the
// TypedCodec without its keys.
func (tc TypedCodec[T]) String() string                { return tc.redacted().String() }
func (tc TypedCodec[T]) GoString() string              { return tc.redacted().GoString() }
func (tc TypedCodec[T]) Format(f fmt.State, verb rune) { tc.redacted().Format(f, verb) }
func (tc TypedCodec[T]) LogValue() slog.Value          { return tc.redacted().LogValue() }
func (tc TypedCodec[T]) MarshalJSON() ([]byte, error)  { return tc.redacted().MarshalJSON() }
func (tc TypedCodec[T]) redacted() redact.Text {
	if tc.c == nil {
		return redact.Text(fmt.Sprintf("mapenc.TypedCodec[%v]{}", tc.typ))
	}
	return redact.Text(fmt.Sprintf("mapenc.TypedCodec[%v]{table: %q, keys: [redacted]}", tc.typ, tc.c.cfg.TableName))
}

// Codec returns the Codec that tc uses.
func (tc *TypedCodec[T]) Codec() *Codec { return tc.c }

// Encryptor returns the item encryptor of T's policy (the Config's, plus
// T's itemcrypto tags), for the items of T as attribute values. Most users
// won't need it.
//
// With Config.Search, writing an item through the Encryptor alone stores
// no beacons: use the TypedCodec's methods.
func (tc *TypedCodec[T]) Encryptor() *itemcrypto.Encryptor { return tc.enc.encryptor() }

// Encrypt encodes v with attributevalue and returns its protected form, as
// [Codec.Encrypt] does.
func (tc *TypedCodec[T]) Encrypt(ctx context.Context, v T) (map[string]types.AttributeValue, error) {
	item, err := tc.c.marshal(v, tc.info)
	if err != nil {
		return nil, err
	}
	return tc.enc.Encrypt(ctx, item)
}

// Decrypt verifies item's signature, decrypts it and decodes it into a T.
// Every failure of authenticity returns an error matching
// itemcrypto.ErrAuthentication, and the zero T.
func (tc *TypedCodec[T]) Decrypt(ctx context.Context, item map[string]types.AttributeValue) (T, error) {
	v, _, err := tc.decrypt(ctx, item, nil)
	return v, err
}

// decrypt is Decrypt, and with a term [TypedCodec.DecryptMatch].
func (tc *TypedCodec[T]) decrypt(ctx context.Context, item map[string]types.AttributeValue, term *search.Term) (T, bool, error) {
	var v T
	pt, ok, err := tc.enc.decryptMatch(ctx, item, term)
	if err != nil || !ok {
		return v, false, err
	}
	if p, ok := any(&v).(*map[string]types.AttributeValue); ok {
		*p = pt // T is the item type itself
		return v, true, nil
	}
	if err := tc.c.decoder.Decode(&types.AttributeValueMemberM{Value: tc.info.exactFields(pt)}, &v); err != nil {
		var zero T
		return zero, false, tc.c.decodeErrorInfo(tc.typ, tc.info, pt, err)
	}
	return v, true, nil
}

// EncryptJSON is [TypedCodec.Encrypt] followed by [MarshalJSON].
func (tc *TypedCodec[T]) EncryptJSON(ctx context.Context, v T) ([]byte, error) {
	item, err := tc.Encrypt(ctx, v)
	if err != nil {
		return nil, err
	}
	return MarshalJSON(item)
}

// DecryptJSON is [UnmarshalJSON] followed by [TypedCodec.Decrypt].
func (tc *TypedCodec[T]) DecryptJSON(ctx context.Context, data []byte) (T, error) {
	item, err := UnmarshalJSON(data)
	if err != nil {
		var zero T
		return zero, err
	}
	return tc.Decrypt(ctx, item)
}

package mapenc

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
)

// Errors, matched with errors.Is. Failures of the item itself come from
// package itemcrypto unchanged: itemcrypto.ErrAuthentication for every
// failure of authenticity, an *itemcrypto.AttributeError for an attribute
// that cannot be protected.
var (
	// ErrInvalidTag: an itemcrypto struct tag that cannot be read, or that
	// sits on a field attributevalue never writes. A [*TagError] names the
	// field.
	ErrInvalidTag = errors.New("mapenc: invalid itemcrypto struct tag")
	// ErrTagConflict: an itemcrypto struct tag disagrees with the Config
	// (another action in Config.Overrides, another key attribute) or with
	// another tag. A [*TagError] names the field.
	ErrTagConflict = errors.New("mapenc: itemcrypto struct tag conflicts with the configuration")
	// ErrDuplicateAttribute: two fields of a struct type (or of a struct
	// type inside it) encode to the same attribute name, so attributevalue
	// would store at most one of them without a word (Go's rules for
	// promoted fields hide one, or drop both). A [*TagError] names the
	// second field; rename one, or skip it with dynamodbav:"-".
	ErrDuplicateAttribute = errors.New("mapenc: two fields encode to one attribute")
	// ErrUnsupportedType: the Go value is not one that encodes to an item (a
	// struct, a map, or a pointer to one).
	ErrUnsupportedType = errors.New("mapenc: value does not encode to an item (want a struct, a map, or a pointer to one)")
	// ErrInvalidJSON: the data is not a DynamoDB JSON item.
	ErrInvalidJSON = errors.New("mapenc: not a DynamoDB JSON item")
)

// TagError reports a struct type whose itemcrypto tags cannot be applied. It
// is returned by every call that uses the type (the result is cached with
// the type), and by [For] and [Typed] at once.
type TagError struct {
	// Type is the struct type.
	Type reflect.Type
	// Field is the Go field, as a path through embedded structs
	// ("Audit.CreatedBy").
	Field string
	// Attribute is the attribute name the field encodes to, "" when the
	// field encodes to none.
	Attribute string
	// Err matches ErrInvalidTag, ErrTagConflict or ErrDuplicateAttribute,
	// and says why.
	Err error
}

func (e *TagError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("mapenc: type %v: %v", e.Type, e.Err)
	}
	if e.Attribute == "" {
		return fmt.Sprintf("mapenc: type %v, field %s: %v", e.Type, e.Field, e.Err)
	}
	return fmt.Sprintf("mapenc: type %v, field %s (attribute %q): %v", e.Type, e.Field, e.Attribute, e.Err)
}

func (e *TagError) Unwrap() error { return e.Err }

// ConvertError reports a Go value that attributevalue could not encode, or
// a decrypted item it could not decode into the Go type asked for. Its
// message names the Go type and, where it could be found, the attribute,
// never the value.
//
// Err is attributevalue's error (or a Marshaler's), for errors.As. Unlike
// this error's own message, its message may quote the value: do not log it.
type ConvertError struct {
	// Op is "encode" or "decode".
	Op string
	// Type is the Go type encoded or decoded into.
	Type reflect.Type
	// Attribute is the attribute that failed, "" when it could not be told.
	Attribute string
	// Field is the Go field of Attribute in a struct type, "" otherwise.
	Field string
	Err   error
}

func (e *ConvertError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mapenc: cannot %s %v", e.Op, e.Type)
	if e.Attribute != "" {
		if e.Field != "" {
			fmt.Fprintf(&b, ", field %s", e.Field)
		}
		fmt.Fprintf(&b, " (attribute %q)", e.Attribute)
	}
	b.WriteString(": ")
	b.WriteString(safeDetail(e.Err))
	return b.String()
}

func (e *ConvertError) Unwrap() error { return e.Err }

// safeDetail describes err without the value that attributevalue's or
// strconv's messages sometimes quote.
func safeDetail(err error) string {
	var (
		typeErr    *attributevalue.UnmarshalTypeError
		valErr     *attributevalue.UnmarshalError
		invalidOut *attributevalue.InvalidUnmarshalError
		invalidIn  *attributevalue.InvalidMarshalError
		numErr     *strconv.NumError
	)
	switch {
	case errors.As(err, &invalidIn):
		return invalidIn.Error() // fixed messages
	case errors.As(err, &invalidOut):
		return invalidOut.Error() // names a type
	case errors.As(err, &typeErr):
		if strings.HasPrefix(typeErr.Value, "number overflow") { // quotes the number
			return fmt.Sprintf("number overflows Go type %v", typeErr.Type)
		}
		return typeErr.Error() // "cannot unmarshal <kind> into Go value type <type>"
	case errors.As(err, &valErr):
		return fmt.Sprintf("cannot unmarshal value into Go type %v", valErr.Type)
	case errors.As(err, &numErr):
		return fmt.Sprintf("strconv.%s: %v", numErr.Func, numErr.Err)
	}
	return fmt.Sprintf("value rejected (%T; details withheld)", err)
}

package mapenc

import (
	"fmt"
	"reflect"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// This file exposes the pieces of the one reading of itemcrypto tags that the
// typed tables of other adapters need (dynamodbenc.Table, mongoenc's
// TypedCollection): the tag parser itself, and the attributes of a struct
// type as attributevalue names them. There is no other parser of the tags.

// The key roles an itemcrypto tag may give, as [Tag.Role] holds them.
const (
	RolePartition = rolePartition
	RoleSort      = roleSort
)

// Tag is one itemcrypto struct tag, read: an action, a key role, or both.
type Tag struct {
	// Action is the tag's action; valid when HasAction.
	Action    actions.Action
	HasAction bool
	// Role is RolePartition, RoleSort or "".
	Role string
}

// ParseTag reads the value of an itemcrypto struct tag ("encrypt",
// "sign,partition", ...): one action (encrypt, sign, nothing, or any name
// actions.Parse takes), one key role (partition, sort), or both, comma
// separated. A tag that cannot be read is an error matching ErrInvalidTag.
//
// It is the parser [StructPolicy] and [Codec] use; adapters whose stores name
// fields by other rules than attributevalue's (mongoenc, by BSON names) walk
// the fields themselves and read each tag with it.
func ParseTag(tag string) (Tag, error) {
	a, has, role, err := parseTag(tag)
	if err != nil {
		return Tag{}, err
	}
	return Tag{Action: a, HasAction: has, Role: role}, nil
}

// StructAttribute is one attribute of a struct type as attributevalue
// writes it.
type StructAttribute struct {
	// Name is the attribute name.
	Name string
	// Field is the Go field, as a path through embedded structs
	// ("Audit.CreatedBy").
	Field string
	// Tag is the field's itemcrypto tag, read; Tagged reports that the field
	// has one.
	Tag    Tag
	Tagged bool
}

// StructAttributes returns the top-level attributes of struct type t (or of
// the struct a pointer type points to) as attributevalue writes them under
// o.TagKey ("dynamodbav" by default), in field order, with their itemcrypto
// tags. It fails as [StructPolicy] does on a tag that cannot be read or sits
// on a field attributevalue never writes, and on two fields with one
// attribute name (a [*TagError]).
func StructAttributes(t reflect.Type, optFns ...func(*Options)) ([]StructAttribute, error) {
	t, o, err := structOf("StructAttributes", t, optFns)
	if err != nil {
		return nil, err
	}
	fields, stray, _ := structFields(t, o.TagKey)
	if len(stray) > 0 {
		return nil, &TagError{Type: t, Field: stray[0].goName, Err: fmt.Errorf("%w: %s", ErrInvalidTag, stray[0].why)}
	}
	if te := layoutError(t, o.TagKey); te != nil {
		return nil, te
	}
	out := make([]StructAttribute, 0, len(fields))
	for _, f := range fields {
		a := StructAttribute{Name: f.name, Field: f.goName, Tagged: f.hasTag}
		if f.hasTag {
			tag, err := ParseTag(f.tag)
			if err != nil {
				return nil, &TagError{Type: t, Field: f.goName, Attribute: f.name, Err: err}
			}
			a.Tag = tag
		}
		out = append(out, a)
	}
	return out, nil
}

// DecodesFieldByField reports whether attributevalue decodes an item into
// struct type t field by field, matching an attribute to a field
// case-insensitively when no field has its exact name: false for a type that
// decodes itself (an attributevalue.Unmarshaler or Marshaler, a time). A
// caller decoding verified items into such a type should drop the attributes
// that are no field's name but fold to one (see [StructAttributes]), as a
// [Codec] does: an attribute outside the signature ("amount", under
// DoNothing) could otherwise overwrite a signed field ("Amount").
func DecodesFieldByField(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct && !codesItself(t)
}

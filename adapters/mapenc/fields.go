package mapenc

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// This file names a struct's attributes exactly as attributevalue does, so
// that an itemcrypto struct tag applies to the attribute attributevalue
// writes. It follows attributevalue's field.go (v1.21.x), itself modelled on
// encoding/json: exported fields and the promoted fields of embedded structs,
// the name from the dynamodbav tag (or Options.TagKey, which wins) else the
// field's name, "-" skipped, Go's visibility rules for promoted fields with
// ties broken by depth and then by a tag name. TestFieldNamesMatchAttributevalue
// checks the two agree.

const (
	defaultTagKey = "dynamodbav"
	// structTagKey is the struct tag key of the actions.
	structTagKey = "itemcrypto"
)

// field is one attribute of a struct type as attributevalue encodes it.
type field struct {
	name        string // the attribute name
	nameFromTag bool
	index       []int
	typ         reflect.Type
	goName      string // the Go path of the field, e.g. "Audit.CreatedBy"
	tag         string // the itemcrypto tag
	hasTag      bool
}

// strayTag is an itemcrypto tag on a field that attributevalue never writes
// (unexported, or dynamodbav:"-").
type strayTag struct {
	goName string
	why    string
}

// fieldConflict is two fields of one struct type that encode to the same
// attribute name: attributevalue stores at most one of them, silently.
type fieldConflict struct {
	name   string
	fields [2]string // Go paths; the same path twice for a struct embedded twice
}

// structFields returns the attributes of struct type t in field order, the
// itemcrypto tags that can have no effect, and the fields that share an
// attribute name.
func structFields(t reflect.Type, tagKey string) (fields []field, stray []strayTag, conflicts []fieldConflict) {
	var current []field
	next := []field{{typ: t}}
	var count map[reflect.Type]int // swapped in from nextCount at each level
	nextCount := map[reflect.Type]int{}
	visited := map[reflect.Type]bool{}

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}

		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true

			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				goName := sf.Name
				if f.goName != "" {
					goName = f.goName + "." + sf.Name
				}
				itag, hasTag := sf.Tag.Lookup(structTagKey)
				if sf.PkgPath != "" && !sf.Anonymous {
					if hasTag {
						stray = append(stray, strayTag{goName, "the field is unexported"})
					}
					continue
				}
				name, nameFromTag, ignore := avTag(sf.Tag, tagKey)
				if ignore {
					if hasTag {
						stray = append(stray, strayTag{goName, "the field is skipped (tag \"-\")"})
					}
					continue
				}
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				sfield := field{
					name: sf.Name, nameFromTag: nameFromTag, typ: ft,
					index: append(slices.Clip(f.index), i), goName: goName,
					tag: itag, hasTag: hasTag,
				}
				if nameFromTag {
					sfield.name = name
				}
				if !sf.Anonymous || nameFromTag || ft.Kind() != reflect.Struct {
					fields = append(fields, sfield)
					if count[f.typ] > 1 {
						// Make the duplicate visible to the dominance rule.
						fields = append(fields, sfield)
					}
					continue
				}
				// An embedded struct: its fields are promoted. A tag on the
				// embedded field itself applies to nothing.
				if hasTag {
					stray = append(stray, strayTag{goName, "the embedded struct's fields are promoted; tag them instead"})
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, sfield)
				}
			}
		}
	}
	fields, conflicts = visibleFields(fields)
	return fields, stray, conflicts
}

// avTag reads the attribute name from the dynamodbav tag, overridden by the
// tagKey tag where that is another key and present.
func avTag(st reflect.StructTag, tagKey string) (name string, fromTag, ignore bool) {
	parse := func(s string) {
		n, _, _ := strings.Cut(s, ",")
		if n == "-" {
			name, ignore = "", true
		} else {
			name, ignore = n, false
		}
	}
	if s := st.Get(defaultTagKey); s != "" {
		parse(s)
	}
	if tagKey != "" && tagKey != defaultTagKey {
		if s := st.Get(tagKey); s != "" {
			parse(s)
		}
	}
	return name, name != "", ignore
}

// visibleFields drops the fields hidden by Go's rules for promoted fields
// (ties broken by depth, then by a tag name) and returns the others in index
// order, and every name that more than one field has.
func visibleFields(fields []field) ([]field, []fieldConflict) {
	var conflicts []fieldConflict
	slices.SortStableFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.nameFromTag != b.nameFromTag {
			if a.nameFromTag {
				return -1
			}
			return 1
		}
		return compareIndex(a.index, b.index)
	})
	out := fields[:0]
	for i, advance := 0, 0; i < len(fields); i += advance {
		name := fields[i].name
		for advance = 1; i+advance < len(fields) && fields[i+advance].name == name; advance++ {
		}
		if advance == 1 {
			out = append(out, fields[i])
			continue
		}
		group := slices.Clone(fields[i : i+advance])
		slices.SortFunc(group, func(a, b field) int { return compareIndex(a.index, b.index) })
		conflicts = append(conflicts, fieldConflict{name: name, fields: [2]string{group[0].goName, group[1].goName}})
		if f, ok := dominantField(fields[i : i+advance]); ok {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b field) int { return compareIndex(a.index, b.index) })
	return out, conflicts
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	avMarshalerType   = reflect.TypeFor[attributevalue.Marshaler]()
	avUnmarshalerType = reflect.TypeFor[attributevalue.Unmarshaler]()
)

// codesItself reports a type that attributevalue does not take apart field
// by field: a Marshaler or Unmarshaler, or a time.
func codesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.ConvertibleTo(timeType) || t.Implements(avMarshalerType) || pt.Implements(avMarshalerType) ||
		t.Implements(avUnmarshalerType) || pt.Implements(avUnmarshalerType)
}

// layoutError finds an ambiguity in the layout of struct type t, or of a
// struct type inside it (a field's type, through pointers, slices, arrays
// and map values), that would make attributevalue drop a value without a
// word: two fields that encode to one attribute name. At the top level, a
// field named like a reserved attribute is one too.
func layoutError(t reflect.Type, tagKey string) *TagError {
	seen := map[reflect.Type]bool{}
	var walk func(st reflect.Type, path string, top bool) *TagError
	walk = func(st reflect.Type, path string, top bool) *TagError {
		if seen[st] {
			return nil
		}
		seen[st] = true
		fields, _, conflicts := structFields(st, tagKey)
		if len(conflicts) > 0 {
			c := conflicts[0]
			why := fmt.Sprintf("fields %s and %s both encode to attribute %q, and only one would be stored", path+c.fields[0], path+c.fields[1], c.name)
			if c.fields[0] == c.fields[1] {
				why = fmt.Sprintf("field %s is promoted twice (the same struct embedded twice) as attribute %q, and would not be stored", path+c.fields[0], c.name)
			}
			return &TagError{Type: t, Field: path + c.fields[1], Attribute: c.name,
				Err: fmt.Errorf("%w: %s; rename one, or skip it with a %q tag", ErrDuplicateAttribute, why, "-")}
		}
		for _, f := range fields {
			if top && actions.IsReserved(f.name) {
				return &TagError{Type: t, Field: f.goName, Attribute: f.name, Err: fmt.Errorf("%w: %w", ErrInvalidTag, itemcrypto.ErrReservedAttribute)}
			}
			ft := f.typ
			for {
				switch ft.Kind() {
				case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
					if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8 {
						break // []byte is a binary value
					}
					ft = ft.Elem()
					continue
				}
				break
			}
			if ft.Kind() == reflect.Struct && !codesItself(ft) {
				if te := walk(ft, path+f.goName+".", false); te != nil {
					return te
				}
			}
		}
		return nil
	}
	return walk(t, "", true)
}

func compareIndex(a, b []int) int {
	for k, x := range a {
		if k >= len(b) {
			return 1
		}
		if x != b[k] {
			return x - b[k]
		}
	}
	return len(a) - len(b)
}

// dominantField picks the one field of a name that wins, if any.
func dominantField(fields []field) (field, bool) {
	length := len(fields[0].index)
	tagged := -1
	for i, f := range fields {
		if len(f.index) > length {
			fields = fields[:i]
			break
		}
		if f.nameFromTag {
			if tagged >= 0 {
				return field{}, false
			}
			tagged = i
		}
	}
	if tagged >= 0 {
		return fields[tagged], true
	}
	if len(fields) > 1 {
		return field{}, false
	}
	return fields[0], true
}

package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
)

// TypedCollection is a typed view of a [Collection]: it inserts, replaces
// and finds values of the caller's type T (a struct, or a pointer to one),
// marshalled with the collection's registry, through the collection, which
// encrypts, signs, verifies and decrypts them and applies its guard rails.
// It is safe for concurrent use.
//
// The itemcrypto struct tags of T (read by mapenc.ParseTag, the one parser of
// package mapenc) are not a second configuration: they must agree with the
// collection's. [NewTypedCollection] refuses T unless every tagged field's
// action is exactly what the collection's Config gives that field path
// ([Collection.Action]), so a field tagged encrypt is never stored in
// plaintext because the Config lacked it.
//
// Field paths are named as the bson package's default struct codec names
// them: the bson tag's name, else the Go field name in lower case; fields of
// a struct marked bson:",inline" are fields of the document itself, and
// those of a nested struct are dotted paths ("profile.ssn"). A registry with
// another struct codec (Options.Registry) is not seen: give such types
// explicit bson names.
type TypedCollection[T any] struct {
	c       *Collection
	typ     reflect.Type
	paths   map[string]bool // T's field paths, nested ones included
	parents map[string]bool // the paths with nested paths below them
}

// NewTypedCollection returns a typed view of c for T, a struct type or a
// pointer to one. A tag that cannot be read, or that contradicts c's
// configuration (another action for the field path than c.Action gives it;
// itemcrypto:"partition" on any field but _id; itemcrypto:"sort", since a
// collection has no sort key) is a [*mapenc.TagError] matching
// mapenc.ErrTagConflict or mapenc.ErrInvalidTag.
func NewTypedCollection[T any](c *Collection) (*TypedCollection[T], error) {
	if c == nil {
		return nil, errors.New("mongoenc: NewTypedCollection: collection is nil")
	}
	typ := reflect.TypeFor[T]()
	st := typ
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: NewTypedCollection needs a struct type or a pointer to one, got %v", mapenc.ErrUnsupportedType, typ)
	}
	fields, err := bsonFields(st)
	if err != nil {
		return nil, err
	}
	tc := &TypedCollection[T]{c: c, typ: typ, paths: map[string]bool{}, parents: map[string]bool{}}
	for _, f := range fields {
		tc.paths[f.path] = true
		if i := strings.LastIndexByte(f.path, '.'); i >= 0 {
			tc.parents[f.path[:i]] = true
		}
		if !f.tagged {
			continue
		}
		fail := func(format string, args ...any) error {
			return &mapenc.TagError{Type: st, Field: f.goName, Attribute: f.path,
				Err: fmt.Errorf("%w: "+format, append([]any{mapenc.ErrTagConflict}, args...)...)}
		}
		switch f.tag.Role {
		case mapenc.RolePartition:
			if f.path != IDField {
				return nil, fail("the tag says partition key, and a collection's is %q", IDField)
			}
		case mapenc.RoleSort:
			return nil, fail("the tag says sort key, and a collection has none")
		}
		if f.tag.HasAction {
			if got := c.Action(f.path); got != f.tag.Action {
				return nil, fail("the tag says %v, collection %s's configuration gives the field %v; set Config.Overrides[%q] to %v",
					f.tag.Action, c.ns, got, f.path, f.tag.Action)
			}
		}
	}
	return tc, nil
}

// Collection returns the collection the typed view sends its requests
// through.
func (tc *TypedCollection[T]) Collection() *Collection { return tc.c }

// InsertOne encrypts, signs and inserts v (see [Collection.InsertOne]).
func (tc *TypedCollection[T]) InsertOne(ctx context.Context, v T, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	return tc.c.InsertOne(ctx, v, opts...)
}

// InsertMany encrypts, signs and inserts vs (see [Collection.InsertMany]).
func (tc *TypedCollection[T]) InsertMany(ctx context.Context, vs []T, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	return tc.c.InsertMany(ctx, vs, opts...)
}

// ReplaceOne replaces the document filter matches with v, encrypted and
// signed (see [Collection.ReplaceOne]).
func (tc *TypedCollection[T]) ReplaceOne(ctx context.Context, filter any, v T, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	return tc.c.ReplaceOne(ctx, filter, v, opts...)
}

// DeleteOne deletes the document filter matches (see
// [Collection.DeleteOne]).
func (tc *TypedCollection[T]) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	return tc.c.DeleteOne(ctx, filter, opts...)
}

// FindOne returns the document filter matches, verified, decrypted and
// decoded into a T; mongo.ErrNoDocuments when there is none.
func (tc *TypedCollection[T]) FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) (T, error) {
	var zero T
	raw, err := tc.c.FindOne(ctx, filter, opts...).Raw()
	if err != nil {
		return zero, err
	}
	return tc.decode(raw)
}

// Find returns the documents filter matches, verified, decrypted and
// decoded, one by one as the caller ranges (break to stop; the cursor is
// closed either way). An error ends the sequence.
func (tc *TypedCollection[T]) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cur, err := tc.c.Find(ctx, filter, opts...)
		if err != nil {
			yield(zero, err)
			return
		}
		defer cur.Close(context.WithoutCancel(ctx))
		for cur.Next(ctx) {
			v, err := tc.decode(cur.Current)
			if !yield(v, err) || err != nil {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(zero, err)
		}
	}
}

// All is Find, collected into a slice.
func (tc *TypedCollection[T]) All(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	var out []T
	for v, err := range tc.Find(ctx, filter, opts...) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// decode unmarshals a verified, decrypted document into a T. Fields that
// are no field path of T but whose name in lower case is, at the top level
// and inside the embedded documents (and arrays of them) of T's nested
// structs, are dropped first: the struct codec would decode them into that
// field (it retries a name in lower case), so a field outside the signature
// ("SSN", under DoNothing) could overwrite a signed one ("ssn").
func (tc *TypedCollection[T]) decode(doc bson.Raw) (T, error) {
	var v T
	if tc.folds(doc, "") {
		doc = tc.exact(doc, "")
	}
	if err := tc.c.decode(doc, &v); err != nil {
		var zero T
		return zero, &mapenc.ConvertError{Op: "decode", Type: tc.typ, Err: err}
	}
	return v, nil
}

// folds reports whether doc, the document at path prefix, holds a field to
// drop.
func (tc *TypedCollection[T]) folds(doc bson.Raw, prefix string) bool {
	elems, err := doc.Elements()
	if err != nil {
		return false // the decoder reports it
	}
	for _, e := range elems {
		k := e.Key()
		if !tc.paths[prefix+k] {
			if tc.paths[prefix+strings.ToLower(k)] {
				return true
			}
			continue
		}
		if !tc.parents[prefix+k] {
			continue
		}
		for _, sub := range subdocuments(e.Value()) {
			if tc.folds(sub, prefix+k+".") {
				return true
			}
		}
	}
	return false
}

// exact returns doc without the fields folds finds.
func (tc *TypedCollection[T]) exact(doc bson.Raw, prefix string) bson.Raw {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		k := e.Key()
		if !tc.paths[prefix+k] && tc.paths[prefix+strings.ToLower(k)] {
			continue
		}
		v := e.Value()
		if !tc.paths[prefix+k] || !tc.parents[prefix+k] {
			b = append(b, e...)
			continue
		}
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			b = bsoncore.AppendDocumentElement(b, k, tc.exact(v.Document(), prefix+k+"."))
		case bson.TypeArray:
			vals, err := v.Array().Values()
			if err != nil {
				b = append(b, e...)
				continue
			}
			aidx, ab := bsoncore.AppendArrayStart(nil)
			for i, av := range vals {
				if sub, ok := av.DocumentOK(); ok {
					ab = bsoncore.AppendDocumentElement(ab, strconv.Itoa(i), tc.exact(sub, prefix+k+"."))
				} else {
					ab = bsoncore.AppendValueElement(ab, strconv.Itoa(i), bsoncore.Value{Type: bsoncore.Type(av.Type), Data: av.Value})
				}
			}
			ab, _ = bsoncore.AppendArrayEnd(ab, aidx)
			b = bsoncore.AppendArrayElement(b, k, ab)
		default:
			b = append(b, e...)
		}
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// subdocuments returns v's document, or the documents of its array.
func subdocuments(v bson.RawValue) []bson.Raw {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return []bson.Raw{v.Document()}
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil
		}
		var out []bson.Raw
		for _, av := range vals {
			if sub, ok := av.DocumentOK(); ok {
				out = append(out, sub)
			}
		}
		return out
	}
	return nil
}

// bsonField is a field path of a struct type as the bson struct codec
// names it.
type bsonField struct {
	path   string // dotted from the document's top level
	goName string // Go path, e.g. "Profile.SSN"
	depth  int    // inline depth, for the dominance rule
	tag    mapenc.Tag
	tagged bool
}

// bsonFields returns the field paths of struct type t as the bson package's
// default struct codec writes them (bson tag name, else the lower-cased Go
// name; "-" skipped; ",inline" structs flattened, the shallower of two
// fields of one name winning as the codec's dominance rule says), and those
// of nested structs (through pointers, slices and arrays) as dotted paths.
// Tags are read with mapenc.ParseTag. A tag that sits on a field the codec
// never writes, or inside a map's values (no path names it), is an error.
func bsonFields(t reflect.Type) ([]bsonField, error) {
	var out []bsonField
	var walk func(st reflect.Type, prefix, goPrefix string, onStack map[reflect.Type]bool) error
	walk = func(st reflect.Type, prefix, goPrefix string, onStack map[reflect.Type]bool) error {
		if onStack[st] {
			return nil
		}
		onStack[st] = true
		defer delete(onStack, st)
		level, err := bsonLevel(t, st, goPrefix, 0, map[reflect.Type]bool{})
		if err != nil {
			return err
		}
		for _, f := range level {
			f.path = prefix + f.path
			out = append(out, f.bsonField)
			ft := f.ftype
			viaMap := false
			for {
				switch ft.Kind() {
				case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
					if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8 {
						break
					}
					viaMap = viaMap || ft.Kind() == reflect.Map
					ft = ft.Elem()
					continue
				}
				break
			}
			if ft.Kind() != reflect.Struct {
				continue
			}
			if viaMap {
				if name, ok := firstTagged(ft, map[reflect.Type]bool{}); ok {
					return &mapenc.TagError{Type: t, Field: f.goName + "." + name,
						Err: fmt.Errorf("%w: an itemcrypto tag inside the values of a map names no field path", mapenc.ErrInvalidTag)}
				}
				continue
			}
			if err := walk(ft, f.path+".", f.goName+".", onStack); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(t, "", "", map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	return out, nil
}

// bsonLevelField is a bsonField with its Go type, for the walk.
type bsonLevelField struct {
	bsonField
	ftype reflect.Type
}

// bsonLevel returns the fields of one document level of struct type st:
// its own and those of its inline structs.
func bsonLevel(top, st reflect.Type, goPrefix string, depth int, seen map[reflect.Type]bool) ([]bsonLevelField, error) {
	if seen[st] {
		return nil, nil
	}
	seen[st] = true
	var all []bsonLevelField
	for i := range st.NumField() {
		sf := st.Field(i)
		goName := goPrefix + sf.Name
		itag, hasTag := sf.Tag.Lookup("itemcrypto")
		stray := func(why string) error {
			return &mapenc.TagError{Type: top, Field: goName, Err: fmt.Errorf("%w: %s", mapenc.ErrInvalidTag, why)}
		}
		if sf.PkgPath != "" { // the default codec skips unexported fields, embedded or not
			if hasTag {
				return nil, stray("the field is unexported")
			}
			continue
		}
		name, skip, inline := bsonTag(sf)
		if skip {
			if hasTag {
				return nil, stray(`the field is skipped (bson:"-")`)
			}
			continue
		}
		if inline {
			if hasTag {
				return nil, stray("the inline struct's fields are fields of the document; tag them instead")
			}
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				continue // an inline map: its keys are data
			}
			if ft.Kind() != reflect.Struct {
				continue // the codec refuses the type
			}
			sub, err := bsonLevel(top, ft, goName+".", depth+1, seen)
			if err != nil {
				return nil, err
			}
			all = append(all, sub...)
			continue
		}
		f := bsonLevelField{bsonField: bsonField{path: name, goName: goName, depth: depth, tagged: hasTag}, ftype: sf.Type}
		if hasTag {
			tag, err := mapenc.ParseTag(itag)
			if err != nil {
				return nil, &mapenc.TagError{Type: top, Field: goName, Attribute: name, Err: err}
			}
			f.tag = tag
		}
		all = append(all, f)
	}
	if depth > 0 {
		return all, nil
	}
	// The dominance rule, at the top of the level: of the fields of one
	// name, the shallowest wins; two equally shallow are refused by the
	// codec ("duplicated key").
	byName := map[string][]int{}
	for i, f := range all {
		byName[f.path] = append(byName[f.path], i)
	}
	var out []bsonLevelField
	for i, f := range all {
		idx := byName[f.path]
		if len(idx) == 1 {
			out = append(out, f)
			continue
		}
		best := idx[0]
		for _, j := range idx[1:] {
			if all[j].depth < all[best].depth {
				best = j
			}
		}
		if i == best {
			out = append(out, f)
		} else if f.tagged {
			return nil, &mapenc.TagError{Type: top, Field: f.goName, Attribute: f.path,
				Err: fmt.Errorf("%w: field %s hides the field, which is never written", mapenc.ErrInvalidTag, all[best].goName)}
		}
	}
	return out, nil
}

// bsonTag reads a field's name as the default struct codec does: the bson
// tag, or the whole tag when it has no key and no ':', else the lower-cased
// Go name.
func bsonTag(sf reflect.StructField) (name string, skip, inline bool) {
	name = strings.ToLower(sf.Name)
	tag, ok := sf.Tag.Lookup("bson")
	if !ok && !strings.Contains(string(sf.Tag), ":") && len(sf.Tag) > 0 {
		tag = string(sf.Tag)
	}
	if tag == "-" {
		return "", true, false
	}
	for i, s := range strings.Split(tag, ",") {
		if i == 0 && s != "" {
			name = s
		}
		if s == "inline" {
			inline = true
		}
	}
	return name, false, inline
}

// firstTagged returns the Go path of a field of st (or of a struct inside
// it) with an itemcrypto tag.
func firstTagged(st reflect.Type, seen map[reflect.Type]bool) (string, bool) {
	if seen[st] {
		return "", false
	}
	seen[st] = true
	for i := range st.NumField() {
		sf := st.Field(i)
		if _, ok := sf.Tag.Lookup("itemcrypto"); ok {
			return sf.Name, true
		}
		ft := sf.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			if name, ok := firstTagged(ft, seen); ok {
				return sf.Name + "." + name, true
			}
		}
	}
	return "", false
}

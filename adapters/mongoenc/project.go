package mongoenc

import (
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// projection is a find projection that the client applies to the verified
// plaintext: the server must return whole documents, or their signatures
// could not be checked. Only inclusion and exclusion of field paths are
// supported, with MongoDB's semantics (paths through arrays apply to each
// embedded document of the array).
type projection struct {
	include bool
	// idOut: _id is excluded ({_id: 0}).
	idOut bool
	tree  projTree
}

// projTree maps a field name to its sub-tree; a nil sub-tree is a leaf
// (the whole field).
type projTree map[string]projTree

// parseProjection reads a projection, or refuses it (the error is a reason
// for an UnsafeOperationError). spec nil means no projection.
func parseProjection(spec bsoncore.Document) (*projection, string, error) {
	if spec == nil {
		return nil, "", nil
	}
	p := &projection{tree: projTree{}}
	modeSet := false
	var idSet, idIn bool
	err := forEach(spec, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
		in, ok := truthy(val)
		if !ok {
			return &projErr{key, "only inclusion and exclusion (1, 0, true, false) are supported: the client " +
				"applies the projection after verifying the whole document, and cannot evaluate projection " +
				"operators or expressions"}
		}
		if key == IDField {
			idSet, idIn = true, in
			return nil
		}
		path := split(key)
		for _, s := range path {
			if s == "" || strings.HasPrefix(s, "$") {
				return &projErr{key, "not a plain field path (positional and operator projections are not supported)"}
			}
		}
		if modeSet && in != p.include {
			return &projErr{key, "mixes inclusion and exclusion"}
		}
		modeSet, p.include = true, in
		t := p.tree
		for i, s := range path {
			sub, seen := t[s]
			last := i == len(path)-1
			switch {
			case seen && (sub == nil || last):
				return &projErr{key, "path collision with another projected path"}
			case last:
				t[s] = nil
			case !seen:
				sub = projTree{}
				t[s] = sub
			}
			t = sub
		}
		return nil
	})
	if err != nil {
		if pe, ok := err.(*projErr); ok {
			return nil, pe.field, pe
		}
		return nil, "", err
	}
	if !modeSet {
		// Only _id: {_id: 1} keeps just _id, {_id: 0} drops it.
		p.include = idSet && idIn
	}
	p.idOut = idSet && !idIn
	return p, "", nil
}

type projErr struct{ field, reason string }

func (e *projErr) Error() string { return "projection of " + strconv.Quote(e.field) + ": " + e.reason }

// truthy reads a projection value: numbers and booleans.
func truthy(v bsoncore.Value) (in, ok bool) {
	switch v.Type {
	case bsoncore.TypeBoolean:
		b, ok := v.BooleanOK()
		return b, ok
	case bsoncore.TypeInt32:
		i, ok := v.Int32OK()
		return i != 0, ok
	case bsoncore.TypeInt64:
		i, ok := v.Int64OK()
		return i != 0, ok
	case bsoncore.TypeDouble:
		f, ok := v.DoubleOK()
		return f != 0 && !math.IsNaN(f), ok
	}
	return false, false
}

// apply returns the projection of the plaintext document doc.
func (p *projection) apply(doc bson.Raw) bson.Raw {
	if p == nil {
		return doc
	}
	out := p.doc(make([]byte, 0, len(doc)), doc, p.tree, true)
	return bson.Raw(out)
}

func (p *projection) doc(dst, doc []byte, t projTree, top bool) []byte {
	idx, dst := bsoncore.ReserveLength(dst)
	_ = forEach(doc, func(elem bsoncore.Element, key string, val bsoncore.Value) error {
		if top && key == IDField {
			if !p.idOut {
				dst = append(dst, elem...)
			}
			return nil
		}
		sub, named := t[key]
		switch {
		case !named:
			if !p.include {
				dst = append(dst, elem...)
			}
		case sub == nil:
			if p.include {
				dst = append(dst, elem...)
			}
		case val.Type == bsoncore.TypeEmbeddedDocument:
			dst = bsoncore.AppendHeader(dst, val.Type, key)
			dst = p.doc(dst, val.Data, sub, false)
		case val.Type == bsoncore.TypeArray:
			dst = bsoncore.AppendHeader(dst, val.Type, key)
			dst = p.array(dst, val.Data, sub)
		default:
			if !p.include {
				dst = append(dst, elem...)
			}
		}
		return nil
	})
	dst = append(dst, 0)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst)-int(idx)))
}

// array projects the embedded documents of an array (and of arrays in it);
// in an inclusion projection its other values are dropped, in an exclusion
// they are kept.
func (p *projection) array(dst, arr []byte, t projTree) []byte {
	idx, dst := bsoncore.ReserveLength(dst)
	i := 0
	_ = forEach(arr, func(elem bsoncore.Element, _ string, val bsoncore.Value) error {
		key := strconv.Itoa(i)
		switch val.Type {
		case bsoncore.TypeEmbeddedDocument:
			dst = bsoncore.AppendHeader(dst, val.Type, key)
			dst = p.doc(dst, val.Data, t, false)
		case bsoncore.TypeArray:
			dst = bsoncore.AppendHeader(dst, val.Type, key)
			dst = p.array(dst, val.Data, t)
		default:
			if p.include {
				return nil
			}
			dst = bsoncore.AppendValueElement(dst, key, val)
		}
		i++
		return nil
	})
	dst = append(dst, 0)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst)-int(idx)))
}

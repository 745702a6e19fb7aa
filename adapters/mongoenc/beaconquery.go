package mongoenc

import (
	"bytes"
	"context"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// A filter of Find or FindOne on a collection with beacons is rewritten:
// each equality on a field with a beacon ({f: "v"}, {f: {$eq: "v"}},
// {f: {$in: ["v", ...]}}) becomes a $in on the stored beacon field
// (aws_dbe_b_<name>) of the values those strings hash to. A truncated beacon
// collides, so the server returns a superset; after decryption each document
// is evaluated against the original conditions and the false positives are
// dropped. The server evaluates every other condition exactly, so only the
// conditions whose truth is not implied by the document's being returned
// are evaluated on the client: the beacon conditions, and the conditions
// on plaintext fields inside an $or that also holds a beacon condition;
// those must be equality, $in or $exists, else the filter is refused.
// Anything a beacon cannot answer exactly (other operators on a field with
// a beacon, a non-string value, a beacon condition under $nor) is refused
// before anything is sent.

// cond is a node of the original filter, as the client evaluates it.
type cond struct {
	kind     condKind
	children []*cond
	// beacon: the field's path and the strings it may equal.
	path []string
	strs []string
	// plain: the field condition, or why the client cannot evaluate it.
	plain   *plainCond
	noEval  string
	beacons bool // the subtree holds a beacon condition
}

type condKind uint8

const (
	condAnd condKind = iota
	condOr
	condNor
	condBeacon
	condPlain
)

// plainCond is a condition on a plaintext field the client can evaluate.
type plainCond struct {
	path   []string
	eq     []bsoncore.Value // equality with any of these
	exists *bool
}

// searchFilter checks and rewrites the filter of a Find or FindOne. The
// returned cond is nil when the server's answer is exact.
func (c *Collection) searchFilter(ctx context.Context, g guard, filter any) (bson.Raw, *cond, error) {
	if c.beacons == nil {
		f, err := c.checkFilter(g, "filter", filter)
		return f, nil, err
	}
	doc, err := c.marshal(filter)
	if err != nil {
		return nil, nil, c.opErr(g.op, err)
	}
	out, root, err := c.rewrite(ctx, g, doc)
	if err != nil {
		return nil, nil, err
	}
	if !root.beacons {
		return bson.Raw(doc), nil, nil
	}
	if err := root.check(g, true); err != nil {
		return nil, nil, err
	}
	return bson.Raw(out), root, nil
}

// rewrite rewrites one filter document (an implicit $and).
func (c *Collection) rewrite(ctx context.Context, g guard, doc bsoncore.Document) (bsoncore.Document, *cond, error) {
	node := &cond{kind: condAnd}
	idx, out := bsoncore.ReserveLength(nil)
	err := forEach(doc, func(elem bsoncore.Element, key string, val bsoncore.Value) error {
		switch key {
		case "$and", "$or", "$nor":
			arr, ok := val.ArrayOK()
			if !ok {
				return g.refuse("", "filter: %s takes an array of filters", key)
			}
			sub := &cond{kind: map[string]condKind{"$and": condAnd, "$or": condOr, "$nor": condNor}[key]}
			aidx, a := bsoncore.ReserveLength(nil)
			i := 0
			err := forEach(arr, func(_ bsoncore.Element, _ string, v bsoncore.Value) error {
				d, ok := v.DocumentOK()
				if !ok {
					return g.refuse("", "filter: %s takes an array of filters", key)
				}
				rd, child, err := c.rewrite(ctx, g, d)
				if err != nil {
					return err
				}
				a = bsoncore.AppendDocumentElement(a, strconv.Itoa(i), rd)
				i++
				sub.children = append(sub.children, child)
				sub.beacons = sub.beacons || child.beacons
				return nil
			})
			if err != nil {
				return err
			}
			if sub.kind == condNor && sub.beacons {
				return g.refuse("", "filter: $nor over a condition on a field with a beacon cannot be answered exactly "+
					"(a beacon match is only a probable match; its negation would drop true matches)")
			}
			a = append(a, 0)
			a = bsoncore.UpdateLength(a, aidx, int32(len(a)))
			out = bsoncore.AppendArrayElement(out, key, a)
			node.children = append(node.children, sub)
			node.beacons = node.beacons || sub.beacons
			return nil
		}
		if f := c.beacons.byPath[key]; f != nil {
			var err error
			out, err = c.beaconCond(ctx, g, node, out, f, val)
			return err
		}
		single := bsoncore.NewDocumentBuilder().AppendValue(key, val).Build()
		if err := g.filter("filter", single); err != nil {
			return err
		}
		out = append(out, elem...)
		node.children = append(node.children, plainOf(key, val))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	out = append(out, 0)
	return bsoncore.UpdateLength(out, idx, int32(len(out))), node, nil
}

// beaconCond rewrites a condition on the beaconed field f into out and adds
// its nodes to node.
func (c *Collection) beaconCond(ctx context.Context, g guard, node *cond, out []byte, f *beaconField, val bsoncore.Value) ([]byte, error) {
	refuse := func(what string) error {
		return g.refuse(f.path, "filter: %s on %q, which is encrypted with a beacon, cannot be answered exactly: "+
			"only equality with strings ({f: \"v\"}, $eq, $in) and $exists are", what, f.path)
	}
	var strs []string
	eq := false
	addStr := func(v bsoncore.Value, what string) error {
		s, ok := v.StringValueOK()
		if !ok {
			return refuse(what + " with a " + v.Type.String())
		}
		strs = append(strs, s)
		eq = true
		return nil
	}
	ops, isDoc := val.DocumentOK()
	if isDoc && isOperatorDoc(ops) {
		err := forEach(ops, func(_ bsoncore.Element, op string, v bsoncore.Value) error {
			switch op {
			case "$eq":
				if eq {
					return refuse("more than one equality")
				}
				return addStr(v, "$eq")
			case "$in":
				if eq {
					return refuse("more than one equality")
				}
				arr, ok := v.ArrayOK()
				if !ok {
					return refuse("$in without an array")
				}
				eq = true
				return forEach(arr, func(_ bsoncore.Element, _ string, m bsoncore.Value) error { return addStr(m, "$in") })
			case "$exists":
				out = bsoncore.AppendDocumentElement(out, f.path, bsoncore.NewDocumentBuilder().AppendValue(op, v).Build())
				node.children = append(node.children, plainOf(f.path, bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument,
					Data: bsoncore.NewDocumentBuilder().AppendValue(op, v).Build()}))
				return nil
			}
			return refuse(op)
		})
		if err != nil {
			return nil, err
		}
		if !eq {
			return out, nil
		}
	} else if err := addStr(val, "equality"); err != nil {
		return nil, err
	}
	values, err := c.beacons.queryValues(ctx, f, strs)
	if err != nil {
		return nil, c.opErr(g.op, err)
	}
	in := bsoncore.NewArrayBuilder()
	for _, v := range values {
		in.AppendString(v)
	}
	out = bsoncore.AppendDocumentElement(out, f.stored(), bsoncore.NewDocumentBuilder().AppendArray("$in", in.Build()).Build())
	node.children = append(node.children, &cond{kind: condBeacon, path: f.parts, strs: strs, beacons: true})
	node.beacons = true
	return out, nil
}

// isOperatorDoc reports whether doc's first key starts with '$'.
func isOperatorDoc(doc bsoncore.Document) bool {
	e, err := doc.IndexErr(0)
	return err == nil && len(e.Key()) > 0 && e.Key()[0] == '$'
}

// plainOf compiles a condition on a plaintext field, or records why the
// client cannot evaluate it.
func plainOf(key string, val bsoncore.Value) *cond {
	n := &cond{kind: condPlain}
	if len(key) > 0 && key[0] == '$' {
		n.noEval = key
		return n
	}
	p := &plainCond{path: split(key)}
	ops, isDoc := val.DocumentOK()
	if !isDoc || !isOperatorDoc(ops) {
		if val.Type == bsoncore.TypeRegex {
			n.noEval = "a regular expression"
			return n
		}
		p.eq = []bsoncore.Value{val}
		n.plain = p
		return n
	}
	err := forEach(ops, func(_ bsoncore.Element, op string, v bsoncore.Value) error {
		switch op {
		case "$eq":
			if v.Type == bsoncore.TypeRegex || p.eq != nil {
				break
			}
			p.eq = []bsoncore.Value{v}
			return nil
		case "$in":
			arr, ok := v.ArrayOK()
			if !ok || p.eq != nil {
				break
			}
			p.eq = []bsoncore.Value{}
			return forEach(arr, func(_ bsoncore.Element, _ string, m bsoncore.Value) error {
				if m.Type == bsoncore.TypeRegex {
					return errMalformed
				}
				p.eq = append(p.eq, m)
				return nil
			})
		case "$exists":
			b := v.IsNumber() && v.AsFloat64() != 0 || v.Type == bsoncore.TypeBoolean && v.Boolean()
			p.exists = &b
			return nil
		}
		n.noEval = op
		return errMalformed
	})
	if err != nil {
		if n.noEval == "" {
			n.noEval = "this condition"
		}
		return n
	}
	n.plain = p
	return n
}

// check refuses a condition the client would have to evaluate and cannot:
// known says the server's answer for this subtree is implied by the
// document's being returned (every ancestor is an $and).
func (n *cond) check(g guard, known bool) error {
	if known && !n.beacons {
		return nil
	}
	switch n.kind {
	case condPlain:
		if n.plain == nil {
			return g.refuse("", "filter: %s inside an $or with a condition on a field with a beacon cannot be "+
				"evaluated on the decrypted documents: there, only equality, $in and $exists are", n.noEval)
		}
	case condAnd, condOr, condNor:
		for _, c := range n.children {
			if err := c.check(g, known && n.kind == condAnd); err != nil {
				return err
			}
		}
	}
	return nil
}

// match evaluates the original filter on the decrypted document doc, known
// as for check.
func (n *cond) match(doc bsoncore.Document, known bool) bool {
	if known && !n.beacons {
		return true
	}
	switch n.kind {
	case condAnd:
		for _, c := range n.children {
			if !c.match(doc, known) {
				return false
			}
		}
		return true
	case condOr:
		for _, c := range n.children {
			if c.match(doc, false) {
				return true
			}
		}
		return false
	case condNor:
		for _, c := range n.children {
			if c.match(doc, false) {
				return false
			}
		}
		return true
	case condBeacon:
		v, ok, err := lookup(doc, n.path)
		if err != nil || !ok {
			return false
		}
		s, ok := v.StringValueOK()
		if !ok {
			return false
		}
		for _, want := range n.strs {
			if s == want {
				return true
			}
		}
		return false
	case condPlain:
		return n.plain.match(doc)
	}
	return false
}

// match evaluates an equality, $in or $exists with MongoDB's rules: a path
// runs through arrays of documents, an array field matches when it or one
// of its elements is equal, numbers compare by value, null matches a
// missing field.
func (p *plainCond) match(doc bsoncore.Document) bool {
	var found []bsoncore.Value
	collectPath(bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: doc}, p.path, &found)
	if p.exists != nil && (len(found) > 0) != *p.exists {
		return false
	}
	if p.eq == nil {
		return true
	}
	for _, want := range p.eq {
		if want.Type == bsoncore.TypeNull && len(found) == 0 {
			return true
		}
		for _, v := range found {
			if equal(v, want) {
				return true
			}
			if arr, ok := v.ArrayOK(); ok {
				vals, _ := arr.Values()
				for _, e := range vals {
					if equal(e, want) {
						return true
					}
				}
			}
		}
	}
	return false
}

// collectPath appends the values at path below v.
func collectPath(v bsoncore.Value, path []string, out *[]bsoncore.Value) {
	if len(path) == 0 {
		*out = append(*out, v)
		return
	}
	switch v.Type {
	case bsoncore.TypeEmbeddedDocument:
		if e, err := v.Document().LookupErr(path[0]); err == nil {
			collectPath(e, path[1:], out)
		}
	case bsoncore.TypeArray:
		vals, _ := v.Array().Values()
		for _, e := range vals {
			if e.Type == bsoncore.TypeEmbeddedDocument {
				collectPath(e, path, out)
			}
		}
	}
}

// equal is MongoDB's equality of two values: numbers by value, anything
// else by type and bytes.
func equal(a, b bsoncore.Value) bool {
	if a.IsNumber() && b.IsNumber() && a.Type != bsoncore.TypeDecimal128 && b.Type != bsoncore.TypeDecimal128 {
		ai, aInt := a.AsInt64OK()
		bi, bInt := b.AsInt64OK()
		if aInt && bInt && a.Type != bsoncore.TypeDouble && b.Type != bsoncore.TypeDouble {
			return ai == bi
		}
		af, bf := a.AsFloat64(), b.AsFloat64()
		return af == bf || math.IsNaN(af) && math.IsNaN(bf)
	}
	return a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

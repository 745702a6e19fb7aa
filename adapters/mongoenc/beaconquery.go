package mongoenc

import (
	"bytes"
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/search"
)

// A filter of an operation on a collection with beacons is rewritten: each
// condition on a beacon becomes a condition on the stored beacon field
// (aws_dbe_b_<name>, or a signed beacon's own field) holding the values
// search.Search.Term computes for it (one per beacon partition). A
// truncated beacon collides, so the server returns a superset; after
// decryption each document is evaluated against the original conditions
// and the false positives are dropped. The server evaluates every other
// condition exactly, so only the conditions whose truth is not implied by
// the document's being returned are evaluated on the client: the beacon
// conditions, the conditions on plaintext fields inside an $or that also
// holds a beacon condition (those must be equality, $in or $exists, else
// the filter is refused), and the children of a $nor that hold a beacon
// condition (the server gets no condition for them: a beacon match is only
// a probable match, and its negation would drop true matches).
//
// The beacon conditions:
//   - a standard beacon on a field, named by the field's path: equality
//     with strings ({f: "v"}, $eq, $in) and $exists; on an AsSet beacon
//     (an array of strings) membership: {f: "v"}, $eq and $in (holds one
//     of), $all (holds each of), as MongoDB matches an array;
//   - a standard beacon on a virtual field, named by the beacon's name:
//     equality with strings (the virtual field's value);
//   - a compound beacon, named by its name: equality with strings (the
//     DB-ESDK's query value: pieces of a part's prefix and plaintext,
//     joined by the split character), and a prefix: a $regex anchored by ^
//     whose rest is a literal (see [BeginsWith]).
//
// With a multi-tenant key source the filter names the tenant by equality on
// the key field at its top level; the documents encrypted under another
// branch key are dropped before decryption.

// cond is a node of the original filter, as the client evaluates it.
type cond struct {
	kind     condKind
	children []*cond
	// beacon: the field's path and the strings it may equal.
	path []string
	strs []string
	// term: any of alts (all of them with all).
	alts []*search.Term
	all  bool
	// plain: the field condition, or why the client cannot evaluate it.
	plain   *plainCond
	noEval  string
	beacons bool // the subtree holds a beacon condition
	// keyTerm, on the root of a multi-tenant filter with beacons, says which
	// branch key the documents must have been encrypted under.
	keyTerm *search.Term
}

type condKind uint8

const (
	condAnd condKind = iota
	condOr
	condNor
	condBeacon
	condTerm
	condPlain
)

// plainCond is a condition on a plaintext field the client can evaluate.
type plainCond struct {
	path   []string
	eq     []bsoncore.Value // equality with any of these
	exists *bool
}

// filterRewriter rewrites one filter.
type filterRewriter struct {
	c      *Collection
	ctx    context.Context
	g      guard
	tenant string // the multi-tenant query's branch key
	keyed  *search.Term
}

// searchFilter checks and rewrites the filter of an operation. The
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
	rw := &filterRewriter{c: c, ctx: ctx, g: g}
	if c.beacons.keyField != "" {
		rw.tenant = c.beacons.tenant(doc)
	}
	out, root, err := rw.rewrite(doc)
	if err != nil {
		return nil, nil, err
	}
	if !root.beacons {
		return bson.Raw(doc), nil, nil
	}
	if err := root.check(g, true); err != nil {
		return nil, nil, err
	}
	root.keyTerm = rw.keyed
	return bson.Raw(out), root, nil
}

// tenant returns the branch key a multi-tenant filter names: the string
// its top level (or an $and there) requires of the key field; "" when it
// names none or several (then no beacon condition is allowed).
func (b *beacons) tenant(doc bsoncore.Document) string {
	var found []string
	var walk func(doc bsoncore.Document)
	walk = func(doc bsoncore.Document) {
		_ = forEach(doc, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
			switch key {
			case "$and":
				if arr, ok := val.ArrayOK(); ok {
					_ = forEach(arr, func(_ bsoncore.Element, _ string, v bsoncore.Value) error {
						if d, ok := v.DocumentOK(); ok {
							walk(d)
						}
						return nil
					})
				}
			case b.keyField:
				s, ok := val.StringValueOK()
				if ops, isDoc := val.DocumentOK(); isDoc && isOperatorDoc(ops) {
					if eq, err := ops.LookupErr("$eq"); err == nil {
						s, ok = eq.StringValueOK()
					}
				}
				if ok && !slices.Contains(found, s) {
					found = append(found, s)
				}
			}
			return nil
		})
	}
	walk(doc)
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// rewrite rewrites one filter document (an implicit $and).
func (rw *filterRewriter) rewrite(doc bsoncore.Document) (bsoncore.Document, *cond, error) {
	c, g := rw.c, rw.g
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
				rd, child, err := rw.rewrite(d)
				if err != nil {
					return err
				}
				sub.children = append(sub.children, child)
				sub.beacons = sub.beacons || child.beacons
				if sub.kind == condNor && child.beacons {
					return nil // the client decides it: nothing is sent
				}
				a = bsoncore.AppendDocumentElement(a, strconv.Itoa(i), rd)
				i++
				return nil
			})
			if err != nil {
				return err
			}
			if i > 0 {
				a = append(a, 0)
				a = bsoncore.UpdateLength(a, aidx, int32(len(a)))
				out = bsoncore.AppendArrayElement(out, key, a)
			}
			node.children = append(node.children, sub)
			node.beacons = node.beacons || sub.beacons
			return nil
		}
		if f := c.beacons.byPath[key]; f != nil {
			var err error
			out, err = rw.fieldCond(node, out, f, val)
			return err
		}
		if nb := c.beacons.byName[key]; nb != nil {
			var err error
			out, err = rw.namedCond(node, out, nb, val)
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

// operands reads the value of a condition on a beacon: the strings it
// compares with, by operator ("" for an implicit equality); fn is called
// for each operator in turn, with its strings (one for $eq and implicit
// equality, the members for $in and $all); any other operator, and a
// value that is not a string, goes to other.
func operands(val bsoncore.Value, fn func(op string, strs []string) error, other func(op string, v bsoncore.Value) error) error {
	ops, isDoc := val.DocumentOK()
	if !isDoc || !isOperatorDoc(ops) {
		if s, ok := val.StringValueOK(); ok {
			return fn("", []string{s})
		}
		return other("", val)
	}
	return forEach(ops, func(_ bsoncore.Element, op string, v bsoncore.Value) error {
		switch op {
		case "$eq":
			if s, ok := v.StringValueOK(); ok {
				return fn(op, []string{s})
			}
		case "$in", "$all":
			arr, ok := v.ArrayOK()
			if !ok {
				break
			}
			vals, err := arr.Values()
			if err != nil {
				return errMalformed
			}
			strs := make([]string, 0, len(vals))
			for _, m := range vals {
				s, ok := m.StringValueOK()
				if !ok {
					return other(op, m)
				}
				strs = append(strs, s)
			}
			return fn(op, strs)
		}
		return other(op, v)
	})
}

// fieldCond rewrites a condition on the field f, which has a standard
// beacon, into out and adds its nodes to node.
func (rw *filterRewriter) fieldCond(node *cond, out []byte, f *beaconField, val bsoncore.Value) ([]byte, error) {
	only := "only equality with strings ({f: \"v\"}, $eq, $in) and $exists are"
	if f.asSet {
		only = "on an AsSet beacon's array only membership of strings ({f: \"v\"}, $eq, $in, $all) and $exists are"
	}
	refuse := func(what string) error {
		return rw.g.refuse(f.path, "filter: %s on %q, which is encrypted with a beacon, cannot be answered exactly: %s", what, f.path, only)
	}
	eq := false
	err := operands(val, func(op string, strs []string) error {
		if op == "$all" && !f.asSet {
			return refuse("$all")
		}
		if op != "$all" {
			if eq {
				return refuse("more than one equality")
			}
			eq = true
		}
		match := search.Equals
		if f.asSet {
			match = search.Contains
		}
		var err error
		out, err = rw.termCond(node, out, f.name, f.stored(), match, strs, op == "$all", func(n *cond) {
			if !f.asSet {
				n.kind, n.path, n.strs = condBeacon, f.parts, strs
			}
		})
		return err
	}, func(op string, v bsoncore.Value) error {
		switch {
		case op == "$exists":
			e := bsoncore.NewDocumentBuilder().AppendValue(op, v).Build()
			out = bsoncore.AppendDocumentElement(out, f.path, e)
			node.children = append(node.children, plainOf(f.path, bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: e}))
			return nil
		case op == "":
			return refuse("equality with a " + v.Type.String())
		case op == "$eq" || op == "$in" || op == "$all":
			return refuse(op + " with a " + v.Type.String())
		}
		return refuse(op)
	})
	if errors.Is(err, errMalformed) {
		return nil, refuse("a malformed value")
	}
	return out, err
}

// namedCond rewrites a condition on the beacon nb, named by its name.
func (rw *filterRewriter) namedCond(node *cond, out []byte, nb *namedBeacon, val bsoncore.Value) ([]byte, error) {
	only := "only equality with strings ({b: \"v\"}, $eq, $in) is"
	if nb.compound {
		only = "only equality with strings ({b: \"v\"}, $eq, $in) and a literal prefix ({b: {$regex: \"^literal\"}}, see mongoenc.BeginsWith) are"
	}
	refuse := func(what string) error {
		return rw.g.refuse(nb.name, "filter: %s on the beacon %q cannot be answered exactly: %s", what, nb.name, only)
	}
	stored := search.BeaconPrefix + nb.name
	if slices.Contains(rw.c.beacons.signed, nb.name) {
		stored = nb.name
	}
	prefix, isRegex, err := regexPrefix(val)
	switch {
	case err != nil && nb.compound:
		return nil, refuse(err.Error())
	case isRegex && !nb.compound:
		return nil, refuse("a regular expression")
	case isRegex:
		return rw.termCond(node, out, nb.name, stored, search.BeginsWith, []string{prefix}, false, nil)
	}
	seen := false
	err = operands(val, func(op string, strs []string) error {
		if op == "$all" || seen {
			return refuse(map[bool]string{true: "more than one equality", false: op}[seen])
		}
		seen = true
		var err error
		out, err = rw.termCond(node, out, nb.name, stored, search.Equals, strs, false, nil)
		return err
	}, func(op string, v bsoncore.Value) error {
		if op == "" || op == "$eq" || op == "$in" {
			return refuse(strings.TrimPrefix(op+" with a ", " with a ") + v.Type.String())
		}
		return refuse(op)
	})
	if errors.Is(err, errMalformed) {
		return nil, refuse("a malformed value")
	}
	return out, err
}

// termCond appends to out the server's condition on the stored beacon
// field for the beacon condition (beacon, match, each of strs: any of them,
// or all of them with all) and adds the client's node to node (edit
// changes it first).
func (rw *filterRewriter) termCond(node *cond, out []byte, beacon, stored string, match search.Match, strs []string, all bool, edit func(*cond)) ([]byte, error) {
	b := rw.c.beacons
	if b.keyField != "" && rw.tenant == "" {
		return nil, rw.g.refuse(b.keyField, "filter: a condition on the beacon %q of a multi-tenant collection needs one tenant: "+
			"equality with a string on %q at the filter's top level", beacon, b.keyField)
	}
	n := &cond{kind: condTerm, all: all, beacons: true}
	var values [][]string
	for _, s := range strs {
		t, err := rw.term(beacon, match, s)
		if err != nil {
			return nil, err
		}
		n.alts = append(n.alts, t)
		values = append(values, t.Values)
		rw.keyed = t
	}
	in := bsoncore.NewArrayBuilder()
	var cond bsoncore.Document
	switch {
	case match == search.BeginsWith:
		for _, v := range values[0] {
			in.AppendRegex("^"+regexp.QuoteMeta(v), "")
		}
		cond = bsoncore.NewDocumentBuilder().AppendArray("$in", in.Build()).Build()
	case all && !slices.ContainsFunc(values, func(vs []string) bool { return len(vs) != 1 }):
		// {f: {$all: [...]}}: each member's one beacon.
		for _, vs := range values {
			in.AppendString(vs[0])
		}
		cond = bsoncore.NewDocumentBuilder().AppendArray("$all", in.Build()).Build()
	default:
		// Any of the values; with $all and partitions, the first member's
		// (a superset the client narrows).
		var merged []string
		for _, vs := range values {
			for _, v := range vs {
				if !slices.Contains(merged, v) {
					merged = append(merged, v)
					in.AppendString(v)
				}
			}
			if all {
				break
			}
		}
		cond = bsoncore.NewDocumentBuilder().AppendArray("$in", in.Build()).Build()
	}
	if len(strs) == 0 {
		if all {
			// {$all: []} matches nothing in MongoDB.
			cond = bsoncore.NewDocumentBuilder().AppendArray("$in", bsoncore.NewArrayBuilder().Build()).Build()
		}
		n.all = false
	}
	out = bsoncore.AppendDocumentElement(out, stored, cond)
	if edit != nil {
		edit(n)
	}
	node.children = append(node.children, n)
	node.beacons = true
	return out, nil
}

// term is the Term of one beacon condition; a condition the beacon cannot
// answer is refused.
func (rw *filterRewriter) term(beacon string, match search.Match, value string) (*search.Term, error) {
	t, err := rw.c.beacons.s.Term(rw.ctx, search.TermQuery{Beacon: beacon, Match: match,
		Value: &types.AttributeValueMemberS{Value: value}, BranchKeyID: rw.tenant})
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, search.ErrInvalidQuery):
		return nil, rw.g.refuse(beacon, "filter: %v", err)
	}
	return nil, rw.c.opErr(rw.g.op, err)
}

// regexPrefix reads a regular expression condition ({b: /re/}, {b:
// {$regex: "re", $options: ""}}): isRegex says whether val is one, prefix
// is its literal after the ^ anchor; err says why it is not a literal
// prefix.
func regexPrefix(val bsoncore.Value) (prefix string, isRegex bool, err error) {
	var pattern, opts string
	if p, o, ok := val.RegexOK(); ok {
		pattern, opts, isRegex = p, o, true
	} else if ops, isDoc := val.DocumentOK(); isDoc && isOperatorDoc(ops) {
		re, lerr := ops.LookupErr("$regex")
		if lerr != nil {
			return "", false, nil
		}
		isRegex = true
		if p, o, ok := re.RegexOK(); ok {
			pattern, opts = p, o
		} else if p, ok := re.StringValueOK(); ok {
			pattern = p
		} else {
			return "", true, errors.New("$regex that is not a string")
		}
		n := 0
		ferr := forEach(ops, func(_ bsoncore.Element, key string, v bsoncore.Value) error {
			n++
			switch key {
			case "$regex":
				return nil
			case "$options":
				o, ok := v.StringValueOK()
				if !ok {
					return errMalformed
				}
				opts += o
				return nil
			}
			return errMalformed
		})
		if ferr != nil {
			return "", true, errors.New("$regex beside another operator")
		}
	} else {
		return "", false, nil
	}
	if opts != "" {
		return "", true, errors.New("a regular expression with options")
	}
	prefix, err = literalPrefix(pattern)
	return prefix, true, err
}

// literalPrefix returns the literal a pattern "^literal" matches at the
// start: the literal's characters are any but the metacharacters
// .^$|?*+()[]{} and the backslash, which a backslash escapes (\. is a
// dot); \Q...\E quotes a run. Anything else (classes, quantifiers,
// alternatives, escapes such as \d) is refused.
func literalPrefix(pattern string) (string, error) {
	rest, ok := strings.CutPrefix(pattern, "^")
	if !ok {
		return "", errors.New("a regular expression not anchored by ^")
	}
	var b strings.Builder
	for rest != "" {
		c := rest[0]
		switch {
		case strings.HasPrefix(rest, `\Q`):
			lit, after, found := strings.Cut(rest[2:], `\E`)
			b.WriteString(lit)
			rest = after
			if !found {
				rest = ""
			}
		case c == '\\':
			if len(rest) < 2 || !isPunct(rest[1]) {
				return "", errors.New("a regular expression with an escape that is not a literal")
			}
			b.WriteByte(rest[1])
			rest = rest[2:]
		case strings.IndexByte(".^$|?*+()[]{}", c) >= 0:
			return "", errors.New("a regular expression that is not a literal prefix (an unescaped " + strconv.QuoteRune(rune(c)) + ")")
		default:
			b.WriteByte(c)
			rest = rest[1:]
		}
	}
	if b.Len() == 0 {
		return "", errors.New("an empty prefix")
	}
	return b.String(), nil
}

// isPunct reports whether c is ASCII punctuation: escaped, a literal.
func isPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}

// BeginsWith returns the filter {beacon: {$regex: "^" + the quoted
// prefix}}: the documents whose compound beacon beacon begins with prefix,
// a query value of the DB-ESDK's begins_with (pieces of a part's prefix and
// plaintext, joined by the beacon's split character; the last piece may be
// a part's bare prefix). Every regular expression metacharacter of prefix
// is escaped, so it is matched literally; add other conditions to the
// returned bson.D, or put it in an $and. An encrypted part's value in the
// prefix matches whole values only: "K-admin.E-ann@x" finds the documents
// whose E part is "ann@x", not "ann@xyz" (its beacon is not a prefix of the
// longer value's); a signed part's value may be cut ("K-adm").
func BeginsWith(beacon, prefix string) bson.D {
	return bson.D{{Key: beacon, Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(prefix)}}}
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
// document's being returned (every ancestor is an $and). The children of a
// $nor that hold no beacon condition were sent: a returned document fails
// each of them.
func (n *cond) check(g guard, known bool) error {
	if known && !n.beacons {
		return nil
	}
	switch n.kind {
	case condPlain:
		if n.plain == nil {
			return g.refuse("", "filter: %s inside an $or or a $nor with a condition on a field with a beacon cannot be "+
				"evaluated on the decrypted documents: there, only equality, $in and $exists are", n.noEval)
		}
	case condAnd, condOr, condNor:
		for _, c := range n.children {
			if n.kind == condNor && !c.beacons {
				continue
			}
			if err := c.check(g, known && n.kind == condAnd); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyMatches reports whether the stored document was encrypted under the
// branch key of the filter's tenant (always true but for multi-tenant
// beacon filters).
func (n *cond) keyMatches(stored bsoncore.Document) bool {
	if n == nil || n.keyTerm == nil {
		return true
	}
	head, err := stored.LookupErr(dbeHeadField)
	if err != nil {
		return false
	}
	_, data, ok := head.BinaryOK()
	return ok && n.keyTerm.KeyMatches(search.Item{dbeHeadField: &types.AttributeValueMemberB{Value: data}})
}

// dbeHeadField is the DB-ESDK header.
const dbeHeadField = "aws_dbe_head"

// evalDoc is a decrypted document being evaluated, with the item the
// Search reads (built once, when a term needs it).
type evalDoc struct {
	doc   bsoncore.Document
	b     *beacons
	item  search.Item
	built bool
	err   error
}

func (e *evalDoc) searchItem() search.Item {
	if !e.built {
		e.built = true
		e.item, e.err = e.b.item(e.doc, false)
	}
	return e.item
}

// keep reports whether the decrypted document doc matches the original
// filter; an error means a beacon condition cannot be evaluated on it (a
// field a beacon reads holds a value that is not a string).
func (n *cond) keep(b *beacons, doc bsoncore.Document) (bool, error) {
	e := &evalDoc{doc: doc, b: b}
	ok := n.match(e, true)
	if e.err != nil {
		return false, e.err
	}
	return ok, nil
}

// match evaluates the original filter on the decrypted document, known
// as for check.
func (n *cond) match(e *evalDoc, known bool) bool {
	if known && !n.beacons {
		return true
	}
	switch n.kind {
	case condAnd:
		for _, c := range n.children {
			if !c.match(e, known) {
				return false
			}
		}
		return true
	case condOr:
		for _, c := range n.children {
			if c.match(e, false) {
				return true
			}
		}
		return false
	case condNor:
		for _, c := range n.children {
			if c.beacons && c.match(e, false) {
				return false
			}
		}
		return true
	case condBeacon:
		v, ok, err := lookup(e.doc, n.path)
		if err != nil || !ok {
			return false
		}
		s, ok := v.StringValueOK()
		if !ok {
			return false
		}
		return slices.Contains(n.strs, s)
	case condTerm:
		item := e.searchItem()
		if e.err != nil {
			return false
		}
		for _, a := range n.alts {
			ok, err := a.Keep(item) // exact: a prefix ending in an encrypted value matches it whole
			if err != nil {
				e.err = e.b.itemErr(err)
				return false
			}
			if ok != n.all {
				return ok
			}
		}
		return n.all && len(n.alts) > 0
	case condPlain:
		return n.plain.match(e.doc)
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

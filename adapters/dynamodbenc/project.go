package dynamodbenc

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// A projection that leaves out attributes the signature covers would make
// every item unverifiable, so the client widens it: it asks DynamoDB for
// every attribute the signature may cover (the whole item, when the default
// action signs) and applies the caller's projection itself to the verified
// plaintext. Callers get what DynamoDB would have returned for a plaintext
// table; the read costs the capacity of the widened item.

// projection is a rewritten request projection and how to trim its results.
type projection struct {
	expr  *string
	names map[string]string
	// paths is the caller's projection, applied to each decrypted item;
	// nil means items are returned whole.
	paths []docPath
	// wholeItem: the projection was dropped, so Select SPECIFIC_ATTRIBUTES
	// must be dropped too.
	wholeItem bool
}

// placeholderPrefix is the start of the #placeholders the client adds to a
// request; it is made longer until no placeholder of the caller starts with
// it.
const placeholderPrefix = "#dynamodbenc"

func freshPrefix(names map[string]string) string {
	prefix := placeholderPrefix
	for {
		clash := false
		for k := range names {
			if strings.HasPrefix(k, prefix) {
				clash = true
				break
			}
		}
		if !clash {
			return prefix
		}
		prefix += "_"
	}
}

// itemShape is what widen needs of a table's encryptor.
type itemShape interface {
	Policy() *actions.Policy
	ReservedAttributes() []string
}

// widen rewrites a request's projection for the table's encryptor. others are the request's
// other expressions, whose #placeholders must stay in the names map.
// DynamoDB rejects unused names, so those only the caller's projection used
// are removed.
func widen(enc itemShape, expr *string, names map[string]string, others ...*string) (projection, error) {
	policy := enc.Policy()
	if expr == nil || *expr == "" || policy.NoOp() {
		return projection{expr: expr, names: names}, nil
	}
	paths, _, err := parseProjection(*expr, names)
	if err != nil {
		return projection{}, err
	}
	keep := map[string]bool{}
	for _, o := range others {
		if o == nil || *o == "" {
			continue
		}
		p, err := parseExpr(*o, names)
		if err != nil {
			return projection{}, err
		}
		maps.Copy(keep, p.names)
	}
	out := projection{paths: paths}
	newNames := make(map[string]string, len(keep)+8)
	for k, v := range names {
		if keep[k] {
			newNames[k] = v
		}
	}
	reserved := enc.ReservedAttributes()
	if policy.Default() != actions.DoNothing || slices.Contains(reserved, "aws_dbe_foot") {
		// Any attribute of the item may be signed (in the DB-ESDK format,
		// every attribute not allowed unsigned is): read it whole.
		out.wholeItem = true
	} else {
		need := map[string]bool{}
		for _, r := range reserved {
			need[r] = true
		}
		for _, p := range paths {
			need[p.top()] = true
		}
		for name, a := range policy.Overrides() {
			if a != actions.DoNothing {
				need[name] = true
			}
		}
		pk, sk := policy.Keys()
		for _, k := range []string{pk, sk} {
			if k != "" && policy.Action(k) != actions.DoNothing {
				need[k] = true
			}
		}
		prefix := freshPrefix(names)
		var b strings.Builder
		for i, name := range slices.Sorted(maps.Keys(need)) {
			ph := prefix + strconv.Itoa(i)
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ph)
			newNames[ph] = name
		}
		s := b.String()
		out.expr = &s
	}
	if len(newNames) > 0 {
		out.names = newNames
	}
	return out, nil
}

// trim applies the caller's projection to a decrypted item.
func (p *projection) trim(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if p.paths == nil || item == nil {
		return item
	}
	return projectItem(item, p.paths)
}

// projNode is a tree of the paths of a projection.
type projNode struct {
	all    bool
	fields map[string]*projNode
	elems  map[int]*projNode
}

func (n *projNode) child(s segment) *projNode {
	if s.isIndex {
		if n.elems == nil {
			n.elems = map[int]*projNode{}
		}
		c := n.elems[s.index]
		if c == nil {
			c = &projNode{}
			n.elems[s.index] = c
		}
		return c
	}
	if n.fields == nil {
		n.fields = map[string]*projNode{}
	}
	c := n.fields[s.name]
	if c == nil {
		c = &projNode{}
		n.fields[s.name] = c
	}
	return c
}

// projectItem returns the parts of item that paths select, as DynamoDB
// does: a nested path keeps its enclosing maps and lists (the selected list
// elements in index order, compacted); a path that is not in the item
// selects nothing.
func projectItem(item map[string]types.AttributeValue, paths []docPath) map[string]types.AttributeValue {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, s := range p {
			n = n.child(s)
		}
		n.all = true
	}
	out := make(map[string]types.AttributeValue, len(root.fields))
	for name, n := range root.fields {
		if v, ok := item[name]; ok {
			if pv, ok := n.apply(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

func (n *projNode) apply(v types.AttributeValue) (types.AttributeValue, bool) {
	if n.all {
		return v, true
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		if n.fields == nil {
			return nil, false
		}
		out := map[string]types.AttributeValue{}
		for k, c := range n.fields {
			if sv, ok := v.Value[k]; ok {
				if pv, ok := c.apply(sv); ok {
					out[k] = pv
				}
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		return &types.AttributeValueMemberM{Value: out}, true
	case *types.AttributeValueMemberL:
		if n.elems == nil {
			return nil, false
		}
		var out []types.AttributeValue
		for _, i := range slices.Sorted(maps.Keys(n.elems)) {
			if i < len(v.Value) {
				if pv, ok := n.elems[i].apply(v.Value[i]); ok {
					out = append(out, pv)
				}
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		return &types.AttributeValueMemberL{Value: out}, true
	}
	return nil, false
}

package ddbexpr

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is a DynamoDB item, as the SDK holds it.
type Item = map[string]types.AttributeValue

// Node is a node of an expression tree: an Expr or an Operand (a Call of
// size is both types but is only valid as an Operand). The set of node types
// is closed: *Path, *Value, *Compare, *Between, *In, *And, *Or, *Not, *Call.
type Node interface{ node() }

// Expr is a condition: *Compare, *Between, *In, *And, *Or, *Not, or a *Call
// of a function other than size.
type Expr interface {
	Node
	expr()
}

// Operand is a value in a condition: *Path, *Value, or a *Call of size.
type Operand interface {
	Node
	operand()
}

// PathElem is one step of a document path: a name (a top-level attribute
// or a map key) or a list index.
type PathElem struct {
	// Name is the attribute name or map key, after placeholder resolution.
	Name string
	// Placeholder is the #placeholder Name came from ("" when it was
	// written bare, or was put in by a rewriter). Format keeps it, so a
	// rewriter that changes Name changes the ExpressionAttributeNames entry
	// and not the expression.
	Placeholder string
	// Index is the list index when IsIndex.
	Index   int
	IsIndex bool
}

// Path is a document path: a top-level attribute name followed by map keys
// and list indexes (a.b[2].#c).
type Path struct {
	Elems []PathElem
}

// Value is a :value placeholder and the attribute value it stands for.
type Value struct {
	// Placeholder is the :placeholder the value came from ("" when a
	// rewriter put it in: Format then invents one).
	Placeholder string
	// V is the value. Parse shares it with the values map; nothing in this
	// package modifies it.
	V types.AttributeValue
}

// CompareOp is a comparator, spelled as in the expression.
type CompareOp string

// The comparators.
const (
	OpEq CompareOp = "="
	OpNe CompareOp = "<>"
	OpLt CompareOp = "<"
	OpLe CompareOp = "<="
	OpGt CompareOp = ">"
	OpGe CompareOp = ">="
)

// Compare is Left Op Right.
type Compare struct {
	Op          CompareOp
	Left, Right Operand
}

// Between is X BETWEEN Low AND High (both bounds included).
type Between struct {
	X, Low, High Operand
}

// In is X IN (List...): X equals one of 1 to MaxInOperands operands.
type In struct {
	X    Operand
	List []Operand
}

// And is Left AND Right.
type And struct{ Left, Right Expr }

// Or is Left OR Right.
type Or struct{ Left, Right Expr }

// Not is NOT X.
type Not struct{ X Expr }

// Func is a function name. DynamoDB's function names are case-sensitive.
type Func string

// The functions.
const (
	FuncAttributeExists    Func = "attribute_exists"     // (path)
	FuncAttributeNotExists Func = "attribute_not_exists" // (path)
	FuncAttributeType      Func = "attribute_type"       // (path, :type)
	FuncBeginsWith         Func = "begins_with"          // (operand, operand), one a path
	FuncContains           Func = "contains"             // (operand, operand), one a path
	FuncSize               Func = "size"                 // (path), an Operand
)

// Call is a function call. Args[0] is a *Path, except in begins_with and
// contains, whose two arguments are each a *Path or a *Value, at least one
// of them a *Path (DynamoDB takes contains(:set, path), "path is a member of
// :set", and begins_with(:s, path)); the second argument of attribute_type
// is a *Value holding a type name (S, SS, N, NS, B, BS, BOOL, NULL, L, M).
type Call struct {
	Func Func
	Args []Operand
}

func (*Path) node()    {}
func (*Value) node()   {}
func (*Compare) node() {}
func (*Between) node() {}
func (*In) node()      {}
func (*And) node()     {}
func (*Or) node()      {}
func (*Not) node()     {}
func (*Call) node()    {}

func (*Compare) expr() {}
func (*Between) expr() {}
func (*In) expr()      {}
func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}
func (*Call) expr()    {}

func (*Path) operand()  {}
func (*Value) operand() {}
func (*Call) operand()  {}

// Top returns the top-level attribute name of the path ("" for an empty
// path, which is invalid).
func (p *Path) Top() string {
	if len(p.Elems) == 0 {
		return ""
	}
	return p.Elems[0].Name
}

// String prints the path with names resolved (a.b[2].c), for messages and
// map keys; it is not expression syntax (names are not escaped).
func (p *Path) String() string {
	var b strings.Builder
	for i, e := range p.Elems {
		switch {
		case e.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		case i > 0:
			b.WriteByte('.')
			b.WriteString(e.Name)
		default:
			b.WriteString(e.Name)
		}
	}
	return b.String()
}

// samePath reports whether two paths name the same document path.
func samePath(a, b *Path) bool {
	if len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		x, y := a.Elems[i], b.Elems[i]
		if x.IsIndex != y.IsIndex || x.IsIndex && x.Index != y.Index || !x.IsIndex && x.Name != y.Name {
			return false
		}
	}
	return true
}

// Walk calls f on n and, when f returns true, on each of n's children in
// order (depth first, pre-order: operands left to right).
func Walk(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Compare:
		Walk(n.Left, f)
		Walk(n.Right, f)
	case *Between:
		Walk(n.X, f)
		Walk(n.Low, f)
		Walk(n.High, f)
	case *In:
		Walk(n.X, f)
		for _, o := range n.List {
			Walk(o, f)
		}
	case *And:
		Walk(n.Left, f)
		Walk(n.Right, f)
	case *Or:
		Walk(n.Left, f)
		Walk(n.Right, f)
	case *Not:
		Walk(n.X, f)
	case *Call:
		for _, o := range n.Args {
			Walk(o, f)
		}
	}
}

// Rewrite returns a rewritten copy of e; e itself is never modified. It
// works bottom-up: each node is copied, its children replaced by their
// rewritten versions, and f is called on the copy (which f may modify or
// replace) to give the node's replacement. f is called on every node,
// leaves (*Path, *Value) included, children before parents, left to right.
// A replacement must fit its place (an Operand where an operand is, an
// Expr where a condition is); the result must pass Validate. The first
// error from f, or the misfit, is returned.
func Rewrite(e Expr, f func(Node) (Node, error)) (Expr, error) {
	n, err := rewrite(e, f)
	if err != nil {
		return nil, err
	}
	out, ok := n.(Expr)
	if !ok {
		return nil, &InvalidError{Reason: "the rewriter returned an operand for the whole condition"}
	}
	if err := Validate(out); err != nil {
		return nil, err
	}
	return out, nil
}

func rewrite(n Node, f func(Node) (Node, error)) (Node, error) {
	var cp Node
	switch n := n.(type) {
	case *Path:
		c := &Path{Elems: append([]PathElem(nil), n.Elems...)}
		cp = c
	case *Value:
		c := *n
		cp = &c
	case *Compare:
		l, err := rewriteOperand(n.Left, f)
		if err != nil {
			return nil, err
		}
		r, err := rewriteOperand(n.Right, f)
		if err != nil {
			return nil, err
		}
		cp = &Compare{Op: n.Op, Left: l, Right: r}
	case *Between:
		x, err := rewriteOperand(n.X, f)
		if err != nil {
			return nil, err
		}
		lo, err := rewriteOperand(n.Low, f)
		if err != nil {
			return nil, err
		}
		hi, err := rewriteOperand(n.High, f)
		if err != nil {
			return nil, err
		}
		cp = &Between{X: x, Low: lo, High: hi}
	case *In:
		x, err := rewriteOperand(n.X, f)
		if err != nil {
			return nil, err
		}
		list, err := rewriteOperands(n.List, f)
		if err != nil {
			return nil, err
		}
		cp = &In{X: x, List: list}
	case *And:
		l, r, err := rewritePair(n.Left, n.Right, f)
		if err != nil {
			return nil, err
		}
		cp = &And{Left: l, Right: r}
	case *Or:
		l, r, err := rewritePair(n.Left, n.Right, f)
		if err != nil {
			return nil, err
		}
		cp = &Or{Left: l, Right: r}
	case *Not:
		x, err := rewriteExpr(n.X, f)
		if err != nil {
			return nil, err
		}
		cp = &Not{X: x}
	case *Call:
		args, err := rewriteOperands(n.Args, f)
		if err != nil {
			return nil, err
		}
		cp = &Call{Func: n.Func, Args: args}
	default:
		return nil, &InvalidError{Reason: "a nil or unknown node"}
	}
	out, err := f(cp)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, &InvalidError{Reason: "the rewriter returned nil"}
	}
	return out, nil
}

func rewriteOperand(o Operand, f func(Node) (Node, error)) (Operand, error) {
	if o == nil {
		return nil, &InvalidError{Reason: "a nil operand"}
	}
	n, err := rewrite(o, f)
	if err != nil {
		return nil, err
	}
	out, ok := n.(Operand)
	if !ok {
		return nil, &InvalidError{Reason: "the rewriter returned a condition where an operand is needed"}
	}
	return out, nil
}

func rewriteOperands(list []Operand, f func(Node) (Node, error)) ([]Operand, error) {
	out := make([]Operand, len(list))
	for i, o := range list {
		r, err := rewriteOperand(o, f)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func rewriteExpr(e Expr, f func(Node) (Node, error)) (Expr, error) {
	if e == nil {
		return nil, &InvalidError{Reason: "a nil condition"}
	}
	n, err := rewrite(e, f)
	if err != nil {
		return nil, err
	}
	out, ok := n.(Expr)
	if !ok {
		return nil, &InvalidError{Reason: "the rewriter returned an operand where a condition is needed"}
	}
	return out, nil
}

func rewritePair(l, r Expr, f func(Node) (Node, error)) (Expr, Expr, error) {
	l2, err := rewriteExpr(l, f)
	if err != nil {
		return nil, nil, err
	}
	r2, err := rewriteExpr(r, f)
	if err != nil {
		return nil, nil, err
	}
	return l2, r2, nil
}

// Equal reports whether two trees are the same expression: the same
// structure, operators, functions, resolved names, indexes and values
// (numbers compared as text, so N "1" and N "1.0" differ; sets as sets). Placeholders are
// not compared: "#n = :v" with #n = a equals "a = :v".
func Equal(a, b Node) bool {
	switch a := a.(type) {
	case *Path:
		b, ok := b.(*Path)
		return ok && samePath(a, b)
	case *Value:
		b, ok := b.(*Value)
		return ok && identical(a.V, b.V)
	case *Compare:
		b, ok := b.(*Compare)
		return ok && a.Op == b.Op && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	case *Between:
		b, ok := b.(*Between)
		return ok && Equal(a.X, b.X) && Equal(a.Low, b.Low) && Equal(a.High, b.High)
	case *In:
		b, ok := b.(*In)
		return ok && Equal(a.X, b.X) && equalOperands(a.List, b.List)
	case *And:
		b, ok := b.(*And)
		return ok && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	case *Or:
		b, ok := b.(*Or)
		return ok && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	case *Not:
		b, ok := b.(*Not)
		return ok && Equal(a.X, b.X)
	case *Call:
		b, ok := b.(*Call)
		return ok && a.Func == b.Func && equalOperands(a.Args, b.Args)
	}
	return false
}

func equalOperands(a, b []Operand) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

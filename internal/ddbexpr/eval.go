package ddbexpr

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Eval evaluates a condition on an item as DynamoDB does:
//
//   - A path that does not resolve (missing attribute, a map key on a
//     non-map, an index on a non-list or beyond its end) has no value.
//   - = is true when both operands have a value of the same type and equal
//     values: N as exact decimals (any precision, "1" = "1.0"), S and B by
//     their bytes, sets as unordered sets (NS by numeric value), L element
//     by element, M key by key. Different types are unequal; <> is the
//     negation of =, so it is true when an operand has no value.
//   - <, <=, >, >= and BETWEEN (bounds included) are true only when all
//     operands have values of one type among S, N, B: N as decimals, S by
//     UTF-8 bytes (code point order), B by bytes. Otherwise false.
//   - IN is true when X has a value equal (=) to one of the list.
//   - attribute_exists / attribute_not_exists test whether the path has a
//     value; attribute_type whether it has one of the given type.
//   - begins_with(x, p): both S or both B, p a prefix of x. contains(x, y):
//     S contains the S substring y, B the B subsequence y, a set has the
//     member y (of its element type), an L has an element equal to y.
//     Either operand may be the path and the other the :value:
//     contains(:set, path) is true when the path's value is in :set.
//   - size(path): the length in bytes of an S (its UTF-8 encoding) or B,
//     the number of elements of a set, L or M; no value for other types.
//
// An error (an *EvalError or *InvalidError) means Eval could not decide:
// the tree is invalid, or an operand holds a malformed number.
func Eval(e Expr, item Item) (bool, error) {
	ev := evaluator{item: item}
	return ev.cond(e)
}

type evaluator struct {
	item Item
}

func (ev *evaluator) cond(e Expr) (bool, error) {
	switch e := e.(type) {
	case *And:
		l, err := ev.cond(e.Left)
		if err != nil || !l {
			return false, err
		}
		return ev.cond(e.Right)
	case *Or:
		l, err := ev.cond(e.Left)
		if err != nil || l {
			return l, err
		}
		return ev.cond(e.Right)
	case *Not:
		x, err := ev.cond(e.X)
		return !x, err
	case *Compare:
		a, err := ev.operand(e.Left)
		if err != nil {
			return false, err
		}
		b, err := ev.operand(e.Right)
		if err != nil {
			return false, err
		}
		return compare(e.Op, a, b, e)
	case *Between:
		x, err := ev.operand(e.X)
		if err != nil {
			return false, err
		}
		lo, err := ev.operand(e.Low)
		if err != nil {
			return false, err
		}
		hi, err := ev.operand(e.High)
		if err != nil {
			return false, err
		}
		c1, ok1, err := orderErr(lo, x, e)
		if err != nil || !ok1 || c1 > 0 {
			return false, err
		}
		c2, ok2, err := orderErr(x, hi, e)
		return ok2 && c2 <= 0, err
	case *In:
		x, err := ev.operand(e.X)
		if err != nil || x == nil {
			return false, err
		}
		for _, o := range e.List {
			y, err := ev.operand(o)
			if err != nil {
				return false, err
			}
			eq, err := equalErr(x, y, e)
			if err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case *Call:
		return ev.call(e)
	}
	return false, &InvalidError{Reason: "a nil or unknown condition node"}
}

func (ev *evaluator) call(c *Call) (bool, error) {
	if r := checkCall(c); r != "" {
		return false, &InvalidError{Reason: r}
	}
	x, err := ev.operand(c.Args[0])
	if err != nil {
		return false, err
	}
	switch c.Func {
	case FuncAttributeExists:
		return x != nil, nil
	case FuncAttributeNotExists:
		return x == nil, nil
	}
	y, err := ev.operand(c.Args[1])
	if err != nil || x == nil || y == nil {
		return false, err
	}
	switch c.Func {
	case FuncAttributeType:
		s, ok := y.(*types.AttributeValueMemberS)
		return ok && typeCode(x) == s.Value, nil
	case FuncBeginsWith:
		switch x := x.(type) {
		case *types.AttributeValueMemberS:
			p, ok := y.(*types.AttributeValueMemberS)
			return ok && strings.HasPrefix(x.Value, p.Value), nil
		case *types.AttributeValueMemberB:
			p, ok := y.(*types.AttributeValueMemberB)
			return ok && bytes.HasPrefix(x.Value, p.Value), nil
		}
		return false, nil
	case FuncContains:
		return contains(x, y, c)
	}
	return false, &InvalidError{Reason: "function " + string(c.Func) + "() is not a condition"}
}

func contains(x, y types.AttributeValue, c *Call) (bool, error) {
	switch x := x.(type) {
	case *types.AttributeValueMemberS:
		s, ok := y.(*types.AttributeValueMemberS)
		return ok && strings.Contains(x.Value, s.Value), nil
	case *types.AttributeValueMemberB:
		b, ok := y.(*types.AttributeValueMemberB)
		return ok && bytes.Contains(x.Value, b.Value), nil
	case *types.AttributeValueMemberSS:
		if m, ok := y.(*types.AttributeValueMemberS); ok {
			for _, e := range x.Value {
				if e == m.Value {
					return true, nil
				}
			}
		}
		return false, nil
	case *types.AttributeValueMemberBS:
		if m, ok := y.(*types.AttributeValueMemberB); ok {
			for _, e := range x.Value {
				if bytes.Equal(e, m.Value) {
					return true, nil
				}
			}
		}
		return false, nil
	case *types.AttributeValueMemberNS:
		m, ok := y.(*types.AttributeValueMemberN)
		if !ok {
			return false, nil
		}
		dm, ok := parseDecimal(m.Value)
		if !ok {
			return false, badNumber(c.Args[1])
		}
		for _, e := range x.Value {
			de, ok := parseDecimal(e)
			if !ok {
				return false, badNumber(c.Args[0])
			}
			if cmpDecimal(de, dm) == 0 {
				return true, nil
			}
		}
		return false, nil
	case *types.AttributeValueMemberL:
		for _, e := range x.Value {
			eq, err := equalErr(e, y, c)
			if err != nil || eq {
				return eq, err
			}
		}
	}
	return false, nil
}

// operand returns the value of an operand, nil when it has none.
func (ev *evaluator) operand(o Operand) (types.AttributeValue, error) {
	switch o := o.(type) {
	case *Path:
		return resolve(ev.item, o), nil
	case *Value:
		return o.V, nil
	case *Call:
		if o.Func != FuncSize || len(o.Args) != 1 {
			return nil, &InvalidError{Reason: "function " + string(o.Func) + "() is not an operand"}
		}
		p, ok := o.Args[0].(*Path)
		if !ok {
			return nil, &InvalidError{Reason: "size() takes a document path"}
		}
		n, ok := size(resolve(ev.item, p))
		if !ok {
			return nil, nil
		}
		return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, nil
	}
	return nil, &InvalidError{Reason: "a nil or unknown operand node"}
}

func size(v types.AttributeValue) (int, bool) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value), true
	case *types.AttributeValueMemberB:
		return len(v.Value), true
	case *types.AttributeValueMemberSS:
		return len(v.Value), true
	case *types.AttributeValueMemberNS:
		return len(v.Value), true
	case *types.AttributeValueMemberBS:
		return len(v.Value), true
	case *types.AttributeValueMemberL:
		return len(v.Value), true
	case *types.AttributeValueMemberM:
		return len(v.Value), true
	}
	return 0, false
}

// resolve returns the value at path p in item, nil when there is none.
func resolve(item Item, p *Path) types.AttributeValue {
	if len(p.Elems) == 0 || p.Elems[0].IsIndex {
		return nil
	}
	v := item[p.Elems[0].Name]
	for _, e := range p.Elems[1:] {
		switch c := v.(type) {
		case *types.AttributeValueMemberM:
			if e.IsIndex {
				return nil
			}
			v = c.Value[e.Name]
		case *types.AttributeValueMemberL:
			if !e.IsIndex || e.Index < 0 || e.Index >= len(c.Value) {
				return nil
			}
			v = c.Value[e.Index]
		default:
			return nil
		}
	}
	return v
}

func compare(op CompareOp, a, b types.AttributeValue, at Node) (bool, error) {
	switch op {
	case OpEq, OpNe:
		eq, err := equalErr(a, b, at)
		return eq == (op == OpEq), err
	}
	c, ok, err := orderErr(a, b, at)
	if err != nil || !ok {
		return false, err
	}
	switch op {
	case OpLt:
		return c < 0, nil
	case OpLe:
		return c <= 0, nil
	case OpGt:
		return c > 0, nil
	case OpGe:
		return c >= 0, nil
	}
	return false, &InvalidError{Reason: "unknown comparator " + strconv.Quote(string(op))}
}

// errBadNumber marks a malformed number found while comparing; the
// callers turn it into an *EvalError naming the operand.
type errBadNumber struct{}

func (errBadNumber) Error() string { return "malformed number" }

// order compares two values of one ordered type (S, N, B); ok is false
// when they are of different or unordered types, missing, or malformed.
func order(a, b types.AttributeValue) (int, bool) {
	c, ok, err := orderRaw(a, b)
	return c, ok && err == nil
}

func orderRaw(a, b types.AttributeValue) (int, bool, error) {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		if b, ok := b.(*types.AttributeValueMemberS); ok {
			return strings.Compare(a.Value, b.Value), true, nil
		}
	case *types.AttributeValueMemberB:
		if b, ok := b.(*types.AttributeValueMemberB); ok {
			return bytes.Compare(a.Value, b.Value), true, nil
		}
	case *types.AttributeValueMemberN:
		if b, ok := b.(*types.AttributeValueMemberN); ok {
			da, ok1 := parseDecimal(a.Value)
			db, ok2 := parseDecimal(b.Value)
			if !ok1 || !ok2 {
				return 0, false, errBadNumber{}
			}
			return cmpDecimal(da, db), true, nil
		}
	}
	return 0, false, nil
}

func orderErr(a, b types.AttributeValue, at Node) (int, bool, error) {
	c, ok, err := orderRaw(a, b)
	if err != nil {
		return 0, false, nodeError(at)
	}
	return c, ok, nil
}

func equalErr(a, b types.AttributeValue, at Node) (bool, error) {
	eq, err := equal(a, b, 0)
	if err != nil {
		return false, nodeError(at)
	}
	return eq, nil
}

// nodeError reports a malformed number met while evaluating node n, naming
// the first path of n.
func nodeError(n Node) error {
	path := ""
	Walk(n, func(m Node) bool {
		if p, ok := m.(*Path); ok && path == "" {
			path = p.String()
		}
		return path == ""
	})
	return &EvalError{Path: path, Reason: "an operand holds a malformed number, or values nest deeper than 32 levels"}
}

func badNumber(o Operand) error { return nodeError(o) }

// equal is DynamoDB's =; a nil (missing) value equals nothing.
func equal(a, b types.AttributeValue, depth int) (bool, error) {
	if depth > maxValueDepth {
		return false, errBadNumber{}
	}
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value, nil
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(a.Value, b.Value), nil
	case *types.AttributeValueMemberN:
		c, ok, err := orderRaw(a, b)
		return ok && c == 0, err
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value, nil
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok, nil
	case *types.AttributeValueMemberSS:
		b, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(a.Value, b.Value, func(s string) string { return s }), nil
	case *types.AttributeValueMemberBS:
		b, ok := b.(*types.AttributeValueMemberBS)
		return ok && sameSet(a.Value, b.Value, func(s []byte) string { return string(s) }), nil
	case *types.AttributeValueMemberNS:
		b, ok := b.(*types.AttributeValueMemberNS)
		if !ok || len(a.Value) != len(b.Value) {
			return false, nil
		}
		sa, ok1 := numberSet(a.Value)
		sb, ok2 := numberSet(b.Value)
		if !ok1 || !ok2 {
			return false, errBadNumber{}
		}
		for k := range sa {
			if !sb[k] {
				return false, nil
			}
		}
		return true, nil
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(a.Value) != len(b.Value) {
			return false, nil
		}
		for i := range a.Value {
			eq, err := equal(a.Value[i], b.Value[i], depth+1)
			if err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		if !ok || len(a.Value) != len(b.Value) {
			return false, nil
		}
		for k, va := range a.Value {
			vb, ok := b.Value[k]
			if !ok {
				return false, nil
			}
			eq, err := equal(va, vb, depth+1)
			if err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	}
	return false, nil
}

// sameSet compares two sets as multisets (DynamoDB keeps no duplicates;
// counting keeps a malformed set from comparing equal to another).
func sameSet[T any](a, b []T, key func(T) string) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int, len(a))
	for _, x := range a {
		count[key(x)]++
	}
	for _, y := range b {
		k := key(y)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

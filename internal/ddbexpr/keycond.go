package ddbexpr

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ParseKeyCondition reads a KeyConditionExpression: one condition, or two
// joined by AND, each on a different top-level attribute:
//
//	key = :v
//	key < :v, key <= :v, key > :v, key >= :v
//	key BETWEEN :lo AND :hi
//	begins_with(key, :prefix)
//
// with at least one equality (the partition key's). The values must be of
// a key type (S, N or B). Anything else (OR, NOT, IN, <>, other
// functions, size, nested paths, two conditions on one attribute, two
// attributes in one condition) is refused with a *SyntaxError. Placeholders
// are resolved as by Parse.
//
// The tree is normalized: a comparison written value-first (":v < sk") is
// turned around ("sk > :v"), so every condition has its key attribute on
// the left, as Args[0] of begins_with, or as the X of BETWEEN. The result
// is a single condition or an *And of two.
func ParseKeyCondition(expr string, names map[string]string, values map[string]types.AttributeValue) (Expr, error) {
	p, err := newParser(expr, names, values)
	if err != nil {
		return nil, err
	}
	p.starts = map[Expr]int{}
	e, err := p.parse()
	if err != nil {
		return nil, err
	}
	var conds []Expr
	var flatten func(Expr)
	flatten = func(e Expr) {
		if a, ok := e.(*And); ok {
			flatten(a.Left)
			flatten(a.Right)
			return
		}
		conds = append(conds, e)
	}
	flatten(e)
	if len(conds) > 2 {
		return nil, &SyntaxError{Offset: p.starts[conds[2]], Reason: "a key condition has at most two conditions (partition key and sort key)"}
	}
	keys := make([]string, len(conds))
	hasEq := false
	for i, c := range conds {
		n, key, reason := keyCondition(c)
		if reason != "" {
			return nil, &SyntaxError{Offset: p.starts[c], Reason: reason}
		}
		if i == 1 && key == keys[0] {
			return nil, &SyntaxError{Offset: p.starts[c], Reason: fmt.Sprintf("two key conditions on attribute %q", key)}
		}
		if cmp, ok := n.(*Compare); ok && cmp.Op == OpEq {
			hasEq = true
		}
		conds[i], keys[i] = n, key
	}
	if !hasEq {
		return nil, &SyntaxError{Offset: 0, Reason: "a key condition needs an equality (=) on the partition key"}
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return &And{Left: conds[0], Right: conds[1]}, nil
}

// flipped is the comparator that keeps a comparison true when its
// operands are swapped.
func flipped(op CompareOp) CompareOp {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

// keyCondition checks one condition of a key condition and returns it
// normalized, with the key attribute it is on, or the reason it is
// refused.
func keyCondition(c Expr) (Expr, string, string) {
	switch c := c.(type) {
	case *Compare:
		if c.Op == OpNe {
			return nil, "", "<> is not allowed in a key condition"
		}
		key, val := c.Left, c.Right
		op := c.Op
		if _, ok := key.(*Value); ok {
			key, val, op = val, key, flipped(op)
		}
		name, r := keyOperands(string(c.Op), key, val)
		if r != "" {
			return nil, "", r
		}
		return &Compare{Op: op, Left: key, Right: val}, name, ""
	case *Between:
		name, r := keyOperands("BETWEEN", c.X, c.Low, c.High)
		return c, name, r
	case *Call:
		if c.Func != FuncBeginsWith {
			return nil, "", fmt.Sprintf("%s() is not allowed in a key condition", c.Func)
		}
		name, r := keyOperands("begins_with()", c.Args[0], c.Args[1])
		return c, name, r
	case *Or:
		return nil, "", "OR is not allowed in a key condition"
	case *Not:
		return nil, "", "NOT is not allowed in a key condition"
	case *In:
		return nil, "", "IN is not allowed in a key condition"
	}
	return nil, "", "not a key condition"
}

// keyOperands checks that key is a top-level attribute and vals are
// values of a key type; it returns the attribute's name.
func keyOperands(op string, key Operand, vals ...Operand) (string, string) {
	p, ok := key.(*Path)
	if !ok {
		if c, ok := key.(*Call); ok && c.Func == FuncSize {
			return "", "size() is not allowed in a key condition"
		}
		return "", op + " in a key condition names no key attribute"
	}
	if len(p.Elems) != 1 {
		return "", fmt.Sprintf("%s in a key condition is on the nested path %s; keys are top-level attributes", op, p)
	}
	for _, v := range vals {
		switch v := v.(type) {
		case *Value:
			if !scalarOrdered(typeCode(v.V)) {
				return "", fmt.Sprintf("%s on key attribute %q has a value of type %s; keys are S, N or B", op, p.Top(), typeCode(v.V))
			}
		case *Path:
			return "", fmt.Sprintf("%s in a key condition compares two attributes (%s and %s)", op, p, v)
		default:
			return "", "size() is not allowed in a key condition"
		}
	}
	return p.Top(), ""
}

package ddbexpr

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The bounds of an expression; see the package documentation.
const (
	// MaxExprLen is the longest expression Parse reads, in bytes
	// (DynamoDB's limit: 4 KB).
	MaxExprLen = 4096
	// MaxOperators bounds the comparators, BETWEEN, IN, AND, OR, NOT and
	// function calls of one expression (DynamoDB's limit: 300).
	MaxOperators = 300
	// MaxNesting bounds how deeply parentheses, NOT and function calls
	// nest; it is what bounds Parse's recursion.
	MaxNesting = 100
	// MaxPathDepth bounds the elements of a document path (DynamoDB's
	// limit: 32).
	MaxPathDepth = 32
	// MaxInOperands bounds the list of IN (DynamoDB's limit: 100).
	MaxInOperands = 100
	// maxValueDepth bounds how deeply list and map values nest (DynamoDB's
	// limit: 32).
	maxValueDepth = 32
)

// Validate checks a tree against the rules Parse enforces: every field
// set, a Call of size only as an operand and every other Call only as a
// condition, function arities and argument kinds, distinct operands,
// operand types DynamoDB accepts (ordering only on S, N, B; BETWEEN bounds
// of one type, in order; begins_with on S or B; attribute_type with a type
// name), values DynamoDB accepts, and the limits (operators, path depth,
// IN list). The error is an *InvalidError.
func Validate(e Expr) error {
	v := validator{}
	if r := v.expr(e, 0); r != "" {
		return &InvalidError{Reason: r}
	}
	return nil
}

type validator struct{ ops int }

func (v *validator) count(depth int) string {
	v.ops++
	if v.ops > MaxOperators {
		return fmt.Sprintf("more than %d operators and functions", MaxOperators)
	}
	if depth > MaxOperators {
		return "nested too deeply"
	}
	return ""
}

func (v *validator) expr(e Expr, depth int) string {
	if e == nil {
		return "a nil condition"
	}
	if r := v.count(depth); r != "" {
		return r
	}
	switch e := e.(type) {
	case *And:
		return first(v.expr(e.Left, depth+1), v.expr(e.Right, depth+1))
	case *Or:
		return first(v.expr(e.Left, depth+1), v.expr(e.Right, depth+1))
	case *Not:
		return v.expr(e.X, depth+1)
	case *Compare:
		return first(v.operand(e.Left, depth+1), v.operand(e.Right, depth+1), checkCompare(e))
	case *Between:
		return first(v.operand(e.X, depth+1), v.operand(e.Low, depth+1), v.operand(e.High, depth+1), checkBetween(e))
	case *In:
		if r := v.operand(e.X, depth+1); r != "" {
			return r
		}
		for _, o := range e.List {
			if r := v.operand(o, depth+1); r != "" {
				return r
			}
		}
		return checkIn(e)
	case *Call:
		if e.Func == FuncSize {
			return "size() is an operand, not a condition"
		}
		return v.call(e, depth)
	}
	return "an unknown condition node"
}

func (v *validator) operand(o Operand, depth int) string {
	switch o := o.(type) {
	case nil:
		return "a nil operand"
	case *Path:
		return checkPath(o)
	case *Value:
		return checkValueNode(o)
	case *Call:
		if o.Func != FuncSize {
			return fmt.Sprintf("%s() is a condition, not an operand", o.Func)
		}
		if r := v.count(depth); r != "" {
			return r
		}
		return v.call(o, depth)
	}
	return "an unknown operand node"
}

func (v *validator) call(c *Call, depth int) string {
	if r := checkCall(c); r != "" {
		return r
	}
	for _, a := range c.Args {
		if r := v.operand(a, depth+1); r != "" {
			return r
		}
	}
	return ""
}

func first(reasons ...string) string {
	for _, r := range reasons {
		if r != "" {
			return r
		}
	}
	return ""
}

func isPlaceholder(s string, sigil byte) bool {
	if len(s) < 2 || s[0] != sigil {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func checkPath(p *Path) string {
	if len(p.Elems) == 0 {
		return "an empty document path"
	}
	if len(p.Elems) > MaxPathDepth {
		return fmt.Sprintf("a document path deeper than %d", MaxPathDepth)
	}
	for i, e := range p.Elems {
		switch {
		case e.IsIndex && i == 0:
			return "a document path starts with a list index"
		case e.IsIndex && e.Index < 0:
			return "a negative list index"
		case !e.IsIndex && e.Name == "":
			return "an empty attribute name in a document path"
		case !e.IsIndex && e.Placeholder != "" && !isPlaceholder(e.Placeholder, '#'):
			return fmt.Sprintf("%q is not a #name placeholder", e.Placeholder)
		}
	}
	return ""
}

func checkValueNode(v *Value) string {
	if v.Placeholder != "" && !isPlaceholder(v.Placeholder, ':') {
		return fmt.Sprintf("%q is not a :value placeholder", v.Placeholder)
	}
	if r := checkValue(v.V, 0); r != "" {
		if v.Placeholder != "" {
			return "the value of " + v.Placeholder + " " + r
		}
		return "a value " + r
	}
	return ""
}

// distinct returns a reason when the path x is among others: DynamoDB
// refuses "a = a" ("the first operand must be distinct").
func distinct(what string, x Operand, others ...Operand) string {
	px, ok := x.(*Path)
	if !ok {
		return ""
	}
	for _, o := range others {
		if po, ok := o.(*Path); ok && samePath(px, po) {
			return fmt.Sprintf("%s has the same path %s on both sides", what, px)
		}
	}
	return ""
}

// literalType returns the type code of o when it is a *Value, "" otherwise.
func literalType(o Operand) string {
	if v, ok := o.(*Value); ok {
		return typeCode(v.V)
	}
	return ""
}

func checkCompare(c *Compare) string {
	switch c.Op {
	case OpEq, OpNe:
	case OpLt, OpLe, OpGt, OpGe:
		for _, o := range []Operand{c.Left, c.Right} {
			if t := literalType(o); t != "" && !scalarOrdered(t) {
				return fmt.Sprintf("%s compares a value of type %s (only S, N and B are ordered)", c.Op, t)
			}
		}
	default:
		return fmt.Sprintf("unknown comparator %q", string(c.Op))
	}
	return distinct(string(c.Op), c.Left, c.Right)
}

func checkBetween(b *Between) string {
	lt, ht := literalType(b.Low), literalType(b.High)
	for _, t := range []string{lt, ht} {
		if t != "" && !scalarOrdered(t) {
			return "BETWEEN has a bound of type " + t + " (only S, N and B are ordered)"
		}
	}
	if lt != "" && ht != "" {
		if lt != ht {
			return "BETWEEN has bounds of two types (" + lt + " and " + ht + ")"
		}
		if c, ok := order(b.Low.(*Value).V, b.High.(*Value).V); ok && c > 0 {
			return "BETWEEN has a lower bound greater than its upper bound"
		}
	}
	return distinct("BETWEEN", b.X, b.Low, b.High)
}

func checkIn(in *In) string {
	if len(in.List) == 0 {
		return "IN has no operands"
	}
	if len(in.List) > MaxInOperands {
		return fmt.Sprintf("IN has more than %d operands", MaxInOperands)
	}
	return distinct("IN", in.X, in.List...)
}

// arity is the number of arguments of each function.
func arity(f Func) int {
	switch f {
	case FuncAttributeExists, FuncAttributeNotExists, FuncSize:
		return 1
	case FuncAttributeType, FuncBeginsWith, FuncContains:
		return 2
	}
	return -1
}

func checkCall(c *Call) string {
	n := arity(c.Func)
	if n < 0 {
		return fmt.Sprintf("unknown function %q (function names are case-sensitive)", string(c.Func))
	}
	if len(c.Args) != n {
		return fmt.Sprintf("%s() takes %d operand(s), not %d", c.Func, n, len(c.Args))
	}
	for _, a := range c.Args {
		switch a.(type) {
		case *Path, *Value:
		default:
			return fmt.Sprintf("an operand of %s() is not a document path or a :value", c.Func)
		}
	}
	_, pathFirst := c.Args[0].(*Path)
	if n == 1 || c.Func == FuncAttributeType {
		if !pathFirst {
			return fmt.Sprintf("the first operand of %s() must be a document path", c.Func)
		}
	} else if _, pathSecond := c.Args[1].(*Path); !pathFirst && !pathSecond {
		// DynamoDB takes contains(:set, path) and begins_with(:s, path);
		// with no path at all the condition would not depend on the item.
		return fmt.Sprintf("%s() needs a document path among its operands", c.Func)
	}
	if n == 1 {
		return ""
	}
	switch c.Func {
	case FuncAttributeType:
		v, ok := c.Args[1].(*Value)
		if !ok {
			return "the second operand of attribute_type() must be a :value"
		}
		s, ok := v.V.(*types.AttributeValueMemberS)
		if !ok || !isTypeName(s.Value) {
			return "the second operand of attribute_type() must be a type name (S, SS, N, NS, B, BS, BOOL, NULL, L or M)"
		}
	case FuncBeginsWith:
		for _, a := range c.Args {
			if t := literalType(a); t != "" && t != "S" && t != "B" {
				return "begins_with() takes operands of type S or B, not " + t
			}
		}
	}
	return distinct(string(c.Func)+"()", c.Args[0], c.Args[1])
}

package ddbexpr

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Parse reads a condition expression (ConditionExpression,
// FilterExpression; a KeyConditionExpression is read by ParseKeyCondition)
// and resolves its placeholders: every #name must be in names and every
// :value in values, else a *PlaceholderError. Entries of names and values
// that the expression does not use are ignored (one request shares them
// among its expressions). The tree keeps, on each path element and value,
// the placeholder it came from. A malformed expression, or one beyond the
// package's limits, is a *SyntaxError. Values are not copied: the tree
// shares them with the map.
func Parse(expr string, names map[string]string, values map[string]types.AttributeValue) (Expr, error) {
	p, err := newParser(expr, names, values)
	if err != nil {
		return nil, err
	}
	return p.parse()
}

type parser struct {
	lx       lexer
	cur, nxt token      // the current token and the one after it
	scratch  []Operand  // IN lists being read (a stack)
	elems    []PathElem // the path being read
	// closed is the offset of the "(" whose ")" is the last token read,
	// -1 when that token is not such a ")".
	closed  int
	names   map[string]string
	values  map[string]types.AttributeValue
	checked map[string]bool // value placeholders already checked
	ops     int
	depth   int
	// starts, when non-nil, records the offset each condition starts at
	// (for ParseKeyCondition's messages).
	starts map[Expr]int
}

func newParser(expr string, names map[string]string, values map[string]types.AttributeValue) (*parser, error) {
	if len(expr) > MaxExprLen {
		return nil, &SyntaxError{Offset: MaxExprLen, Reason: fmt.Sprintf("the expression is longer than %d bytes", MaxExprLen)}
	}
	if strings.TrimSpace(expr) == "" {
		return nil, &SyntaxError{Offset: 0, Reason: "the expression is empty"}
	}
	p := &parser{lx: lexer{src: expr}, names: names, values: values, closed: -1}
	p.cur = p.lx.next()
	p.nxt = p.lx.next()
	return p, nil
}

func (p *parser) parse() (Expr, error) {
	start := p.peek().off
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	e, err := p.asExpr(n, start)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t, "AND, OR or the end of the expression")
	}
	return e, nil
}

func (p *parser) peek() token { return p.cur }

// advance moves to the next token.
func (p *parser) advance() {
	p.closed = -1
	p.cur = p.nxt
	if p.nxt.kind != tEOF && p.nxt.kind != tErr {
		p.nxt = p.lx.next()
	}
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expectPunct(s, where string) error {
	if !p.isPunct(s) {
		return p.unexpected(p.peek(), fmt.Sprintf("%q %s", s, where))
	}
	p.advance()
	return nil
}

func (p *parser) unexpected(t token, want string) error {
	if t.kind == tErr {
		return t.err
	}
	return &SyntaxError{Offset: t.off, Reason: fmt.Sprintf("expected %s, found %s", want, t)}
}

// op counts one operator or function at offset off.
func (p *parser) op(off int) error {
	p.ops++
	if p.ops > MaxOperators {
		return &SyntaxError{Offset: off, Reason: fmt.Sprintf("more than %d operators and functions", MaxOperators)}
	}
	return nil
}

// enter goes one level deeper (parenthesis, NOT, function call).
func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > MaxNesting {
		return &SyntaxError{Offset: off, Reason: fmt.Sprintf("nested deeper than %d levels", MaxNesting)}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) record(e Expr, off int) Expr {
	if p.starts != nil {
		p.starts[e] = off
	}
	return e
}

// asExpr returns n as a condition, or why it is not one.
func (p *parser) asExpr(n Node, off int) (Expr, error) {
	if c, ok := n.(*Call); ok && c.Func == FuncSize {
		return nil, &SyntaxError{Offset: off, Reason: "size() is an operand, not a condition"}
	}
	if e, ok := n.(Expr); ok {
		return e, nil
	}
	return nil, &SyntaxError{Offset: off, Reason: "an operand where a condition is expected"}
}

// asOperand returns n as an operand, or why it is not one.
func (p *parser) asOperand(n Node, off int) (Operand, error) {
	if c, ok := n.(*Call); ok && c.Func != FuncSize {
		return nil, &SyntaxError{Offset: off, Reason: fmt.Sprintf("%s() is a condition, not an operand", c.Func)}
	}
	if o, ok := n.(Operand); ok {
		return o, nil
	}
	return nil, &SyntaxError{Offset: off, Reason: "a condition where an operand is expected"}
}

// or := and (OR and)*
func (p *parser) or() (Node, error) {
	start := p.peek().off
	n, err := p.and()
	if err != nil || !p.isKeyword("or") {
		return n, err
	}
	left, err := p.asExpr(n, start)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		if err := p.op(p.peek().off); err != nil {
			return nil, err
		}
		p.advance()
		rs := p.peek().off
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		right, err := p.asExpr(n, rs)
		if err != nil {
			return nil, err
		}
		left = p.record(&Or{Left: left, Right: right}, start)
	}
	return left, nil
}

// and := not (AND not)*
func (p *parser) and() (Node, error) {
	start := p.peek().off
	n, err := p.not()
	if err != nil || !p.isKeyword("and") {
		return n, err
	}
	left, err := p.asExpr(n, start)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		if err := p.op(p.peek().off); err != nil {
			return nil, err
		}
		p.advance()
		rs := p.peek().off
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		right, err := p.asExpr(n, rs)
		if err != nil {
			return nil, err
		}
		left = p.record(&And{Left: left, Right: right}, start)
	}
	return left, nil
}

// not := NOT not | comparison
func (p *parser) not() (Node, error) {
	if !p.isKeyword("not") {
		return p.comparison()
	}
	start := p.peek().off
	if err := p.op(start); err != nil {
		return nil, err
	}
	if err := p.enter(start); err != nil {
		return nil, err
	}
	p.advance()
	if p.isKeyword("not") {
		return nil, &SyntaxError{Offset: p.peek().off, Reason: "NOT NOT needs parentheses: NOT (NOT ...)"}
	}
	xs := p.peek().off
	n, err := p.not()
	if err != nil {
		return nil, err
	}
	p.leave()
	x, err := p.asExpr(n, xs)
	if err != nil {
		return nil, err
	}
	return p.record(&Not{X: x}, start), nil
}

func comparator(t token) (CompareOp, bool) {
	if t.kind != tPunct {
		return "", false
	}
	switch op := CompareOp(t.text); op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return op, true
	}
	return "", false
}

// comparison := primary [comparator primary | BETWEEN primary AND primary |
// IN ( primary {, primary} )]
func (p *parser) comparison() (Node, error) {
	start := p.peek().off
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	op, isCmp := comparator(t)
	if !isCmp && !p.isKeyword("between") && !p.isKeyword("in") {
		return n, nil
	}
	x, err := p.asOperand(n, start)
	if err != nil {
		return nil, err
	}
	if err := p.op(t.off); err != nil {
		return nil, err
	}
	p.advance()
	var e Expr
	var reason string
	switch {
	case isCmp:
		y, err := p.operand()
		if err != nil {
			return nil, err
		}
		c := &Compare{Op: op, Left: x, Right: y}
		e, reason = c, checkCompare(c)
	case strings.EqualFold(t.text, "between"):
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("and") {
			return nil, p.unexpected(p.peek(), "AND after the lower bound of BETWEEN")
		}
		p.advance()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		b := &Between{X: x, Low: lo, High: hi}
		e, reason = b, checkBetween(b)
	default: // IN
		if err := p.expectPunct("(", "after IN"); err != nil {
			return nil, err
		}
		// The list is gathered on p.scratch (an IN inside an operand
		// pushes above it) and copied out at its exact length.
		base := len(p.scratch)
		for {
			if len(p.scratch)-base == MaxInOperands {
				return nil, &SyntaxError{Offset: p.peek().off, Reason: fmt.Sprintf("IN has more than %d operands", MaxInOperands)}
			}
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			p.scratch = append(p.scratch, o)
			if !p.isPunct(",") {
				break
			}
			p.advance()
		}
		if err := p.expectPunct(")", "or \",\" in the list of IN"); err != nil {
			return nil, err
		}
		in := &In{X: x, List: append([]Operand(nil), p.scratch[base:]...)}
		clear(p.scratch[base:])
		p.scratch = p.scratch[:base]
		e, reason = in, checkIn(in)
	}
	if reason != "" {
		return nil, &SyntaxError{Offset: start, Reason: reason}
	}
	return p.record(e, start), nil
}

func (p *parser) operand() (Operand, error) {
	start := p.peek().off
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	return p.asOperand(n, start)
}

// primary := ( or ) | function ( or {, or} ) | path | :value
func (p *parser) primary() (Node, error) {
	t := p.peek()
	switch t.kind {
	case tPunct:
		if t.text != "(" {
			break
		}
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		inner := -1 // the offset of a "(" right after this one
		if p.nxt.kind == tPunct && p.nxt.text == "(" {
			inner = p.nxt.off
		}
		p.advance()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		// "((x))": the inner pair closed right before this ")". DynamoDB
		// refuses redundant parentheses.
		if inner >= 0 && p.closed == inner && p.isPunct(")") {
			return nil, &SyntaxError{Offset: t.off, Reason: "redundant parentheses"}
		}
		if err := p.expectPunct(")", "to close the parenthesis"); err != nil {
			return nil, err
		}
		p.closed = t.off
		p.leave()
		return n, nil
	case tIdent:
		if isKeyword(t.text) {
			return nil, &SyntaxError{Offset: t.off, Reason: fmt.Sprintf("keyword %s where an operand or a condition is expected", strings.ToUpper(t.text))}
		}
		if p.nxt.kind == tPunct && p.nxt.text == "(" {
			return p.call()
		}
		return p.path()
	case tName:
		return p.path()
	case tValue:
		p.advance()
		return p.value(t)
	case tNumber:
		return nil, &SyntaxError{Offset: t.off, Reason: "a number is only allowed as a list index; use a :value placeholder"}
	}
	return nil, p.unexpected(t, "an operand or a condition")
}

func (p *parser) call() (Node, error) {
	t := p.peek()
	f := Func(t.text)
	if arity(f) < 0 {
		return nil, &SyntaxError{Offset: t.off, Reason: fmt.Sprintf("unknown function %q (function names are case-sensitive)", t.text)}
	}
	if err := p.op(t.off); err != nil {
		return nil, err
	}
	if err := p.enter(t.off); err != nil {
		return nil, err
	}
	p.advance()
	p.advance()
	// One allocation for the call and room for its operands.
	cs := &struct {
		c    Call
		args [2]Operand
	}{}
	c := &cs.c
	c.Func, c.Args = f, cs.args[:0]
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, o)
		// No function takes more than two operands: a third is read (for
		// the message) and the list stops there.
		if !p.isPunct(",") || len(c.Args) == 3 {
			break
		}
		p.advance()
	}
	if err := p.expectPunct(")", "after the operands of "+t.text+"()"); err != nil {
		return nil, err
	}
	p.leave()
	if r := checkCall(c); r != "" {
		return nil, &SyntaxError{Offset: t.off, Reason: r}
	}
	if f != FuncSize {
		p.record(c, t.off)
	}
	return c, nil
}

func (p *parser) value(t token) (*Value, error) {
	v, ok := p.values[t.text]
	if !ok {
		return nil, &PlaceholderError{Offset: t.off, Placeholder: t.text, Reason: "is not in ExpressionAttributeValues"}
	}
	if !p.checked[t.text] {
		if r := checkValue(v, 0); r != "" {
			return nil, &PlaceholderError{Offset: t.off, Placeholder: t.text, Reason: r}
		}
		if p.checked == nil {
			p.checked = map[string]bool{}
		}
		p.checked[t.text] = true
	}
	return &Value{Placeholder: t.text, V: v}, nil
}

// pathName reads one name of a path: a bare name or a #placeholder.
func (p *parser) pathName() (PathElem, error) {
	t := p.peek()
	switch {
	case t.kind == tIdent && !isKeyword(t.text):
		p.advance()
		return PathElem{Name: t.text}, nil
	case t.kind == tName:
		p.advance()
		n, ok := p.names[t.text]
		if !ok {
			return PathElem{}, &PlaceholderError{Offset: t.off, Placeholder: t.text, Reason: "is not in ExpressionAttributeNames"}
		}
		if n == "" {
			return PathElem{}, &PlaceholderError{Offset: t.off, Placeholder: t.text, Reason: "stands for an empty attribute name"}
		}
		return PathElem{Name: n, Placeholder: t.text}, nil
	}
	return PathElem{}, p.unexpected(t, "an attribute name or a #name placeholder")
}

// maxIndexDigits bounds a list index (DynamoDB items hold at most 400 KB,
// so no list is that long).
const maxIndexDigits = 9

// path := name {. name | [ digits ]}
func (p *parser) path() (*Path, error) {
	start := p.peek().off
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	// The elements are gathered on p.elems (paths do not nest) and
	// copied out at their exact length.
	elems := append(p.elems[:0], first)
	defer func() { p.elems = elems[:0] }()
	for {
		switch {
		case p.isPunct("."):
			p.advance()
			e, err := p.pathName()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		case p.isPunct("["):
			p.advance()
			t := p.peek()
			if t.kind != tNumber {
				return nil, p.unexpected(t, "a list index (digits)")
			}
			digits := strings.TrimLeft(t.text, "0")
			if len(digits) > maxIndexDigits {
				return nil, &SyntaxError{Offset: t.off, Reason: "a list index is too large"}
			}
			n := 0
			if digits != "" {
				n, _ = strconv.Atoi(digits) // at most 9 digits: cannot fail
			}
			p.advance()
			if err := p.expectPunct("]", "after a list index"); err != nil {
				return nil, err
			}
			elems = append(elems, PathElem{Index: n, IsIndex: true})
		default:
			return newPath(elems), nil
		}
		if len(elems) > MaxPathDepth {
			return nil, &SyntaxError{Offset: start, Reason: fmt.Sprintf("a document path deeper than %d", MaxPathDepth)}
		}
	}
}

// newPath copies elems into a new Path; a one-element path (the common
// case) takes one allocation.
func newPath(elems []PathElem) *Path {
	if len(elems) == 1 {
		pe := &struct {
			p    Path
			elem [1]PathElem
		}{elem: [1]PathElem{elems[0]}}
		pe.p.Elems = pe.elem[:]
		return &pe.p
	}
	return &Path{Elems: append([]PathElem(nil), elems...)}
}

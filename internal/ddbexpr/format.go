package ddbexpr

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Format prints e in DynamoDB syntax with the ExpressionAttributeNames and
// ExpressionAttributeValues it needs (nil when it needs none). Parse of
// the result gives a tree Equal to e. A path element or value that carries
// its placeholder keeps it, so a rewriter that changed a name behind a
// placeholder changes that placeholder's entry; one without a placeholder
// (written bare, or put in by a rewriter) gets a fresh one (#n0, #n1, …,
// :v0, …) that collides with none of e's. Every name is printed through a
// placeholder, so no name can clash with a DynamoDB reserved word.
//
// e should pass Validate; Format does not check it, and what it prints
// for an invalid tree is refused by Parse and by DynamoDB. The result may
// exceed MaxExprLen when a rewriter made e longer than it was.
//
// To print several expressions of one request (key condition, filter,
// projection) into one shared pair of maps, use a Printer.
func Format(e Expr) (expr string, names map[string]string, values map[string]types.AttributeValue) {
	p := NewPrinter(nil, nil)
	s := p.Format(e)
	return s, p.Names(), p.Values()
}

// Printer prints expressions into one shared set of placeholders: a
// placeholder a node carries is kept unless the set already binds it to
// something else, in which case the node gets a fresh one.
type Printer struct {
	names   map[string]string
	byName  map[string]string // name -> a placeholder bound to it
	values  map[string]types.AttributeValue
	reserve map[string]bool // placeholders the expression being printed carries
	nextN   int
	nextV   int
}

// NewPrinter returns a Printer whose maps start with copies of names and
// values (nil for none): the placeholders another part of the request
// already uses, e.g. its ProjectionExpression's. Those keep their
// meaning; a node's placeholder bound there to something else is renamed.
func NewPrinter(names map[string]string, values map[string]types.AttributeValue) *Printer {
	p := &Printer{names: map[string]string{}, byName: map[string]string{}, values: map[string]types.AttributeValue{}}
	for k, v := range names {
		p.names[k] = v
		p.byName[v] = k
	}
	for k, v := range values {
		p.values[k] = v
	}
	return p
}

// Names returns the ExpressionAttributeNames of everything printed so
// far, nil when empty (DynamoDB refuses an empty map).
func (p *Printer) Names() map[string]string {
	if len(p.names) == 0 {
		return nil
	}
	return p.names
}

// Values returns the ExpressionAttributeValues of everything printed so
// far, nil when empty.
func (p *Printer) Values() map[string]types.AttributeValue {
	if len(p.values) == 0 {
		return nil
	}
	return p.values
}

// Format prints e, adding the placeholders it uses to the Printer's maps.
func (p *Printer) Format(e Expr) string {
	p.reserve = map[string]bool{}
	Walk(e, func(n Node) bool {
		switch n := n.(type) {
		case *Path:
			for _, el := range n.Elems {
				if el.Placeholder != "" {
					p.reserve[el.Placeholder] = true
				}
			}
		case *Value:
			if n.Placeholder != "" {
				p.reserve[n.Placeholder] = true
			}
		}
		return true
	})
	var b strings.Builder
	p.expr(&b, e, precOr)
	return b.String()
}

// Precedence levels, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precAtom
)

func precedence(e Expr) int {
	switch e.(type) {
	case *Or:
		return precOr
	case *And:
		return precAnd
	case *Not:
		return precNot
	}
	return precAtom
}

func (p *Printer) expr(b *strings.Builder, e Expr, min int) {
	if precedence(e) < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch e := e.(type) {
	case *Or:
		p.expr(b, e.Left, precOr)
		b.WriteString(" OR ")
		p.expr(b, e.Right, precAnd)
	case *And:
		p.expr(b, e.Left, precAnd)
		b.WriteString(" AND ")
		p.expr(b, e.Right, precNot)
	case *Not:
		b.WriteString("NOT ")
		if _, isCall := e.X.(*Call); isCall {
			p.expr(b, e.X, precNot)
		} else {
			p.expr(b, e.X, precAtom+1) // parenthesize comparisons: NOT (a = :v)
		}
	case *Compare:
		p.operand(b, e.Left)
		b.WriteByte(' ')
		b.WriteString(string(e.Op))
		b.WriteByte(' ')
		p.operand(b, e.Right)
	case *Between:
		p.operand(b, e.X)
		b.WriteString(" BETWEEN ")
		p.operand(b, e.Low)
		b.WriteString(" AND ")
		p.operand(b, e.High)
	case *In:
		p.operand(b, e.X)
		b.WriteString(" IN (")
		for i, o := range e.List {
			if i > 0 {
				b.WriteString(", ")
			}
			p.operand(b, o)
		}
		b.WriteByte(')')
	case *Call:
		p.call(b, e)
	}
}

func (p *Printer) call(b *strings.Builder, c *Call) {
	b.WriteString(string(c.Func))
	b.WriteByte('(')
	for i, o := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		p.operand(b, o)
	}
	b.WriteByte(')')
}

func (p *Printer) operand(b *strings.Builder, o Operand) {
	switch o := o.(type) {
	case *Path:
		for i, el := range o.Elems {
			if el.IsIndex {
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(el.Index))
				b.WriteByte(']')
				continue
			}
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p.name(el))
		}
	case *Value:
		b.WriteString(p.value(o))
	case *Call:
		p.call(b, o)
	}
}

func (p *Printer) name(el PathElem) string {
	if ph := el.Placeholder; ph != "" {
		if bound, ok := p.names[ph]; !ok || bound == el.Name {
			p.bindName(ph, el.Name)
			return ph
		}
	}
	if ph, ok := p.byName[el.Name]; ok {
		return ph
	}
	ph := p.fresh("#n", &p.nextN, func(s string) bool { _, ok := p.names[s]; return ok })
	p.bindName(ph, el.Name)
	return ph
}

func (p *Printer) bindName(ph, name string) {
	p.names[ph] = name
	if _, ok := p.byName[name]; !ok {
		p.byName[name] = ph
	}
}

func (p *Printer) value(v *Value) string {
	if ph := v.Placeholder; ph != "" {
		if bound, ok := p.values[ph]; !ok || identical(bound, v.V) {
			p.values[ph] = v.V
			return ph
		}
	}
	ph := p.fresh(":v", &p.nextV, func(s string) bool { _, ok := p.values[s]; return ok })
	p.values[ph] = v.V
	return ph
}

// fresh returns prefix+n for the first n from *next on that is neither
// bound nor carried by the expression being printed.
func (p *Printer) fresh(prefix string, next *int, bound func(string) bool) string {
	for {
		ph := prefix + strconv.Itoa(*next)
		*next++
		if !bound(ph) && !p.reserve[ph] {
			return ph
		}
	}
}

package dynamodbenc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file finds the attributes a DynamoDB expression (condition, filter,
// key condition, update, projection) refers to. It is not a validator: it
// tokenizes the expression, resolves #placeholders through
// ExpressionAttributeNames and reads every document path (name or
// #placeholder, then .name, .#placeholder or [n] any number of times).
// Keywords (AND, OR, NOT, BETWEEN, IN, SET, REMOVE, ADD, DELETE) and the
// names of DynamoDB's functions before "(" are not paths; everything else that
// looks like a name is taken for an attribute. DynamoDB rejects what is
// malformed; what this parser cannot read is refused, so a request it does
// not understand is never sent.

// maxExprLen bounds the expressions we read; DynamoDB's own limit is 4 KB.
const maxExprLen = 64 << 10

var errSyntax = errors.New("cannot parse the expression")

type tokKind uint8

const (
	tIdent  tokKind = iota + 1 // a bare name or keyword
	tName                      // #placeholder
	tValue                     // :placeholder
	tNumber                    // a list index
	tPunct                     // operators and brackets
)

type token struct {
	kind tokKind
	text string
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func tokenize(s string) ([]token, error) {
	if len(s) > maxExprLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errSyntax, maxExprLen)
	}
	var toks []token
	for i := 0; i < len(s); {
		b := s[i]
		switch {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			i++
		case b == '#' || b == ':':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("%w: %q without a name at offset %d", errSyntax, b, i)
			}
			k := tName
			if b == ':' {
				k = tValue
			}
			toks = append(toks, token{k, s[i:j]})
			i = j
		case b >= '0' && b <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && isWordByte(s[j]) {
				return nil, fmt.Errorf("%w: a name starts with a digit at offset %d", errSyntax, i)
			}
			toks = append(toks, token{tNumber, s[i:j]})
			i = j
		case isWordByte(b):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		case strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<>"):
			toks = append(toks, token{tPunct, s[i : i+2]})
			i += 2
		case strings.IndexByte("=<>+-,()[].", b) >= 0:
			toks = append(toks, token{tPunct, s[i : i+1]})
			i++
		default:
			return nil, fmt.Errorf("%w: unexpected character at offset %d", errSyntax, i)
		}
	}
	return toks, nil
}

// keywords are the words of the expression grammars that are not names.
// DynamoDB does not allow any of them as a bare attribute name.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "between": true, "in": true,
	"set": true, "remove": true, "add": true, "delete": true,
}

// functions are the functions of the expression grammars. An unknown
// identifier before "(" is taken for an attribute name.
var functions = map[string]bool{
	"attribute_exists": true, "attribute_not_exists": true, "attribute_type": true,
	"begins_with": true, "contains": true, "size": true,
	"if_not_exists": true, "list_append": true,
}

// segment is one step of a document path.
type segment struct {
	name    string // attribute name or map key (resolved)
	index   int    // list index, when isIndex
	isIndex bool
}

// docPath is a document path; its first segment is a top-level attribute.
type docPath []segment

func (p docPath) top() string { return p[0].name }

// reference is one document path an expression uses.
type reference struct {
	path docPath
	// existence: the path is the whole argument of attribute_exists or
	// attribute_not_exists, which ask only whether it is there.
	existence bool
}

// parsed is what an expression refers to.
type parsed struct {
	refs []reference
	// names are the #placeholders used.
	names map[string]bool
}

type parser struct {
	toks  []token
	i     int
	names map[string]string
	used  map[string]bool
}

func (p *parser) peek(off int) (token, bool) {
	if p.i+off < len(p.toks) {
		return p.toks[p.i+off], true
	}
	return token{}, false
}

func (p *parser) isPunct(off int, s string) bool {
	t, ok := p.peek(off)
	return ok && t.kind == tPunct && t.text == s
}

// name reads one name segment: a bare name or a #placeholder.
func (p *parser) name() (string, error) {
	t, ok := p.peek(0)
	if !ok {
		return "", fmt.Errorf("%w: a path ends early", errSyntax)
	}
	switch t.kind {
	case tIdent:
		p.i++
		return t.text, nil
	case tName:
		p.i++
		p.used[t.text] = true
		v, ok := p.names[t.text]
		if !ok {
			return "", fmt.Errorf("%w: placeholder %s is not in ExpressionAttributeNames", errSyntax, t.text)
		}
		return v, nil
	}
	return "", fmt.Errorf("%w: a path has no name where one is needed", errSyntax)
}

// path reads a document path at the current token.
func (p *parser) path() (docPath, error) {
	first, err := p.name()
	if err != nil {
		return nil, err
	}
	path := docPath{{name: first}}
	for {
		switch {
		case p.isPunct(0, "."):
			p.i++
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			path = append(path, segment{name: n})
		case p.isPunct(0, "["):
			t, ok := p.peek(1)
			if !ok || t.kind != tNumber || !p.isPunct(2, "]") {
				return nil, fmt.Errorf("%w: a list index is not [number]", errSyntax)
			}
			n, err := strconv.Atoi(t.text)
			if err != nil {
				return nil, fmt.Errorf("%w: list index out of range", errSyntax)
			}
			p.i += 3
			path = append(path, segment{index: n, isIndex: true})
		default:
			return path, nil
		}
	}
}

func newParser(expr string, names map[string]string) (*parser, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks, names: names, used: map[string]bool{}}, nil
}

// parseExpr reads a condition, filter, key-condition or update expression.
func parseExpr(expr string, names map[string]string) (*parsed, error) {
	p, err := newParser(expr, names)
	if err != nil {
		return nil, err
	}
	out := &parsed{names: p.used}
	existenceArg := false
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		switch {
		case t.kind == tIdent && functions[strings.ToLower(t.text)] && p.isPunct(1, "("):
			fn := strings.ToLower(t.text)
			existenceArg = fn == "attribute_exists" || fn == "attribute_not_exists"
			p.i += 2
			continue
		case t.kind == tIdent && keywords[strings.ToLower(t.text)]:
			p.i++
		case t.kind == tIdent || t.kind == tName:
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			out.refs = append(out.refs, reference{path: path, existence: existenceArg && len(path) == 1 && p.isPunct(0, ")")})
		case t.kind == tPunct && (t.text == "." || t.text == "[" || t.text == "]"):
			return nil, fmt.Errorf("%w: %q outside a document path", errSyntax, t.text)
		default:
			p.i++
		}
		existenceArg = false
	}
	return out, nil
}

// parseProjection reads a projection expression: paths separated by commas.
func parseProjection(expr string, names map[string]string) ([]docPath, map[string]bool, error) {
	p, err := newParser(expr, names)
	if err != nil {
		return nil, nil, err
	}
	var paths []docPath
	for {
		path, err := p.path()
		if err != nil {
			return nil, nil, err
		}
		for _, q := range paths {
			if err := overlap(q, path); err != nil {
				return nil, nil, err
			}
		}
		paths = append(paths, path)
		if p.i == len(p.toks) {
			return paths, p.used, nil
		}
		if !p.isPunct(0, ",") {
			return nil, nil, fmt.Errorf("%w: a projection is paths separated by commas", errSyntax)
		}
		p.i++
	}
}

// overlap refuses two projection paths that DynamoDB refuses: one a prefix
// of the other ("a", "a.b"), or the same path read as a map and as a list
// ("a.b", "a[0]").
func overlap(p, q docPath) error {
	for i := range min(len(p), len(q)) {
		if p[i] == q[i] {
			continue
		}
		if p[i].isIndex != q[i].isIndex {
			return fmt.Errorf("%w: two document paths conflict", errSyntax)
		}
		return nil
	}
	return fmt.Errorf("%w: two document paths overlap", errSyntax)
}

// mentionsTable reports whether a PartiQL statement may refer to the named
// table: the name occurs anywhere in it, in any case, not as part of a longer
// name. It errs on the side of yes (a string literal equal to the name
// counts too): a PartiQL statement on a configured table is refused.
func mentionsTable(stmt, table string) bool {
	ls, lt := strings.ToLower(stmt), strings.ToLower(table)
	isNameByte := func(b byte) bool { return isWordByte(b) || b == '-' || b >= 0x80 }
	for off := 0; ; {
		i := strings.Index(ls[off:], lt)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(lt)
		if (i == 0 || !isNameByte(ls[i-1])) && (end == len(ls) || !isNameByte(ls[end])) {
			return true
		}
		off = i + 1
	}
}

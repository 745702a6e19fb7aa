package ddbexpr

import (
	"fmt"
	"strings"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // a bare name, keyword or function name
	tName           // #placeholder
	tValue          // :placeholder
	tNumber         // digits (a list index)
	tPunct          // = <> < <= > >= ( ) [ ] , .
	tErr            // a lexical error (in err)
)

type token struct {
	kind tokKind
	text string
	off  int
	err  *SyntaxError // for tErr
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// lexer reads an expression one token at a time; it allocates nothing
// (token texts are substrings of the expression).
type lexer struct {
	src string
	pos int
}

// next returns the next token; a character no token starts with, or a
// malformed token, is a tErr token holding the error.
func (lx *lexer) next() token {
	s, i := lx.src, lx.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	if i == len(s) {
		lx.pos = i
		return token{kind: tEOF, off: i}
	}
	b := s[i]
	j := i + 1
	kind := tPunct
	switch {
	case b == '#' || b == ':':
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j == i+1 {
			return lx.fail(i, fmt.Sprintf("%q without a placeholder name", b))
		}
		kind = tName
		if b == ':' {
			kind = tValue
		}
	case isDigit(b):
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j < len(s) && isWordByte(s[j]) {
			return lx.fail(i, "a name starts with a digit")
		}
		kind = tNumber
	case isWordByte(b):
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		kind = tIdent
	case strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<>"):
		j = i + 2
	case strings.IndexByte("=<>(),[].", b) >= 0:
	default:
		return lx.fail(i, fmt.Sprintf("unexpected character %q", b))
	}
	lx.pos = j
	return token{kind: kind, text: s[i:j], off: i}
}

func (lx *lexer) fail(off int, reason string) token {
	lx.pos = len(lx.src) // nothing after an error is read
	return token{kind: tErr, off: off, err: &SyntaxError{Offset: off, Reason: reason}}
}

// isKeyword reports whether a bare word is one of the grammar's keywords
// (in any case); they are never attribute names.
func isKeyword(w string) bool {
	switch len(w) {
	case 2:
		return strings.EqualFold(w, "or") || strings.EqualFold(w, "in")
	case 3:
		return strings.EqualFold(w, "and") || strings.EqualFold(w, "not")
	case 7:
		return strings.EqualFold(w, "between")
	}
	return false
}

func (t token) String() string {
	if t.kind == tEOF {
		return "the end of the expression"
	}
	return fmt.Sprintf("%q", t.text)
}

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
)

type token struct {
	kind tokKind
	text string
	off  int
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// tokenize splits an expression into tokens; it allocates one slice of at
// most len(s)+1 tokens (the last is tEOF).
func tokenize(s string) ([]token, error) {
	toks := make([]token, 0, min(len(s)/2+1, 64))
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
				return nil, &SyntaxError{Offset: i, Reason: fmt.Sprintf("%q without a placeholder name", b)}
			}
			k := tName
			if b == ':' {
				k = tValue
			}
			toks = append(toks, token{k, s[i:j], i})
			i = j
		case isDigit(b):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j < len(s) && isWordByte(s[j]) {
				return nil, &SyntaxError{Offset: i, Reason: "a name starts with a digit"}
			}
			toks = append(toks, token{tNumber, s[i:j], i})
			i = j
		case isWordByte(b):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		case strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<>"):
			toks = append(toks, token{tPunct, s[i : i+2], i})
			i += 2
		case strings.IndexByte("=<>(),[].", b) >= 0:
			toks = append(toks, token{tPunct, s[i : i+1], i})
			i++
		default:
			return nil, &SyntaxError{Offset: i, Reason: fmt.Sprintf("unexpected character %q", b)}
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
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

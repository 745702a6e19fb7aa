package ddbexpr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// parseValid are expressions Parse accepts, with their structure.
var parseValid = []struct{ expr, want string }{
	{"a = :v", "(= a :v)"},
	{"#n = :v", "(= name :v)"},
	{"a <> :v", "(<> a :v)"},
	{"a < :v", "(< a :v)"},
	{"a <= :v", "(<= a :v)"},
	{"a > :v", "(> a :v)"},
	{"a >= :v", "(>= a :v)"},
	{":v = a", "(= :v a)"},
	{"a = b", "(= a b)"},
	{":v = :w", "(= :v :w)"},
	{"a.b[2].#c = :v", "(= a.b[2].cc :v)"},
	{"#dot = :v", "(= a.b :v)"}, // a placeholder's name may hold a dot: one attribute
	{"a[0][1] = :v", "(= a[0][1] :v)"},
	{"a . b [ 1 ] = :v", "(= a.b[1] :v)"},
	{"a[007] = :v", "(= a[7] :v)"},
	{"_x1 = :v", "(= _x1 :v)"},
	{"a BETWEEN :lo AND :hi", "(between a :lo :hi)"},
	{"a BETWEEN b AND c", "(between a b c)"},
	{"a IN (:v)", "(in a :v)"},
	{"a IN (:v, :w, b)", "(in a :v :w b)"},
	{"attribute_exists(a)", "(attribute_exists a)"},
	{"attribute_not_exists(a.b)", "(attribute_not_exists a.b)"},
	{"attribute_type(a, :tS)", "(attribute_type a :tS)"},
	{"begins_with(a, :p)", "(begins_with a :p)"},
	{"begins_with(a, :bp)", "(begins_with a :bp)"},
	{"begins_with(a, b)", "(begins_with a b)"},
	{"contains(a, :v)", "(contains a :v)"},
	{"contains(a, b)", "(contains a b)"},
	{"contains(a, :m)", "(contains a :m)"},
	{"contains(:v, a)", "(contains :v a)"},
	{"begins_with(:p, a)", "(begins_with :p a)"},
	{"size(a) > :n", "(> (size a) :n)"},
	{":n < size(a)", "(< :n (size a))"},
	{"size(a) BETWEEN :lo AND :hi", "(between (size a) :lo :hi)"},
	{"size(a) IN (:n, size(b))", "(in (size a) :n (size b))"},
	{"size(a) = size(b)", "(= (size a) (size b))"},
	// Precedence: NOT over AND over OR; AND and OR to the left.
	{"a = :v OR b = :v AND c = :v", "(or (= a :v) (and (= b :v) (= c :v)))"},
	{"a = :v AND b = :v OR c = :v", "(or (and (= a :v) (= b :v)) (= c :v))"},
	{"NOT a = :v AND b = :v", "(and (not (= a :v)) (= b :v))"},
	{"NOT a = :v OR b = :v", "(or (not (= a :v)) (= b :v))"},
	{"a = :v AND NOT b = :v", "(and (= a :v) (not (= b :v)))"},
	{"NOT (a = :v OR b = :v)", "(not (or (= a :v) (= b :v)))"},
	{"(a = :v OR b = :v) AND c = :v", "(and (or (= a :v) (= b :v)) (= c :v))"},
	{"a = :v AND (b = :v OR c = :v)", "(and (= a :v) (or (= b :v) (= c :v)))"},
	{"a = :v AND b = :v AND c = :v", "(and (and (= a :v) (= b :v)) (= c :v))"},
	{"a = :v OR b = :v OR c = :v", "(or (or (= a :v) (= b :v)) (= c :v))"},
	{"NOT (NOT a = :v)", "(not (not (= a :v)))"},
	{"NOT attribute_exists(a)", "(not (attribute_exists a))"},
	{"a BETWEEN :lo AND :hi AND b = :v", "(and (between a :lo :hi) (= b :v))"},
	{"a BETWEEN :lo AND :hi OR NOT b IN (:v, :w)", "(or (between a :lo :hi) (not (in b :v :w)))"},
	{"contains(a, :v) AND attribute_exists(b) OR size(c) < :n", "(or (and (contains a :v) (attribute_exists b)) (< (size c) :n))"},
	// Keywords in any case.
	{"a = :v and b = :v or c = :v", "(or (and (= a :v) (= b :v)) (= c :v))"},
	{"a BeTwEeN :lo aNd :hi", "(between a :lo :hi)"},
	{"not a In (:v)", "(not (in a :v))"},
	// Whitespace and parentheses.
	{"  a=:v  ", "(= a :v)"},
	{"a\t=\r\n:v", "(= a :v)"},
	{"(a) = :v", "(= a :v)"},
	{"((a = :v) AND b = :v)", "(and (= a :v) (= b :v))"},
	{"(a = :v AND (b = :v))", "(and (= a :v) (= b :v))"},
	{"(size(a)) > :n", "(> (size a) :n)"},
	{"a IN ((:v), b)", "(in a :v b)"},
	{"NOT(a = :v)", "(not (= a :v))"},
	// A function name is a name unless "(" follows; a word beginning
	// with a keyword is a name.
	{"contains = :v", "(= contains :v)"},
	{"android = :v AND notes = :w", "(and (= android :v) (= notes :w))"},
	{"a.b = a.c", "(= a.b a.c)"},
	{"a[0] = a[1]", "(= a[0] a[1])"},
}

func TestParseValid(t *testing.T) {
	tests := parseValid
	for _, tt := range tests {
		e, err := Parse(tt.expr, testNames, testValues())
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if got := sexpr(e); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.expr, got, tt.want)
		}
		if err := Validate(e); err != nil {
			t.Errorf("Validate(Parse(%q)): %v", tt.expr, err)
		}
	}
}

func TestParsePlaceholdersKept(t *testing.T) {
	e, err := Parse("#n.#c[1] = :v", testNames, testValues())
	if err != nil {
		t.Fatal(err)
	}
	c := e.(*Compare)
	p := c.Left.(*Path)
	want := []PathElem{{Name: "name", Placeholder: "#n"}, {Name: "cc", Placeholder: "#c"}, {Index: 1, IsIndex: true}}
	if fmt.Sprint(p.Elems) != fmt.Sprint(want) {
		t.Errorf("elements %v, want %v", p.Elems, want)
	}
	if v := c.Right.(*Value); v.Placeholder != ":v" || !identical(v.V, testValues()[":v"]) {
		t.Errorf("value %+v", v)
	}
	bare, err := Parse("a = :v", nil, testValues())
	if err != nil {
		t.Fatal(err)
	}
	if ph := bare.(*Compare).Left.(*Path).Elems[0].Placeholder; ph != "" {
		t.Errorf("a bare name has placeholder %q", ph)
	}
}

type refusal struct {
	expr   string
	reason string // a part of the message
	offset int    // -1: not checked
}

// parseRefusals are refused by Parse (and, for those marked in
// dynaliteRefused, by dynalite too: see TestDynaliteRefusesToo).
var parseRefusals = []refusal{
	{"", "empty", 0},
	{"   ", "empty", 0},
	{"a", "operand where a condition", 0},
	{":v", "operand where a condition", 0},
	{"a =", "found the end", 3},
	{"= :v", "expected an operand", 0},
	{"a = :v b", "expected AND, OR or the end", 7},
	{"a == :v", "expected an operand", 3},
	{"a = = :v", "expected an operand", 4},
	{"a = 5", "only allowed as a list index", 4},
	{"a = 'x'", "unexpected character", 4},
	{"a = \"x\"", "unexpected character", 4},
	{"a = :v AND", "found the end", 10},
	{"a = :v AND b", "operand where a condition", 11},
	{"a = :v OR", "found the end", 9},
	{"a = :v)", "expected AND, OR or the end", 6},
	{"(a = :v", "to close the parenthesis", 7},
	{"()", "expected an operand", 1},
	{"a BETWEEN :lo", "AND after the lower bound", 13},
	{"a BETWEEN :lo OR :hi", "AND after the lower bound", 14},
	{"a IN ()", "expected an operand", 6},
	{"a IN :v", "\"(\" after IN", 5},
	{"a IN (:v", "in the list of IN", 8},
	{"a IN (:v :w)", "in the list of IN", 9},
	{"NOT", "found the end", 3},
	{"NOT a", "operand where a condition", 4},
	{"NOT size(a)", "size() is an operand", 4},
	{"size(a)", "size() is an operand", 0},
	{"size(a) AND a = :v", "size() is an operand", 0},
	{"attribute_exists(a) = :v", "attribute_exists() is a condition, not an operand", 0},
	{"a IN (attribute_exists(b))", "attribute_exists() is a condition", 6},
	{"(a = :v) = :w", "a condition where an operand", 0},
	{"a = (b = :v)", "a condition where an operand", 4},
	{"Attribute_Exists(a)", "unknown function", 0},
	{"SIZE(a) > :n", "unknown function", 0},
	{"foo(a)", "unknown function", 0},
	{"attribute_exists(:v)", "first operand of attribute_exists() must be a document path", 0},
	{"attribute_exists(a, b)", "takes 1 operand(s), not 2", 0},
	{"attribute_exists()", "expected an operand", 17},
	{"begins_with(a)", "takes 2 operand(s), not 1", 0},
	{"contains(a, :v, :w)", "takes 2 operand(s)", 0},
	{"contains(a, b, c, d)", "\")\" after the operands of contains()", 16},
	{"contains(:v, :w)", "contains() needs a document path among its operands", 0},
	{"begins_with(:v, :w)", "begins_with() needs a document path among its operands", 0},
	{"begins_with(:n, a)", "begins_with() takes operands of type S or B, not N", 0},
	{"attribute_type(:tS, a)", "first operand of attribute_type() must be a document path", 0},
	{"contains(size(a), :v)", "is not a document path or a :value", 0},
	{"contains(a, size(b))", "is not a document path or a :value", 0},
	{"size(size(a)) > :n", "is not a document path or a :value", 0},
	{"size(:v) > :n", "first operand of size() must be a document path", 0},
	{"a = a", "same path a on both sides", 0},
	{"a.b[1] = a.b[1]", "same path", 0},
	{"#n = name", "same path", 0},
	{"contains(a, a)", "same path", 0},
	{"begins_with(a.b, a.b)", "same path", 0},
	{"a BETWEEN a AND :hi", "same path", 0},
	{"a IN (:v, a)", "same path", 0},
	{"a < :bool", "only S, N and B are ordered", 0},
	{"a >= :ss", "only S, N and B are ordered", 0},
	{"a BETWEEN :null AND :hi", "only S, N and B are ordered", 0},
	{"a BETWEEN :lo AND :s", "two types", 0},
	{"a BETWEEN :hi AND :lo", "lower bound greater than its upper bound", 0},
	{"a BETWEEN :shi AND :slo", "lower bound greater", 0},
	{"begins_with(a, :n)", "operands of type S or B, not N", 0},
	{"begins_with(a, :l)", "not L", 0},
	{"attribute_type(a, :tbad)", "must be a type name", 0},
	{"attribute_type(a, :n)", "must be a type name", 0},
	{"attribute_type(a, b)", "must be a :value", 0},
	{"and = :v", "keyword AND", 0},
	{"a = :v AND or = :w", "keyword OR", 11},
	{"a.in = :v", "attribute name or a #name placeholder", 2},
	{"a[x] = :v", "a list index", 2},
	{"a[1 = :v", "\"]\" after a list index", 4},
	{"a[-1] = :v", "unexpected character", 2},
	{"[1] = :v", "expected an operand", 0},
	{"a.[1] = :v", "attribute name or a #name placeholder", 2},
	{"a. = :v", "attribute name or a #name placeholder", 3},
	{"a[1234567890] = :v", "list index is too large", 2},
	{"1a = :v", "starts with a digit", 0},
	{"# = :v", "without a placeholder name", 0},
	{"a = :", "without a placeholder name", 4},
	{"a = :v.b", "expected AND, OR or the end", 6},
	{"a = :v[0]", "expected AND, OR or the end", 6},
	{"é = :v", "unexpected character", 0},
	{"((a = :v))", "redundant parentheses", 0},
	{"NOT ((a = :v))", "redundant parentheses", 4},
	{"((a)) = :v", "redundant parentheses", 0},
	{"a = :v AND ( (b = :v) )", "redundant parentheses", 11},
	{"NOT NOT a = :v", "NOT NOT needs parentheses", 4},
}

func TestParseRefusals(t *testing.T) {
	for _, tt := range parseRefusals {
		_, err := Parse(tt.expr, testNames, testValues())
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.expr, err)
			continue
		}
		if !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("Parse(%q): %q lacks %q", tt.expr, se.Reason, tt.reason)
		}
		if tt.offset >= 0 && se.Offset != tt.offset {
			t.Errorf("Parse(%q): offset %d, want %d (%v)", tt.expr, se.Offset, tt.offset, se)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Parse(%q): the error shows a value: %v", tt.expr, err)
		}
	}
}

func TestParsePlaceholderErrors(t *testing.T) {
	tests := []struct {
		expr, placeholder, reason string
		offset                    int
	}{
		{"a = :missing", ":missing", "not in ExpressionAttributeValues", 4},
		{"#missing = :v", "#missing", "not in ExpressionAttributeNames", 0},
		{"a.#missing = :v", "#missing", "not in ExpressionAttributeNames", 2},
		{"#empty = :v", "#empty", "empty attribute name", 0},
		{"a = :badnum", ":badnum", "not a decimal", 4},
		{"a = :emptyset", ":emptyset", "empty set", 4},
		{"a = :dupset", ":dupset", "duplicates", 4},
		{"a = :dupns", ":dupns", "duplicates", 4},
		{"a = :nilv", ":nilv", "no value", 4},
		{"a = :big", ":big", "more than 38 significant digits", 4},
		{"a = :huge", ":huge", "outside DynamoDB's range", 4},
		{"a = :small", ":small", "outside DynamoDB's range", 4},
		{"a IN (:v, :bigset)", ":bigset", "more than 38", 10},
		{"a = :v AND b = :deep", ":deep", "deeper than 32", 15},
	}
	names := map[string]string{"#empty": ""}
	vals := testValues()
	deep := s("x")
	for range 33 {
		deep = l(deep)
	}
	vals[":deep"] = deep
	for _, tt := range tests {
		_, err := Parse(tt.expr, names, vals)
		var pe *PlaceholderError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *PlaceholderError", tt.expr, err)
			continue
		}
		if pe.Placeholder != tt.placeholder || !strings.Contains(pe.Reason, tt.reason) || pe.Offset != tt.offset {
			t.Errorf("Parse(%q) = %+v, want %s %q at %d", tt.expr, pe, tt.placeholder, tt.reason, tt.offset)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Parse(%q): the error shows a value: %v", tt.expr, err)
		}
	}
}

// repeatJoin returns n copies of s joined by sep.
func repeatJoin(s, sep string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

func TestParseLimits(t *testing.T) {
	inList := func(k int) string { return "a IN (" + repeatJoin(":v", ", ", k) + ")" }
	path := func(k int) string { return "a" + strings.Repeat(".b", k-1) + " = :v" }
	// 150 comparisons and 149 ANDs are 299 operators; 151 and 150 are 301.
	ands := func(k int) string { return repeatJoin("a = :v", " AND ", k) }
	nest := func(k int) string { return strings.Repeat("(a = :v AND ", k) + "a = :v" + strings.Repeat(")", k) }
	nots := func(k int) string { return strings.Repeat("NOT (", k-1) + "NOT a = :v" + strings.Repeat(")", k-1) }
	tests := []struct {
		name, ok, refused, reason string
	}{
		{"IN operands", inList(MaxInOperands), inList(MaxInOperands + 1), "more than 100 operands"},
		{"path depth", path(MaxPathDepth), path(MaxPathDepth + 1), "deeper than 32"},
		{"operators", ands(150), ands(151), "more than 300 operators"},
		{"parentheses", nest(MaxNesting), nest(MaxNesting + 1), "nested deeper than 100"},
		{"NOT", nots(MaxNesting / 2), nots(MaxNesting/2 + 1), "nested deeper than 100"},
		{"length", "a = :v" + strings.Repeat(" ", MaxExprLen-6), "a = :v" + strings.Repeat(" ", MaxExprLen-5), "longer than 4096 bytes"},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.ok, nil, testValues()); err != nil {
			t.Errorf("%s: at the limit: %v", tt.name, err)
		}
		_, err := Parse(tt.refused, nil, testValues())
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("%s: beyond the limit: %v, want a *SyntaxError with %q", tt.name, err, tt.reason)
		}
	}
	// A deep nesting far beyond the limit is refused at the limit, without
	// recursing further.
	deep := strings.Repeat("(", MaxExprLen)
	if _, err := Parse(deep, nil, nil); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Parse(4096 × \"(\") = %v", err)
	}
}

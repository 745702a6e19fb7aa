package ddbexpr

import (
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// roundTrip checks that Format(e) parses back to a tree Equal to e, that
// every placeholder e carries is kept, and returns the printed text.
func roundTrip(t testing.TB, e Expr) string {
	t.Helper()
	text, names, values := Format(e)
	back, err := Parse(text, names, values)
	if err != nil {
		t.Fatalf("Parse(Format(%s)) = %q: %v", sexpr(e), text, err)
	}
	if !Equal(e, back) {
		t.Fatalf("Parse(Format(e)) differs:\n  e    %s\n  text %q\n  back %s", sexpr(e), text, sexpr(back))
	}
	kept := map[string]bool{}
	Walk(back, func(n Node) bool {
		collectPlaceholders(n, kept)
		return true
	})
	carried := map[string]bool{}
	Walk(e, func(n Node) bool {
		collectPlaceholders(n, carried)
		return true
	})
	for ph := range carried {
		if !kept[ph] {
			t.Fatalf("Format(%s) = %q dropped the placeholder %s", sexpr(e), text, ph)
		}
	}
	if len(names) == 0 && names != nil || len(values) == 0 && values != nil {
		t.Fatalf("Format returned an empty map (DynamoDB refuses them): %v %v", names, values)
	}
	return text
}

func collectPlaceholders(n Node, into map[string]bool) {
	switch n := n.(type) {
	case *Path:
		for _, el := range n.Elems {
			if el.Placeholder != "" {
				into[el.Placeholder] = true
			}
		}
	case *Value:
		if n.Placeholder != "" {
			into[n.Placeholder] = true
		}
	}
}

func TestFormatRoundTripCorpus(t *testing.T) {
	for _, tt := range parseValid {
		e, err := Parse(tt.expr, testNames, testValues())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, e)
	}
}

func TestFormatText(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"#n = :v", "#n = :v"},
		{"a = :v", "#n0 = :v"},
		{"a.#c[1] = a.d", "#n0.#c[1] = #n0.#n1"},
		{"a = :v OR b = :v AND c = :v", "#n0 = :v OR #n1 = :v AND #n2 = :v"},
		{"(a = :v OR b = :v) AND c = :v", "(#n0 = :v OR #n1 = :v) AND #n2 = :v"},
		{"a = :v AND (b = :v AND c = :v)", "#n0 = :v AND (#n1 = :v AND #n2 = :v)"},
		{"a = :v OR (b = :v OR c = :v)", "#n0 = :v OR (#n1 = :v OR #n2 = :v)"},
		{"NOT a = :v", "NOT (#n0 = :v)"},
		{"NOT (a = :v AND b = :v)", "NOT (#n0 = :v AND #n1 = :v)"},
		{"NOT attribute_exists(a)", "NOT attribute_exists(#n0)"},
		{"a BETWEEN :lo AND :hi", "#n0 BETWEEN :lo AND :hi"},
		{"a IN (:v,:w)", "#n0 IN (:v, :w)"},
		{"size(a) > :n", "size(#n0) > :n"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr, testNames, testValues())
		if err != nil {
			t.Fatal(err)
		}
		if got := roundTrip(t, e); got != tt.want {
			t.Errorf("Format(Parse(%q)) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// TestFormatAfterRewrite is the beacon rewriter's use: a name changed
// behind its placeholder changes the ExpressionAttributeNames entry, a
// bare replacement gets a fresh placeholder, and a placeholder that would
// mean two things is split.
func TestFormatAfterRewrite(t *testing.T) {
	names := map[string]string{"#e": "email", "#n0": "taken"}
	values := map[string]types.AttributeValue{":e": s("a@x"), ":v0": s("taken")}
	e, err := Parse("#e = :e AND #n0 <> :v0 AND begins_with(email, :e)", names, values)
	if err != nil {
		t.Fatal(err)
	}
	beacon := s("beacon")
	out, err := Rewrite(e, func(n Node) (Node, error) {
		switch n := n.(type) {
		case *Path:
			if n.Top() == "email" {
				n.Elems[0].Name = "aws_dbe_b_email"
			}
		case *Compare:
			if v, ok := n.Right.(*Value); ok && v.Placeholder == ":e" {
				n.Right = &Value{V: beacon} // a bare value: Format invents a placeholder
			}
		}
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text, gotNames, gotValues := Format(out)
	if want := "#e = :v1 AND #n0 <> :v0 AND begins_with(#e, :e)"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if want := map[string]string{"#e": "aws_dbe_b_email", "#n0": "taken"}; !maps.Equal(gotNames, want) {
		t.Errorf("names %v, want %v", gotNames, want)
	}
	if len(gotValues) != 3 || !identical(gotValues[":v1"], beacon) || !identical(gotValues[":e"], s("a@x")) {
		t.Errorf("values %v", gotValues)
	}
	// The input tree is untouched.
	if e.(*And).Left.(*And).Left.(*Compare).Left.(*Path).Top() != "email" {
		t.Error("Rewrite modified its input")
	}

	// One placeholder, two meanings after a partial rewrite: the second
	// gets a fresh placeholder.
	e, err = Parse("#e = :e OR contains(#e, :e)", names, values)
	if err != nil {
		t.Fatal(err)
	}
	first := true
	out, err = Rewrite(e, func(n Node) (Node, error) {
		if p, ok := n.(*Path); ok && first {
			first = false
			p.Elems[0].Name = "aws_dbe_b_email"
		}
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text, gotNames, _ = Format(out)
	if want := "#e = :e OR contains(#n0, :e)"; text != want {
		t.Errorf("split placeholder: %q, want %q", text, want)
	}
	if gotNames["#e"] != "aws_dbe_b_email" || gotNames["#n0"] != "email" {
		t.Errorf("split placeholder: names %v", gotNames)
	}
}

func TestPrinterSharesPlaceholders(t *testing.T) {
	// The projection already uses #p = "profile"; the key condition and the
	// filter both carry #x, for two different names.
	p := NewPrinter(map[string]string{"#p": "profile"}, nil)
	kc, err := ParseKeyCondition("#x = :v", map[string]string{"#x": "pk"}, testValues())
	if err != nil {
		t.Fatal(err)
	}
	filter, err := Parse("#x = :v AND #p = :w", map[string]string{"#x": "other", "#p": "notprofile"}, map[string]types.AttributeValue{":v": s("other"), ":w": s("w")})
	if err != nil {
		t.Fatal(err)
	}
	k := p.Format(kc)
	f := p.Format(filter)
	if k != "#x = :v" || f != "#n0 = :v0 AND #n1 = :w" {
		t.Errorf("printed %q and %q", k, f)
	}
	want := map[string]string{"#p": "profile", "#x": "pk", "#n0": "other", "#n1": "notprofile"}
	if !maps.Equal(p.Names(), want) {
		t.Errorf("names %v, want %v", p.Names(), want)
	}
	if len(p.Values()) != 3 || !identical(p.Values()[":v0"], s("other")) {
		t.Errorf("values %v", p.Values())
	}
	for i, text := range []string{k, f} {
		back, err := Parse(text, p.Names(), p.Values())
		if err != nil || !Equal(back, []Expr{kc, filter}[i]) {
			t.Errorf("Parse(%q) with the shared maps: %v", text, err)
		}
	}
}

func TestRewriteRefusesMisfits(t *testing.T) {
	e, err := Parse("a = :v AND size(b) > :n", nil, testValues())
	if err != nil {
		t.Fatal(err)
	}
	exists := &Call{Func: FuncAttributeExists, Args: []Operand{&Path{Elems: []PathElem{{Name: "x"}}}}}
	tests := []struct {
		name string
		f    func(Node) (Node, error)
	}{
		{"condition for an operand", func(n Node) (Node, error) {
			if _, ok := n.(*Value); ok {
				return exists, nil
			}
			return n, nil
		}},
		{"operand for a condition", func(n Node) (Node, error) {
			if _, ok := n.(*Compare); ok {
				return &Path{Elems: []PathElem{{Name: "x"}}}, nil
			}
			return n, nil
		}},
		{"nil", func(n Node) (Node, error) {
			if _, ok := n.(*And); ok {
				return nil, nil
			}
			return n, nil
		}},
		{"invalid result", func(n Node) (Node, error) {
			if p, ok := n.(*Path); ok && p.Top() == "a" {
				return &Path{}, nil
			}
			return n, nil
		}},
		{"size as a condition", func(n Node) (Node, error) {
			if _, ok := n.(*Compare); ok {
				return &Call{Func: FuncSize, Args: []Operand{&Path{Elems: []PathElem{{Name: "x"}}}}}, nil
			}
			return n, nil
		}},
	}
	for _, tt := range tests {
		var ie *InvalidError
		if _, err := Rewrite(e, tt.f); !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an *InvalidError", tt.name, err)
		}
	}
	boom := errors.New("boom")
	if _, err := Rewrite(e, func(Node) (Node, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("the rewriter's error: %v", err)
	}
	// Rewrite calls f on children before parents, left to right.
	var order []string
	if _, err := Rewrite(e, func(n Node) (Node, error) {
		order = append(order, strings.Fields(strings.Trim(sexpr(n), "()"))[0])
		return n, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "a :v = b size :n > and" {
		t.Errorf("visit order %q", got)
	}
}

func TestValidate(t *testing.T) {
	a := &Path{Elems: []PathElem{{Name: "a"}}}
	v := &Value{V: s("x")}
	many := make([]Operand, MaxInOperands+1)
	for i := range many {
		many[i] = v
	}
	var deep Expr = &Compare{Op: OpEq, Left: a, Right: v}
	for range MaxOperators {
		deep = &Not{X: deep}
	}
	tests := []struct {
		name string
		e    Expr
	}{
		{"nil", nil},
		{"nil operand", &Compare{Op: OpEq, Left: a}},
		{"bad op", &Compare{Op: "==", Left: a, Right: v}},
		{"empty path", &Compare{Op: OpEq, Left: &Path{}, Right: v}},
		{"index first", &Compare{Op: OpEq, Left: &Path{Elems: []PathElem{{IsIndex: true}}}, Right: v}},
		{"negative index", &Compare{Op: OpEq, Left: &Path{Elems: []PathElem{{Name: "a"}, {IsIndex: true, Index: -1}}}, Right: v}},
		{"bad name placeholder", &Compare{Op: OpEq, Left: &Path{Elems: []PathElem{{Name: "a", Placeholder: "n"}}}, Right: v}},
		{"bad value placeholder", &Compare{Op: OpEq, Left: a, Right: &Value{Placeholder: "#v", V: s("x")}}},
		{"nil value", &Compare{Op: OpEq, Left: a, Right: &Value{}}},
		{"empty IN", &In{X: a}},
		{"long IN", &In{X: a, List: many}},
		{"too many operators", deep},
		{"size condition", &Call{Func: FuncSize, Args: []Operand{a}}},
		{"exists operand", &Compare{Op: OpEq, Left: &Call{Func: FuncAttributeExists, Args: []Operand{a}}, Right: v}},
		{"unknown function", &Call{Func: "Contains", Args: []Operand{a, v}}},
		{"same path", &Compare{Op: OpEq, Left: a, Right: &Path{Elems: []PathElem{{Name: "a", Placeholder: "#a"}}}}},
	}
	for _, tt := range tests {
		var ie *InvalidError
		if err := Validate(tt.e); !errors.As(err, &ie) {
			t.Errorf("%s: Validate = %v, want an *InvalidError", tt.name, err)
		}
	}
}

// randomExpr builds a random tree, valid or not (the caller filters with
// Validate), from a small vocabulary of paths and values.
func randomExpr(r *rand.Rand, depth int) Expr {
	if depth > 0 {
		switch r.IntN(6) {
		case 0:
			return &And{Left: randomExpr(r, depth-1), Right: randomExpr(r, depth-1)}
		case 1:
			return &Or{Left: randomExpr(r, depth-1), Right: randomExpr(r, depth-1)}
		case 2:
			return &Not{X: randomExpr(r, depth-1)}
		}
	}
	switch r.IntN(8) {
	case 0, 1, 2:
		ops := []CompareOp{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe}
		return &Compare{Op: ops[r.IntN(len(ops))], Left: randomOperand(r), Right: randomOperand(r)}
	case 3:
		return &Between{X: randomOperand(r), Low: randomOperand(r), High: randomOperand(r)}
	case 4:
		list := make([]Operand, 1+r.IntN(3))
		for i := range list {
			list[i] = randomOperand(r)
		}
		return &In{X: randomOperand(r), List: list}
	}
	fs := []Func{FuncAttributeExists, FuncAttributeNotExists, FuncAttributeType, FuncBeginsWith, FuncContains}
	f := fs[r.IntN(len(fs))]
	args := []Operand{randomPath(r)}
	if arity(f) == 2 {
		if f == FuncAttributeType {
			args = append(args, &Value{V: s([]string{"S", "N", "L", "M"}[r.IntN(4)])})
		} else {
			args = append(args, randomOperand(r))
		}
	}
	return &Call{Func: f, Args: args}
}

func randomPath(r *rand.Rand) *Path {
	p := &Path{}
	for i := range 1 + r.IntN(3) {
		switch {
		case i > 0 && r.IntN(3) == 0:
			p.Elems = append(p.Elems, PathElem{IsIndex: true, Index: r.IntN(3)})
		case r.IntN(2) == 0:
			name := []string{"a", "b", "c", "x y", "and"}[r.IntN(5)]
			p.Elems = append(p.Elems, PathElem{Name: name, Placeholder: "#" + strings.ReplaceAll(name, " ", "_")})
		default:
			p.Elems = append(p.Elems, PathElem{Name: []string{"a", "b", "c"}[r.IntN(3)]})
		}
	}
	return p
}

func randomOperand(r *rand.Rand) Operand {
	switch r.IntN(5) {
	case 0, 1:
		return randomPath(r)
	case 2:
		return &Call{Func: FuncSize, Args: []Operand{randomPath(r)}}
	}
	vals := []types.AttributeValue{s("a"), s("b"), n("1"), n("2.0"), b(1), boolv(true), l(s("a")), m("k", n("1")), ss("a"), null()}
	v := &Value{V: vals[r.IntN(len(vals))]}
	if r.IntN(2) == 0 {
		v.Placeholder = []string{":p", ":q", ":v0", ":v1"}[r.IntN(4)]
	}
	return v
}

// TestFormatRoundTripRandom is the round-trip property over random valid
// trees (with placeholders that collide on purpose), and checks that the
// printed expression means the same on random items.
func TestFormatRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	items := []Item{
		{"a": s("a"), "b": n("1"), "c": l(s("a"), n("2"))},
		{"a": m("a", s("b"), "b", n("2")), "b": ss("a"), "x y": s("a")},
		{"and": n("2"), "a": b(1), "c": m("k", n("1"))},
	}
	valid := 0
	for valid < 3000 {
		e := randomExpr(r, r.IntN(4))
		if Validate(e) != nil {
			continue
		}
		valid++
		text := roundTrip(t, e)
		_, names, values := Format(e)
		back, _ := Parse(text, names, values)
		for _, it := range items {
			want, err1 := Eval(e, it)
			got, err2 := Eval(back, it)
			if want != got || (err1 == nil) != (err2 == nil) {
				t.Fatalf("Eval differs after Format: %s (%v, %v) vs %q (%v, %v)", sexpr(e), want, err1, text, got, err2)
			}
		}
	}
}

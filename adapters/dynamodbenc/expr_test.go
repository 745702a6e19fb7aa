package dynamodbenc

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// refString renders a parsed reference: a.b[1] with "?" marking an
// existence test.
func refString(r reference) string {
	var b strings.Builder
	for i, s := range r.path {
		switch {
		case s.isIndex:
			b.WriteString("[" + string(rune('0'+s.index)) + "]")
		case i > 0:
			b.WriteString("." + s.name)
		default:
			b.WriteString(s.name)
		}
	}
	if r.existence {
		b.WriteString("?")
	}
	return b.String()
}

func TestParseExpr(t *testing.T) {
	names := map[string]string{"#n": "name", "#d": "a.b", "#k": "key", "#s": "set"}
	tests := []struct {
		expr string
		want []string
	}{
		{"a = :v", []string{"a"}},
		{"#n = :v AND b <> :w", []string{"name", "b"}},
		{"attribute_exists(a)", []string{"a?"}},
		{"attribute_not_exists(#n) OR attribute_exists(x.y)", []string{"name?", "x.y"}},
		{"ATTRIBUTE_EXISTS ( a )", []string{"a?"}},
		{"attribute_exists(a[0])", []string{"a[0]"}},
		{"begins_with(a.b, :p) and size(c) > :n", []string{"a.b", "c"}},
		{"contains(#d, :x)", []string{"a.b"}},
		{"a BETWEEN :lo AND :hi", []string{"a"}},
		{"a IN (:x, :y) AND NOT b = c", []string{"a", "b", "c"}},
		{"a.b[2].c[3] = :v", []string{"a.b[2].c[3]"}},
		{"#k.#n = :v", []string{"key.name"}},
		{"(a = :v) AND (b < :w OR c >= :z)", []string{"a", "b", "c"}},
		{"SET a = :v, b = b + :one, c = if_not_exists(c, :z), d = list_append(d, :l) REMOVE e, f[1] ADD g :x DELETE h :y",
			[]string{"a", "b", "b", "c", "c", "d", "d", "e", "f[1]", "g", "h"}},
		{"set #s = :v", []string{"set"}},
		{"foo(a) = :v", []string{"foo", "a"}}, // unknown function: taken for an attribute
		{"attribute_type(a, :t)", []string{"a"}},
	}
	for _, tt := range tests {
		p, err := parseExpr(tt.expr, names)
		if err != nil {
			t.Errorf("parseExpr(%q) err = %v", tt.expr, err)
			continue
		}
		var got []string
		for _, r := range p.refs {
			got = append(got, refString(r))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseExpr(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestParseExprErrors(t *testing.T) {
	for _, expr := range []string{
		"#missing = :v", // placeholder not in the names
		"a = :",         // empty placeholder
		"a.",            // path ends early
		"a[x] = :v",     // index not a number
		"a[1 = :v",      // unclosed index
		". = :v",        // dot outside a path
		"a = 'literal'", // DynamoDB has no literals
		"a = :v; DROP",  // unknown character
		"é = :v",        // non-ASCII outside placeholders
		"a = 1b",        // name starting with a digit
		strings.Repeat("a", maxExprLen+1),
	} {
		if _, err := parseExpr(expr, nil); !errors.Is(err, errSyntax) {
			t.Errorf("parseExpr(%.40q) err = %v, want errSyntax", expr, err)
		}
	}
}

func TestParseProjection(t *testing.T) {
	names := map[string]string{"#p": "profile", "#c": "*amzn-ddb-map-sig*"}
	paths, used, err := parseProjection("a, #p.tags[1], b.c , #c", names)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range paths {
		got = append(got, refString(reference{path: p}))
	}
	if want := []string{"a", "profile.tags[1]", "b.c", "*amzn-ddb-map-sig*"}; !slices.Equal(got, want) {
		t.Errorf("paths = %q, want %q", got, want)
	}
	if !used["#p"] || !used["#c"] || len(used) != 2 {
		t.Errorf("used = %v", used)
	}
	for _, bad := range []string{"", "a,", "a b", "a = b", "size(a)", ",a", "a, a", "a.b, a", "a[1], a[1].c", "a.b, a[0]"} {
		if _, _, err := parseProjection(bad, names); err == nil {
			t.Errorf("parseProjection(%q) succeeded", bad)
		}
	}
}

func TestMentionsTable(t *testing.T) {
	tests := []struct {
		stmt, table string
		want        bool
	}{
		{`SELECT * FROM "customers" WHERE pk = ?`, "customers", true},
		{`select * from Customers`, "customers", true},
		{`SELECT * FROM "customers"."by_email"`, "customers", true},
		{`INSERT INTO "my-table.v2" VALUE {'pk': ?}`, "my-table.v2", true},
		{`UPDATE customers SET visits = 1 WHERE pk = ?`, "customers", true},
		{`DELETE FROM "arn:aws:dynamodb:us-east-1:1:table/customers" WHERE pk = ?`, "customers", true},
		{`SELECT * FROM "customers2"`, "customers", false},
		{`SELECT * FROM "old-customers"`, "customers", false},
		{`SELECT * FROM orders`, "customers", false},
	}
	for _, tt := range tests {
		if got := mentionsTable(tt.stmt, tt.table); got != tt.want {
			t.Errorf("mentionsTable(%q, %q) = %v, want %v", tt.stmt, tt.table, got, tt.want)
		}
	}
}

func TestProjectItem(t *testing.T) {
	it := customer("p", 1)
	it["list"] = l(s("x0"), m(item{"a": s("1"), "b": s("2")}), s("x2"))
	parse := func(expr string) []docPath {
		t.Helper()
		p, _, err := parseProjection(expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		expr string
		want item
	}{
		{"email, visits", item{"email": it["email"], "visits": it["visits"]}},
		{"profile.name", item{"profile": m(item{"name": s("name 1")})}},
		{"profile.addr.city, profile.name", item{"profile": m(item{"name": s("name 1"), "addr": m(item{"city": s("Lyon")})})}},
		{"profile.tags[2], profile.tags[0]", item{"profile": m(item{"tags": l(s("a"), s("c"))})}},
		{"list[1].b, list[7]", item{"list": l(m(item{"b": s("2")}))}},
		{"missing, profile.nope, list[9], email.x", item{}},
	}
	for _, tt := range tests {
		wantItem(t, tt.expr, projectItem(it, parse(tt.expr)), tt.want)
	}
}

// ddbecShape is an itemShape of the DDBEC format for a bare policy.
type ddbecShape struct{ p *actions.Policy }

func (d ddbecShape) Policy() *actions.Policy { return d.p }
func (ddbecShape) ReservedAttributes() []string {
	return []string{actions.MaterialDescriptionAttribute, actions.SignatureAttribute}
}

func TestWiden(t *testing.T) {
	encAll := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk", SortKey: "sk"})
	doNothing := actions.Must(actions.Options{Default: actions.DoNothing, PartitionKey: "pk", SortKey: "sk",
		Overrides: map[string]actions.Action{"secret": actions.EncryptAndSign, "note": actions.DoNothing}})
	noop := actions.Must(actions.Options{Default: actions.DoNothing, NoPartitionKey: true})
	proj := func(s string) *string { return &s }

	// Default signs: the projection goes, and the names only it used.
	p, err := widen(ddbecShape{encAll}, proj("#a, b"), map[string]string{"#a": "a", "#f": "f"}, proj("#f = :v"))
	if err != nil {
		t.Fatal(err)
	}
	if p.expr != nil || !p.wholeItem || len(p.names) != 1 || p.names["#f"] != "f" {
		t.Errorf("widen(encrypt-all) = expr %v names %v wholeItem %v", p.expr, p.names, p.wholeItem)
	}
	p, _ = widen(ddbecShape{encAll}, proj("a"), map[string]string{"#a": "a"})
	if p.names != nil {
		t.Errorf("names = %v, want nil", p.names)
	}

	// Default DoNothing: the projection gains the signed attributes.
	p, err = widen(ddbecShape{doNothing}, proj("note, #x"), map[string]string{"#x": "x", "#dynamodbenc0": "clash"})
	if err != nil {
		t.Fatal(err)
	}
	if p.expr == nil || p.wholeItem {
		t.Fatalf("widen(do-nothing) dropped the projection")
	}
	var got []string
	for _, ph := range strings.Split(*p.expr, ", ") {
		if !strings.HasPrefix(ph, "#dynamodbenc_") {
			t.Errorf("placeholder %q clashes with the caller's prefix", ph)
		}
		got = append(got, p.names[ph])
	}
	want := []string{"*amzn-ddb-map-desc*", "*amzn-ddb-map-sig*", "note", "pk", "secret", "sk", "x"}
	if !slices.Equal(got, want) || len(p.names) != len(want) {
		t.Errorf("widened to %q (names %v), want %q", got, p.names, want)
	}

	// A policy that does nothing leaves the request alone.
	p, _ = widen(ddbecShape{noop}, proj("a"), nil)
	if p.expr == nil || *p.expr != "a" || p.paths != nil {
		t.Errorf("widen(no-op) changed the projection")
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"a = :v", "SET #a = :b REMOVE c[1]", "attribute_exists(a.b[2])", "a, b.c"} {
		f.Add(s)
	}
	names := map[string]string{"#a": "a", "#b": "b"}
	f.Fuzz(func(t *testing.T, expr string) {
		if p, err := parseExpr(expr, names); err == nil {
			for _, r := range p.refs {
				if len(r.path) == 0 || r.path[0].isIndex {
					t.Fatalf("reference without a top-level name in %q", expr)
				}
			}
		}
		if paths, _, err := parseProjection(expr, names); err == nil {
			projectItem(customer("p", 1), paths)
		}
	})
}

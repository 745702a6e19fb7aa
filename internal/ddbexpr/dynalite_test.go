package ddbexpr

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// The tests in this file run expressions on dynalite (started by
// scripts/test; without it they skip, and fail under CI=true): Eval must
// select the items a Scan with the same FilterExpression returns, and Parse
// must refuse what dynalite refuses. dynalite differs from DynamoDB in a
// few places the items and filters below avoid: it counts size() of a
// string in UTF-16 units (DynamoDB and Eval in bytes), compares strings in
// UTF-16 order, cannot compare lists and maps for equality, treats two
// missing operands of = as equal, and for contains on a list matches only
// scalar elements. begins_with with a path as its prefix made dynalite
// stop answering, so no filter here has one.

func dynaliteItems() []Item {
	return []Item{
		{"pk": s("i01"), "s": s("apple"), "n": n("5"), "b": b(1, 2, 3), "t": boolv(true), "ss": ss("x", "y"), "ns": ns("1", "2"),
			"l": l(s("a"), n("1")), "m": m("k", s("v"), "deep", m("d", n("7"))), "v": s("5")},
		{"pk": s("i02"), "s": s("apricot"), "n": n("-3.5"), "b": b(1, 2), "t": boolv(false), "nul": null(), "ns": ns("3"),
			"l": l(s("b")), "m": m("k", s("w")), "v": n("5")},
		{"pk": s("i03"), "s": s("banana"), "n": n("100"), "bs": bs([]byte{1}, []byte{2}), "ss": ss("z"), "l": l(), "m": m(), "v": n("5.0")},
		{"pk": s("i04"), "s": s("Apple"), "n": n("0"), "v": b(5)},
		{"pk": s("i05"), "n": n("1e10"), "ns": ns("0.5", "-2")},
		{"pk": s("i06")},
		{"pk": s("i07"), "s": s("apple pie"), "n": n("5.0000001"), "m": m("k", s("v"), "deep", m("d", n("8"))), "l": l(n("1"), n("2"), n("3"))},
		{"pk": s("i08"), "s": s("cherry"), "n": n("-100"), "t": boolv(true), "ss": ss("x"), "bs": bs([]byte{3}), "nul": null()},
		{"pk": s("i09"), "s": s("zebra"), "n": n("12345678901234567890123456789012345678"), "b": b(255)},
		{"pk": s("i10"), "s": s("apple"), "n": n("0.5"), "v": s("apple")},
		{"pk": s("i11"), "n": n("-0.001"), "l": l(s("apple")), "m": m("k", n("1"))},
		{"pk": s("i12"), "s": s("h\u00e9llo"), "n": n("7"), "b": b(1, 2, 3, 4)},
		{"pk": s("i13"), "s": s("apples"), "n": n("12345678901234567890123456789012345679"), "v": boolv(true)},
	}
}

func dynaliteValues() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":apple": s("apple"), ":cherry": s("cherry"), ":a": s("a"), ":b": s("b"), ":ap": s("ap"), ":an": s("an"),
		":x": s("x"), ":vv": s("v"), ":five_s": s("5"), ":h": s("h"), ":z": s("z"),
		":five": n("5"), ":zero": n("0"), ":m1": n("-1"), ":ten": n("10"), ":hundred": n("100.00"), ":half": n("5e-1"),
		":big": n("1234567890123456789012345678901234567.8E1"), ":one": n("1"), ":two": n("2"), ":three": n("3"), ":seven": n("7"),
		":b123": b(1, 2, 3), ":b12": b(1, 2), ":b2": b(2), ":b1": b(1),
		":true": boolv(true), ":false": boolv(false), ":null": null(),
		":ssxy": ss("y", "x"), ":ns21": ns("2", "1"), ":apples": s("apples"), ":list": l(s("apple"), s("x"), n("5")),
		":tN": s("N"), ":tS": s("S"), ":tB": s("B"), ":tNULL": s("NULL"), ":tBOOL": s("BOOL"), ":tL": s("L"), ":tM": s("M"), ":tSS": s("SS"),
	}
}

var dynaliteFilters = []string{
	"s = :apple", "s <> :apple", "s < :b", "s >= :b", "s > :h", "s BETWEEN :a AND :b", "begins_with(s, :ap)", "contains(s, :an)",
	"#s = :apple", "#s.#x = :apple", "s IN (:apple, :cherry)", "NOT s IN (:apple, :cherry)",
	"n = :five", "n > :zero", "n < :zero", "n <= :zero", "n BETWEEN :m1 AND :ten", "n >= :big", "n < :big",
	"n IN (:five, :hundred, :half)", "#n = :hundred",
	"v = :five", "v = :five_s", "v <> :five", "v < :ten", "attribute_type(v, :tN)", "attribute_type(v, :tS)", "attribute_type(v, :tB)",
	"attribute_type(v, :tBOOL)", "attribute_type(nul, :tNULL)", "attribute_type(l, :tL)", "attribute_type(m, :tM)", "attribute_type(ss, :tSS)",
	"attribute_exists(m.deep.d)", "attribute_not_exists(s)", "attribute_exists(l[1])", "attribute_not_exists(m.k)",
	"m.deep.d > :seven", "m.deep.d = :seven", "m.k = :vv", "m.k <> :vv", "l[0] = :a", "l[1] = :one", "l[0] < :b",
	"contains(ss, :x)", "contains(ns, :two)", "contains(l, :a)", "contains(l, :one)", "contains(l, :apple)", "contains(bs, :b1)",
	"contains(s, :z)", "contains(s, v)",
	"contains(:apple, s)", "contains(:apples, s)", "contains(:ssxy, s)", "contains(:ssxy, ss)", "contains(:ns21, n)", "contains(:list, s)",
	"contains(:b123, b)", "contains(:five, n)", "begins_with(:apples, s)", "begins_with(:b123, b)", "NOT contains(:apples, s)",
	"size(l) > :one", "size(l) = :zero", "size(ss) = :two", "size(m) = :zero", "size(m) >= :one", "size(b) >= :three", "size(bs) = :two",
	"size(ns) IN (:one, :two)", "size(l) BETWEEN :one AND :two", "size(b) < size(l)",
	"b = :b123", "begins_with(b, :b12)", "b < :b2", "b >= :b12", "b BETWEEN :b12 AND :b2", "contains(b, :b2)",
	"t = :true", "NOT t = :true", "t <> :true", "nul = :null",
	"s = :apple OR n = :five AND t = :true", "(s = :apple OR n = :five) AND t = :true",
	"NOT attribute_exists(s) OR n < :zero", "attribute_exists(t) AND NOT t = :false", "NOT (s = :apple OR s = :cherry) AND n > :zero",
	"ss = :ssxy", "ns = :ns21", "ss <> :ssxy",
	"x = :five", "x <> :five", "x < :five", "NOT x = :five", "x IN (:five)",
	"n > v", "attribute_exists(n) AND n = v", "attribute_exists(n) AND n <> v", "attribute_exists(s) AND s = v",
}

// placeholdersIn returns the entries of names and values the expression
// text mentions (DynamoDB refuses unused ones).
func placeholdersIn(expr string, names map[string]string, values map[string]types.AttributeValue) (map[string]string, map[string]types.AttributeValue) {
	var ns map[string]string
	var vs map[string]types.AttributeValue
	for _, ph := range regexp.MustCompile(`[#:][A-Za-z0-9_]+`).FindAllString(expr, -1) {
		if v, ok := names[ph]; ok {
			if ns == nil {
				ns = map[string]string{}
			}
			ns[ph] = v
		}
		if v, ok := values[ph]; ok {
			if vs == nil {
				vs = map[string]types.AttributeValue{}
			}
			vs[ph] = v
		}
	}
	return ns, vs
}

func scanKeys(ctx context.Context, c *dynamodb.Client, table, filter string, names map[string]string, values map[string]types.AttributeValue) ([]string, error) {
	var keys []string
	in := &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String(filter),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values, Limit: aws.Int32(4), ConsistentRead: aws.Bool(true)}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			keys = append(keys, it["pk"].(*types.AttributeValueMemberS).Value)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.Sort(keys)
	return keys, nil
}

func TestEvalMatchesDynalite(t *testing.T) {
	raw := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, raw, "pk", "S", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	items := dynaliteItems()
	for _, it := range items {
		if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	names := map[string]string{"#s": "s", "#n": "n", "#x": "x"}
	values := dynaliteValues()
	matched := 0
	for _, filter := range dynaliteFilters {
		e, err := Parse(filter, names, values)
		if err != nil {
			t.Errorf("Parse(%q): %v", filter, err)
			continue
		}
		var want []string
		for _, it := range items {
			ok, err := Eval(e, it)
			if err != nil {
				t.Fatalf("Eval(%q): %v", filter, err)
			}
			if ok {
				want = append(want, it["pk"].(*types.AttributeValueMemberS).Value)
			}
		}
		// Send what Format prints, so the printer is checked on the server
		// as well (every name through a placeholder).
		text, fnames, fvalues := Format(e)
		got, err := scanKeys(ctx, raw, table, text, fnames, fvalues)
		if err != nil {
			t.Errorf("Scan(%q as %q): %v", filter, text, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: dynalite returned %v, Eval selects %v", filter, got, want)
		}
		// The text as written must give the same items.
		un, uv := placeholdersIn(filter, names, values)
		if got2, err := scanKeys(ctx, raw, table, filter, un, uv); err != nil || !slices.Equal(got2, got) {
			t.Errorf("%q as written: %v, %v; printed: %v", filter, got2, err, got)
		}
		if len(want) > 0 && len(want) < len(items) {
			matched++
		}
	}
	// The filters must discriminate: most select some items but not all.
	if matched < len(dynaliteFilters)*2/3 {
		t.Errorf("only %d of %d filters select a proper subset of the items", matched, len(dynaliteFilters))
	}
}

// stricterThanDynalite are expressions Parse refuses that dynalite accepts.
// Ordering a BOOL or a set and the same path twice in IN or BETWEEN are
// refused as DynamoDB documents them ("only S, N and B are ordered", "the
// first operand must be distinct from the remaining operands"); the others
// are outside the grammar this package supports (a function's operands are
// paths or values, with a path among them) or beyond its limits (list indexes of
// more than 9 digits).
var stricterThanDynalite = []string{
	"a IN (:v, a)", "a BETWEEN a AND :hi", "a < :bool", "a >= :ss",
	"contains(:v, :w)", "begins_with(:v, :w)", "contains(size(a), :v)", "contains(a, size(b))",
	"size(:v) > :n", "a[1234567890] = :v",
}

// dynaliteRefusedValid are expressions Parse accepts that dynalite refuses
// (none: the corpus holds no bare reserved word, which dynalite would
// refuse and Parse does not check).
var dynaliteRefusedValid []string

func isValidation(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationException"
}

func TestParseAgreesWithDynalite(t *testing.T) {
	raw := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, raw, "pk", "S", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	values := testValues()
	send := func(expr string) error {
		ns, vs := placeholdersIn(expr, testNames, values)
		_, err := raw.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String(expr),
			ExpressionAttributeNames: ns, ExpressionAttributeValues: vs})
		return err
	}
	var refusedValid []string
	for _, tt := range parseValid {
		err := send(tt.expr)
		switch {
		case err == nil:
		case isValidation(err):
			refusedValid = append(refusedValid, tt.expr)
			t.Logf("dynalite refuses %q: %v", tt.expr, err)
		default:
			t.Fatalf("Scan(%q): %v", tt.expr, err)
		}
	}
	if !slices.Equal(refusedValid, dynaliteRefusedValid) {
		t.Errorf("dynalite refuses %q of the valid corpus; the test expects %q", refusedValid, dynaliteRefusedValid)
	}
	for _, tt := range parseRefusals {
		if strings.TrimSpace(tt.expr) == "" || strings.Contains(tt.expr, ":missing") {
			continue // the SDK or DynamoDB refuses these before the grammar
		}
		err := send(tt.expr)
		stricter := slices.Contains(stricterThanDynalite, tt.expr)
		switch {
		case err == nil && !stricter:
			t.Errorf("dynalite accepts %q, which Parse refuses", tt.expr)
		case err != nil && !isValidation(err):
			t.Fatalf("Scan(%q): %v", tt.expr, err)
		case err != nil && stricter:
			t.Errorf("dynalite refuses %q too (%v): take it off stricterThanDynalite", tt.expr, err)
		}
	}
}

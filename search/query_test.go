package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbexpr"
)

// TestQueryBeaconsKAT: Beacon.dfy TestQueryBeacons (the values a query's
// beacon values must take).
func TestQueryBeaconsKAT(t *testing.T) {
	sr := newLiteral(t, lotsaBeacons(), fullPolicy(nil))
	in := &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("std2 = :std2"),
		FilterExpression: aws.String("std4 = :std4 AND :std6 = std6 AND Name = :Name AND Mixed = :Mixed" +
			" AND :NameTitle = NameTitle AND NameTitle = :NameTitleN AND NameTitle = :NameTitleT AND NameTitle = :NameTitleTN" +
			" AND NameTitleField = :NameTitleField AND Title = :Title AND YearName = :YearName"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":std2": n("1.23"), ":std4": s("abc"), ":std6": s("666"), ":Name": s("MyName"), ":Title": s("MyTitle"),
			":Mixed": s("N_MyName.Y_1984"), ":NameTitle": s("N_MyName.T_MyTitle"), ":NameTitleN": s("N_MyName"),
			":NameTitleT": s("T_MyTitle"), ":NameTitleTN": s("N_MyName.T_MyTitle"), ":NameTitleField": s("MyName__mytitle"),
			":YearName": s("Y_1984.N_MyName"),
		},
	}
	before := *in.KeyConditionExpression
	out, _, err := sr.TransformQuery(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if *in.KeyConditionExpression != before || !avEqual(in.ExpressionAttributeValues[":std2"], n("1.23")) {
		t.Fatal("the caller's input was modified")
	}
	want := Item{
		":Mixed": s("N_" + nameBeacon + ".Y_1984"), ":Name": s(nameBeacon), ":NameTitle": s("N_" + nameBeacon + ".T_" + titleBeacon),
		":NameTitleTN": s("N_" + nameBeacon + ".T_" + titleBeacon), ":NameTitleN": s("N_" + nameBeacon), ":NameTitleT": s("T_" + titleBeacon),
		":NameTitleField": s(nameTitleBeacon), ":std2": s(std2Beacon), ":Title": s(titleBeacon), ":std6": s(std6Beacon),
		":std4": s(std4Beacon), ":YearName": s("Y_1984.N_" + nameBeacon),
	}
	if d := diffItems(want, out.ExpressionAttributeValues); d != "" {
		t.Errorf("values:\n%s", d)
	}
	for ph, name := range out.ExpressionAttributeNames {
		if !strings.HasPrefix(name, BeaconPrefix) {
			t.Errorf("%s = %s: not a beacon attribute", ph, name)
		}
	}
	// The filter keeps the item the query describes, drops another.
	_, f, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{
		FilterExpression:          aws.String("std2 = :std2 AND std6 = :std6 AND Mixed = :Mixed AND NameTitle = :NameTitle AND NameTitleField = :NameTitleField AND YearName = :YearName AND Title = :Title"),
		ExpressionAttributeValues: in.ExpressionAttributeValues,
	})
	if err != nil {
		t.Fatal(err)
	}
	item := simpleItem()
	if ok, err := f.Keep(item); !ok || err != nil {
		t.Errorf("Keep(matching item) = %v, %v", ok, err)
	}
	item["Title"] = s("Other")
	if ok, err := f.Keep(item); ok || err != nil {
		t.Errorf("Keep(other title) = %v, %v", ok, err)
	}
}

// TestQueryStylesKAT: Beacon.dfy TestShareSameBeacon (query) and
// TestBeaconSetQuery.
func TestQueryStylesKAT(t *testing.T) {
	v := lotsaBeacons()
	v.StandardBeacons = append(v.StandardBeacons,
		StandardBeacon{Name: "partOnly", Length: 24, Style: Shared("std2")},
		StandardBeacon{Name: "setAttr", Length: 24, Style: AsSet()})
	sr := newLiteral(t, v, fullPolicy(map[string]actions.Action{"partOnly": actions.EncryptAndSign, "setAttr": actions.EncryptAndSign}))
	out, _, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{
		FilterExpression:          aws.String("partOnly = :pVal AND std2 = :sVal AND setAttr = :setVal"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pVal": s("foo"), ":sVal": s("foo"), ":setVal": ss("abc", "def", "ghi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Item{":pVal": s("4379a7"), ":sVal": s("4379a7"), ":setVal": ss("43c4d8", "2f3278", "f1972e")}
	if d := diffItems(want, out.ExpressionAttributeValues); d != "" {
		t.Errorf("values:\n%s", d)
	}
	_, _, err = sr.TransformScan(context.Background(), &dynamodb.ScanInput{
		FilterExpression:          aws.String("setAttr = :setVal"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":setVal": &types.AttributeValueMemberL{}},
	})
	if !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("AsSet beacon compared with a list: %v", err)
	}
}

// TestCompoundQueryOrder: Beacon.dfy TestCompoundQueries: values in an
// order some constructor builds are accepted, others refused.
func TestCompoundQueryOrder(t *testing.T) {
	sr := newLiteral(t, lotsaBeacons(), fullPolicy(nil))
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"N_MyName.Y_1984", true}, {"N_MyName", true}, {"Y_1984", true}, {"T_foo", true}, {"M_bar", true}, {"T_foo.M_bar", true},
		{"N_MyName.N_MyName", false}, {"Y_1984.N_MyName", false}, {"M_bar.T_foo", false}, {"X_nopart", false},
	} {
		_, _, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{
			FilterExpression:          aws.String("Mixed = :mixed"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":mixed": s(tc.value)},
		})
		if (err == nil) != tc.ok {
			t.Errorf("Mixed = %q: %v, want ok=%v", tc.value, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), tc.value) {
			t.Errorf("the error repeats the value: %v", err)
		}
	}
}

func TestQueryRefusals(t *testing.T) {
	v := lotsaBeacons()
	v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "po", Length: 8, Style: PartOnly()})
	v.CompoundBeacons = append(v.CompoundBeacons, CompoundBeacon{Name: "withPO", Split: ".", Encrypted: []EncryptedPart{{Name: "po", Prefix: "P_"}}})
	sr := newLiteral(t, v, fullPolicy(map[string]actions.Action{"po": actions.EncryptAndSign}))
	vals := map[string]types.AttributeValue{":v": s("MyName"), ":w": s("x"), ":y": s("Y_1984"), ":t": s("S")}
	for _, tc := range []struct {
		filter, attr string
		want         error
	}{
		{"TooBad = :v", "TooBad", ErrNoBeacon},
		{"begins_with(TooBad, :v)", "TooBad", ErrNoBeacon},
		{"size(TooBad) > :v", "TooBad", ErrNoBeacon},
		{"NameTitleField.x = :v", "NameTitleField", ErrOperator},
		{"Name < :v", "Name", ErrOperator},
		{"Name <> :v", "Name", ErrOperator},
		{"begins_with(Name, :v)", "Name", ErrOperator},
		{"contains(Name, :v)", "Name", ErrOperator},
		{"Name BETWEEN :v AND :w", "Name", ErrOperator},
		{"Name = Title", "Name", ErrOperator},
		{"size(Name) = :v", "Name", ErrOperator},
		{"attribute_type(Name, :t)", "Name", ErrOperator},
		{"NOT Name = :v", "Name", ErrOperator},
		{"NOT (Year = :y OR Mixed = :y)", "Mixed", ErrOperator},
		{"po = :v", "po", ErrOperator},
		{"Name = :v AND Title = :v", "", ErrOperator},
		{"Name = :v AND Year = :v", "", ErrOperator},
		{"Mixed < :v", "Mixed", ErrOperator},
		{"contains(:w, Name)", "Name", ErrOperator},
		{"begins_with(:w, Mixed)", "Mixed", ErrOperator},
		{"Name <> Year", "Name", ErrOperator},
		{"NOT Name < Year", "Name", ErrOperator},
	} {
		_, _, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{FilterExpression: aws.String(tc.filter), ExpressionAttributeValues: vals})
		var qe *QueryError
		if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidQuery) || !errors.As(err, &qe) || (tc.attr != "" && qe.Attribute != tc.attr) {
			t.Errorf("%s: %v, want %v naming %q", tc.filter, err, tc.want, tc.attr)
		}
	}
	// Allowed: existence of an encrypted attribute, an ordering on signed
	// parts of a compound beacon.
	for _, f := range []string{"attribute_exists(TooBad)", "attribute_not_exists(Name)", "Mixed > :y", "YearName BETWEEN :y AND :y"} {
		if _, _, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{FilterExpression: aws.String(f), ExpressionAttributeValues: vals}); err != nil && !strings.Contains(f, "BETWEEN") {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Partition placeholder out of range; legacy parameters.
	_, _, err := sr.TransformQuery(context.Background(), &dynamodb.QueryInput{KeyConditionExpression: aws.String("Name = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("a"), PartitionPlaceholder: n("1")}})
	if !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("partition 1 of 1: %v", err)
	}
	_, _, err = sr.TransformQuery(context.Background(), &dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Name": {}}})
	if !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("KeyConditions: %v", err)
	}
}

// TestQueryExactWithCollisions runs queries over an in-memory table whose
// beacons are 1 and 2 bits long, so most items collide: the server side is
// simulated with ddbexpr.Eval on the stored items (beacons, signed
// attributes, ciphertext stand-ins), and Keep must leave exactly the items
// the original condition matches on plaintext.
func TestQueryExactWithCollisions(t *testing.T) {
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id",
		Overrides: map[string]actions.Action{"kind": actions.SignOnly}})
	v := BeaconVersion{
		Version: 1, KeyStore: &StaticKeys{},
		KeySource:       KeySource{Single: &SingleKeySource{BranchKeyID: "foo", CacheTTL: time.Minute}},
		StandardBeacons: []StandardBeacon{{Name: "email", Length: 2}, {Name: "city", Length: 1}},
		CompoundBeacons: []CompoundBeacon{{Name: "KindEmail", Split: ".",
			Signed:    []SignedPart{{Name: "kind", Prefix: "K-"}},
			Encrypted: []EncryptedPart{{Name: "email", Prefix: "E-"}}}},
	}
	sr := newLiteral(t, v, pol)
	rng := rand.New(rand.NewPCG(1, 2))
	emails := []string{"ann@x", "bob@x", "cy@x", "dee@x", "eve@x", "fay@x", "gus@x", "hal@x"}
	cities := []string{"Oslo", "Rome", "Lima"}
	kinds := []string{"admin", "user"}
	var plain, stored []Item
	for i := range 60 {
		it := Item{"id": s(fmt.Sprint(i)), "email": s(emails[rng.IntN(len(emails))]), "city": s(cities[rng.IntN(len(cities))]), "kind": s(kinds[rng.IntN(2)])}
		if i%7 == 0 {
			delete(it, "city")
		}
		signed, err := sr.AddSignedBeacons(it)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := sr.EncryptedBeacons(context.Background(), it, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := Item{}
		for k, v := range signed {
			if pol.Action(k) == actions.EncryptAndSign {
				v = &types.AttributeValueMemberB{Value: []byte("ciphertext")}
			}
			st[k] = v
		}
		for k, v := range bs {
			st[k] = v
		}
		plain, stored = append(plain, it), append(stored, st)
	}
	vals := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = s(kv[i+1])
		}
		return m
	}
	type query struct {
		filter string
		values map[string]types.AttributeValue
		truth  func(Item) bool
	}
	str := func(it Item, k string) string {
		if v, ok := it[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return "\x00"
	}
	var queries []query
	for _, e := range emails {
		queries = append(queries, query{"email = :e", vals(":e", e), func(it Item) bool { return str(it, "email") == e }})
		queries = append(queries, query{"#k = :e", vals(":e", "K-admin.E-"+e), func(it Item) bool { return str(it, "kind") == "admin" && str(it, "email") == e }})
	}
	for _, c := range cities {
		queries = append(queries, query{"city = :c AND (email = :e OR email = :f)", vals(":c", c, ":e", emails[0], ":f", emails[1]),
			func(it Item) bool {
				return str(it, "city") == c && (str(it, "email") == emails[0] || str(it, "email") == emails[1])
			}})
		queries = append(queries, query{"city IN (:c, :d) AND (email = :e OR attribute_exists(#k))", vals(":c", c, ":d", "Lima", ":e", emails[2]),
			func(it Item) bool {
				return (str(it, "city") == c || str(it, "city") == "Lima") && str(it, "email") == emails[2]
			}})
	}
	// A beacon compared with a plaintext attribute: the server only checks
	// that both exist, Keep compares the plaintext.
	queries = append(queries, query{"kind < email", nil, func(it Item) bool { return str(it, "kind") < str(it, "email") }})
	queries = append(queries, query{"email >= kind", nil, func(it Item) bool { return str(it, "email") >= str(it, "kind") }})
	queries = append(queries, query{"KindEmail < id OR city = :c", vals(":c", "Rome"), func(it Item) bool { return str(it, "city") == "Rome" }})
	queries = append(queries, query{"begins_with(KindEmail, :p)", vals(":p", "K-user.E-"), func(it Item) bool { return str(it, "kind") == "user" }})
	falsePositives := 0
	for _, q := range queries {
		names := map[string]string(nil)
		if strings.Contains(q.filter, "#k") {
			names = map[string]string{"#k": "KindEmail"}
		}
		out, f, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{FilterExpression: aws.String(q.filter), ExpressionAttributeNames: names, ExpressionAttributeValues: q.values})
		if err != nil {
			t.Fatalf("%s: %v", q.filter, err)
		}
		for _, v := range out.ExpressionAttributeValues {
			if sv, ok := v.(*types.AttributeValueMemberS); ok && slices.ContainsFunc(emails, func(e string) bool { return strings.Contains(sv.Value, e) }) {
				t.Fatalf("%s: a plaintext email reaches the server", q.filter)
			}
		}
		server, err := ddbexpr.Parse(*out.FilterExpression, out.ExpressionAttributeNames, out.ExpressionAttributeValues)
		if err != nil {
			t.Fatalf("%s: the rewritten filter %q does not parse: %v", q.filter, *out.FilterExpression, err)
		}
		for i, st := range stored {
			returned, err := ddbexpr.Eval(server, st)
			if err != nil {
				t.Fatal(err)
			}
			truth := q.truth(plain[i])
			if truth && !returned {
				t.Fatalf("%s: item %d matches but the server would not return it", q.filter, i)
			}
			if !returned {
				continue
			}
			kept, err := f.Keep(plain[i])
			if err != nil {
				t.Fatal(err)
			}
			if kept != truth {
				t.Fatalf("%s: item %d kept=%v, matches=%v", q.filter, i, kept, truth)
			}
			if !truth {
				falsePositives++
			}
		}
	}
	if falsePositives == 0 {
		t.Fatal("no collisions: the test does not exercise the filter")
	}
	t.Logf("%d false positives dropped", falsePositives)
}

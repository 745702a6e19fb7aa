package dynamodbenc

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// TestMapencBeaconsDynalite: mapenc, given the same configuration as a
// dynamodbenc table (beaconConfig plus a signed beacon), stores the same
// beacon attributes, with the same values, as dynamodbenc stores in
// DynamoDB for the same item; its Term values are those stored values; and
// each reads what the other wrote (dynamodbenc's Query through the beacon
// index finds items mapenc wrote).
func TestMapencBeaconsDynalite(t *testing.T) {
	raw := dynalite(t)
	table := beaconTable(t, raw)
	ctx := ctxT(t)
	tc := beaconConfig(t)
	sc := *tc.Search
	sc.Versions = slices.Clone(sc.Versions)
	sc.Versions[0].CompoundBeacons = append(slices.Clip(sc.Versions[0].CompoundBeacons),
		search.CompoundBeacon{Name: "KindCode", Split: "|", Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}}})
	tc.Search = &sc
	client, err := New(raw, Config{Tables: map[string]TableConfig{table: tc}})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := mapenc.New(mapenc.Config{
		TableName: table, Default: tc.Default, Overrides: tc.Overrides, PartitionKey: tc.PartitionKey, SortKey: tc.SortKey,
		Format: tc.Format, DBESDK: tc.DBESDK, Search: tc.Search,
	})
	if err != nil {
		t.Fatal(err)
	}
	beaconNames := func(it item) []string {
		var names []string
		for name := range it {
			if strings.HasPrefix(name, "aws_dbe_b_") || name == "aws_dbe_v_1" || name == "KindCode" {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	const count = 12
	for i := range count {
		it := beaconItem(i)
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatal(err)
		}
		pk := it["pk"].(*types.AttributeValueMemberS).Value
		theirs := (env{raw: raw, table: table}).rawGet(t, key(pk, i))
		ours, err := codec.Encrypt(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		names := beaconNames(theirs)
		if want := []string{"KindCode", "aws_dbe_b_KindEmail", "aws_dbe_b_NamePrefix", "aws_dbe_b_email", "aws_dbe_v_1"}; !slices.Equal(names, want) {
			t.Fatalf("item %d: dynamodbenc stored %v, want %v", i, names, want)
		}
		if got := beaconNames(ours); !slices.Equal(got, names) {
			t.Fatalf("item %d: mapenc stores %v, dynamodbenc %v", i, got, names)
		}
		for _, name := range names {
			if !equalItems(item{name: ours[name]}, item{name: theirs[name]}) {
				t.Errorf("item %d: %s: mapenc %s, dynamodbenc %s", i, name, show(item{name: ours[name]}), show(item{name: theirs[name]}))
			}
		}
		// Term gives what dynamodbenc stored.
		email := it["email"].(*types.AttributeValueMemberS).Value
		kind := it["kind"].(*types.AttributeValueMemberS).Value
		plain := maps.Clone(it)
		plain["KindCode"] = s("K-" + kind) // a signed beacon is the item's own attribute
		for beacon, q := range map[string]string{"email": email, "KindEmail": "K-" + kind + "|E-" + email} {
			term, err := codec.Term(ctx, beacon, search.Equals, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := theirs[term.Attribute].(*types.AttributeValueMemberS).Value; !slices.Equal(term.Values, []string{want}) {
				t.Errorf("item %d: Term(%s).Values = %v, dynamodbenc stored %s = %q", i, beacon, term.Values, term.Attribute, want)
			}
			// mapenc reads dynamodbenc's item as a match.
			var got item
			if ok, err := codec.DecryptMatch(ctx, theirs, term, &got); err != nil || !ok || !equalItems(got, plain) {
				t.Errorf("item %d: mapenc DecryptMatch of dynamodbenc's item: %v, %v", i, ok, err)
			}
		}
		// What mapenc writes (under another sort key), dynamodbenc reads.
		mine := maps.Clone(it)
		mine["sk"] = n(fmt.Sprint(100 + i))
		ours, err = codec.Encrypt(ctx, mine)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: ours}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range beaconEmails {
		out, err := client.Query(ctx, &dynamodb.QueryInput{
			TableName: &table, IndexName: aws.String(emailIndex),
			KeyConditionExpression:    aws.String("email = :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(e)},
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []item
		for i := range count {
			if it := beaconItem(i); it["email"].(*types.AttributeValueMemberS).Value == e {
				mine := maps.Clone(it)
				mine["sk"] = n(fmt.Sprint(100 + i))
				want = append(want, it, mine)
			}
		}
		for _, it := range want {
			it["KindCode"] = s("K-" + it["kind"].(*types.AttributeValueMemberS).Value)
		}
		sameSet(t, "email = "+e, out.Items, want)
	}
}

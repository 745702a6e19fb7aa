package search

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbexpr"
)

// FuzzTransformScan: any filter either is refused with an error or becomes
// one that parses, and its ResultFilter evaluates items without panicking;
// the caller's values are never modified.
func FuzzTransformScan(f *testing.F) {
	for _, seed := range []string{
		"Name = :a", "Mixed = :b AND std2 = :a", "begins_with(NameTitle, :b) OR Title IN (:a, :c)",
		"NOT Name = :a", "YearName BETWEEN :b AND :c", "attribute_exists(TooBad)", "size(Name) > :n", "#n = :a",
		"contains(:a, Year)", "contains(:a, Name)", "Year < Mixed", "Name >= Year OR Title = :a",
	} {
		f.Add(seed)
	}
	sr := newLiteral(f, lotsaBeacons(), fullPolicy(nil))
	f.Fuzz(func(t *testing.T, filter string) {
		vals := map[string]types.AttributeValue{":a": s("MyName"), ":b": s("N_MyName.Y_1984"), ":c": s("Y_1990"), ":n": n("3")}
		out, rf, err := sr.TransformScan(context.Background(), &dynamodb.ScanInput{FilterExpression: aws.String(filter),
			ExpressionAttributeNames: map[string]string{"#n": "NameTitleField"}, ExpressionAttributeValues: vals})
		if !avEqual(vals[":a"], s("MyName")) || !avEqual(vals[":b"], s("N_MyName.Y_1984")) {
			t.Fatal("the caller's values were modified")
		}
		if err != nil {
			return
		}
		if _, err := ddbexpr.Parse(*out.FilterExpression, out.ExpressionAttributeNames, out.ExpressionAttributeValues); err != nil {
			t.Fatalf("%q became %q, which does not parse: %v", filter, *out.FilterExpression, err)
		}
		_, _ = rf.Keep(simpleItem())
	})
}

package search

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

func benchSearch(b *testing.B, standards int, compound bool) *Search {
	o := map[string]actions.Action{"kind": actions.SignOnly}
	v := BeaconVersion{Version: 1, KeyStore: &StaticKeys{},
		KeySource: KeySource{Single: &SingleKeySource{BranchKeyID: "foo", CacheTTL: time.Hour}}}
	for i := range standards {
		v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: fmt.Sprintf("a%d", i), Length: 16})
	}
	if compound {
		v.CompoundBeacons = []CompoundBeacon{{Name: "c", Split: "|", Signed: []SignedPart{{Name: "kind", Prefix: "K-"}},
			Encrypted: []EncryptedPart{{Name: "a0", Prefix: "A-"}}}}
	}
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id", Overrides: o})
	return newLiteral(b, v, pol)
}

func benchItem(standards int) Item {
	it := Item{"id": s("item-1"), "kind": s("customer")}
	for i := range standards {
		it[fmt.Sprintf("a%d", i)] = s(fmt.Sprintf("someone%d@example.com", i))
	}
	return it
}

// BenchmarkPutBeacons: the beacon work a Put adds (AddSignedBeacons and
// EncryptedBeacons), per number of standard beacons and with a compound one.
func BenchmarkPutBeacons(b *testing.B) {
	for _, tc := range []struct {
		std      int
		compound bool
	}{{1, false}, {4, false}, {1, true}} {
		b.Run(fmt.Sprintf("standard=%d/compound=%v", tc.std, tc.compound), func(b *testing.B) {
			sr, it := benchSearch(b, tc.std, tc.compound), benchItem(tc.std)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				signed, err := sr.AddSignedBeacons(it)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sr.EncryptedBeacons(ctx, it, signed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransformQuery: rewriting a query on a beacon, against the same
// query on a plaintext (SignOnly) attribute, and the filter of one result.
func BenchmarkTransformQuery(b *testing.B) {
	sr := benchSearch(b, 1, true)
	ctx := context.Background()
	for _, tc := range []struct{ name, key, val string }{
		{"plaintext", "kind = :v", "customer"},
		{"standard", "a0 = :v", "someone0@example.com"},
		{"compound", "c = :v", "K-customer|A-someone0@example.com"},
	} {
		in := &dynamodb.QueryInput{TableName: aws.String("t"), IndexName: aws.String("gsi"), KeyConditionExpression: aws.String(tc.key),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(tc.val)}}
		b.Run("query="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := sr.TransformQuery(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	in := &dynamodb.QueryInput{KeyConditionExpression: aws.String("a0 = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("someone0@example.com")}}
	_, f, err := sr.TransformQuery(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	it := benchItem(1)
	b.Run("keep", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := f.Keep(it); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

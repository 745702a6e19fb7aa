package dynamodbenc

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// pageAPI stands in for DynamoDB in the beacon benchmarks: PutItem keeps
// the last item it is sent, Query and Scan return the items of page whose
// attribute pageAttr equals the request's value :v after beaconization
// (what a server with an index on pageAttr would return).
type pageAPI struct {
	API
	last     item
	page     []item
	pageAttr string
}

func (p *pageAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	p.last = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (p *pageAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	want := in.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberS).Value
	var items []item
	for _, it := range p.page {
		if v, ok := it[p.pageAttr].(*types.AttributeValueMemberS); ok && v.Value == want {
			// A copy, as the SDK would decode a fresh response.
			c := make(item, len(it))
			for k, v := range it {
				c[k] = v
			}
			items = append(items, c)
		}
	}
	return &dynamodb.QueryOutput{Items: items, Count: int32(len(items)), ScannedCount: int32(len(items))}, nil
}

// benchBeaconConfig is beaconConfig with only the beacons of the case,
// under suite 0x6700 (HMAC only): an ECDSA P-384 signature per item would
// hide the cost of beacons.
func benchBeaconConfig(b *testing.B, standard int, compound bool) TableConfig {
	tc := beaconConfig(b)
	tc.DBESDK.Suite = keyring.SuiteHMAC
	v := &tc.Search.Versions[0]
	names := []string{"email", "name", "card", "kind2"}
	v.StandardBeacons, v.VirtualFields, v.CompoundBeacons = nil, nil, nil
	if standard == 0 && !compound {
		tc.Search = nil
		return tc
	}
	for _, n := range names[:standard] {
		v.StandardBeacons = append(v.StandardBeacons, search.StandardBeacon{Name: n, Length: 16})
	}
	if compound {
		if standard == 0 {
			v.StandardBeacons = []search.StandardBeacon{{Name: "email", Length: 16}}
		}
		v.CompoundBeacons = []search.CompoundBeacon{{Name: "KindEmail", Split: "|",
			Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}}, Encrypted: []search.EncryptedPart{{Name: "email", Prefix: "E-"}}}}
	}
	return tc
}

// BenchmarkBeaconPut is one PutItem through the client, with no I/O (the
// API keeps the item): beacons=0 is the same DB-ESDK table without Search,
// the others add 1 or 4 standard beacons, or one standard beacon and one
// compound beacon over it. The cost of a beacon is the difference.
func BenchmarkBeaconPut(b *testing.B) {
	it := beaconItem(3)
	it["kind2"] = s("x")
	for _, bc := range []struct {
		name     string
		standard int
		compound bool
	}{
		{"beacons=0", 0, false}, {"standard=1", 1, false}, {"standard=4", 4, false}, {"standard=1+compound=1", 1, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tc := benchBeaconConfig(b, bc.standard, bc.compound)
			api := &pageAPI{}
			c := mustNew(b, api, Config{Tables: map[string]TableConfig{"t": tc}})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBeaconQuery is one Query through the client, with no I/O, of a
// page of 8 matching items: attr=plaintext asks for kind = :v on the
// SignOnly attribute (no rewriting), attr=beacon asks for email = :v on the
// encrypted attribute's 16-bit beacon (rewritten, the value hashed, every
// item checked against the plaintext condition after decryption), and
// attr=beacon-collisions=8 on a 1-bit beacon whose page also holds 8 items
// that only collide (decrypted, then dropped). The cost of a beacon query is
// the difference with attr=plaintext.
func BenchmarkBeaconQuery(b *testing.B) {
	for _, bc := range []struct {
		name       string
		length     int
		collisions int
		beacon     bool
	}{
		{"attr=plaintext", 16, 0, false}, {"attr=beacon", 16, 0, true}, {"attr=beacon-collisions=8", 1, 8, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tc := benchBeaconConfig(b, 1, false)
			tc.Search.Versions[0].StandardBeacons[0].Length = bc.length
			api := &pageAPI{}
			c := mustNew(b, api, Config{Tables: map[string]TableConfig{"t": tc}})
			ctx := context.Background()
			for i := range 8 + bc.collisions {
				it := item{"pk": s("p"), "sk": n(fmt.Sprint(i)), "email": s("match@example.com"), "kind": s("match"), "card": s("4111")}
				if i >= 8 {
					it["email"], it["kind"] = s(fmt.Sprintf("other%d@example.com", i)), s("other")
				}
				if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}); err != nil {
					b.Fatal(err)
				}
				api.page = append(api.page, api.last)
			}
			in := &dynamodb.QueryInput{TableName: aws.String("t"), KeyConditionExpression: aws.String("kind = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("match")}}
			api.pageAttr = "kind"
			if bc.beacon {
				in.KeyConditionExpression = aws.String("email = :v")
				in.ExpressionAttributeValues[":v"] = s("match@example.com")
				api.pageAttr = "aws_dbe_b_email"
				// Every item of the page shares the 1-bit beacon value of
				// the match in the collision case: make it so.
				if bc.collisions > 0 {
					want := api.page[0]["aws_dbe_b_email"]
					for _, it := range api.page {
						it["aws_dbe_b_email"] = want
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				out, err := c.Query(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Items) != 8 {
					b.Fatalf("%d items, want 8", len(out.Items))
				}
			}
		})
	}
}

package streams

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// testProvider is a wrapped provider (AES key wrap, HMAC-SHA256) with fresh
// random keys.
func testProvider(t testing.TB) cmp.Provider {
	t.Helper()
	kek, err := cmp.NewAESKey(random(32))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", random(32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ddbecConfig protects the customer items of a pk (S) / sk (N) table in the
// DDBEC format: card and profile encrypted, email signed, visits untouched.
func ddbecConfig(t testing.TB) dynamodbenc.TableConfig {
	return dynamodbenc.TableConfig{
		Provider:     testProvider(t),
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly, "visits": actions.DoNothing},
		PartitionKey: "pk", SortKey: "sk",
	}
}

// dbesdkConfig protects the same items in the DB-ESDK format, with a
// standard beacon on card (aws_dbe_b_card) under a hierarchical keyring.
func dbesdkConfig(t testing.TB) dynamodbenc.TableConfig {
	t.Helper()
	branch, err := hierarchy.NewBranchKey("streams-test", "5b1c9a52-0d2e-4f3a-9b8c-7d6e5f4a3b2c", random(32), random(32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(branch), func(o *hierarchy.Options) { o.BranchKeyID = "streams-test" })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := search.NewStaticKeys(branch)
	if err != nil {
		t.Fatal(err)
	}
	tc := ddbecConfig(t)
	tc.Provider = nil
	tc.Format = itemcrypto.FormatDBESDK
	tc.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits"}}
	tc.Search = &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
		Version:         1,
		KeyStore:        keys,
		KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "streams-test", CacheTTL: time.Hour}},
		StandardBeacons: []search.StandardBeacon{{Name: "card", Length: 8}},
	}}}
	return tc
}

// customer is the sample item; version changes the values of every
// non-key attribute.
func customer(pk string, sk, version int) item {
	return item{
		"pk":     s(pk),
		"sk":     n(fmt.Sprint(sk)),
		"email":  s(fmt.Sprintf("user%d.v%d@example.com", sk, version)),
		"card":   s(fmt.Sprintf("4111-%04d-%d", sk, version)),
		"visits": n(fmt.Sprint(sk*10 + version)),
		"profile": &types.AttributeValueMemberM{Value: item{
			"name":  s(fmt.Sprintf("name %d v%d", sk, version)),
			"tags":  &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
			"photo": &types.AttributeValueMemberB{Value: []byte{0, 1, 2, byte(version)}},
			"score": &types.AttributeValueMemberNS{Value: []string{"1.5", "-2"}},
			"list":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberNULL{Value: true}}},
		}},
	}
}

func equalItems(a, b item) bool { return ddbjson.EqualItems(a, b, ddbserial.CanonicalNumber) }

func show(it item) string {
	j, err := ddbjson.MarshalItem(it)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(j)
}

func wantItem(t testing.TB, what string, got, want item) {
	t.Helper()
	if !equalItems(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

// streamARN is the ARN of a table's stream as AWS writes it: the label is
// the stream's creation time, colons included.
func streamARN(table string) string {
	return "arn:aws:dynamodb:us-east-1:123456789012:table/" + table + "/stream/2024-05-01T12:34:56.789"
}

// change is one write to a table as a stream record shows it: the key and
// the stored (encrypted) item before and after (nil for none).
type change struct {
	name     string // INSERT, MODIFY or REMOVE
	key      item
	old, new item
}

// eventJSON builds the JSON of a Lambda DynamoDB event, in the shape AWS
// documents ("Example DynamoDB Streams event", the Lambda developer
// guide): each record with eventID, eventName, eventVersion, eventSource,
// awsRegion, the dynamodb record (ApproximateCreationDateTime, Keys,
// NewImage and OldImage as the view type has them, SequenceNumber,
// SizeBytes, StreamViewType) and eventSourceARN. Images are DynamoDB JSON.
func eventJSON(t testing.TB, table, view string, seq0 int, changes ...change) []byte {
	t.Helper()
	var records []map[string]any
	for i, c := range changes {
		rec := map[string]any{
			"ApproximateCreationDateTime": 1714566896,
			"Keys":                        raw(t, c.key),
			"SequenceNumber":              fmt.Sprintf("%021d", seq0+i),
			"SizeBytes":                   len(show(c.key)) + len(show(c.old)) + len(show(c.new)),
			"StreamViewType":              view,
		}
		if c.new != nil && (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
			rec["NewImage"] = raw(t, c.new)
		}
		if c.old != nil && (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
			rec["OldImage"] = raw(t, c.old)
		}
		records = append(records, map[string]any{
			"eventID":        fmt.Sprintf("c4ca4238a0b923820dcc509a6f75849b-%d", seq0+i),
			"eventName":      c.name,
			"eventVersion":   "1.1",
			"eventSource":    "aws:dynamodb",
			"awsRegion":      "us-east-1",
			"dynamodb":       rec,
			"eventSourceARN": streamARN(table),
		})
	}
	out, err := json.MarshalIndent(map[string]any{"Records": records}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func raw(t testing.TB, it item) json.RawMessage {
	t.Helper()
	j, err := ddbjson.MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

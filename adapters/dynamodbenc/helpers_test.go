package dynamodbenc

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// testProvider is a wrapped provider (AES key wrap, HMAC-SHA256) with fresh
// random keys.
func testProvider(t testing.TB) cmp.Provider {
	t.Helper()
	kekBytes, macBytes := make([]byte, 32), make([]byte, 32)
	rand.Read(kekBytes)
	rand.Read(macBytes)
	kek, err := cmp.NewAESKey(kekBytes)
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", macBytes)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Value shorthands.
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func b(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }
func m(v map[string]types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: v}
}
func l(v ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: v} }

type item = map[string]types.AttributeValue

// equalItems compares items, numbers by value.
func equalItems(a, b item) bool { return ddbjson.EqualItems(a, b, ddbserial.CanonicalNumber) }

// show prints an item as DynamoDB JSON, for failure messages of tests on
// random test data only.
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

// customer is the sample item of the tests: "pk"/"sk" keys, "card" and
// "profile" encrypted (default), "email" signed, "visits" untouched.
func customer(pk string, sk int) item {
	return item{
		"pk":     s(pk),
		"sk":     n(fmt.Sprint(sk)),
		"email":  s(fmt.Sprintf("user%d@example.com", sk)),
		"card":   s(fmt.Sprintf("4111-%04d", sk)),
		"visits": n(fmt.Sprint(sk * 10)),
		"profile": m(item{
			"name": s(fmt.Sprintf("name %d", sk)),
			"tags": l(s("a"), s("b"), s("c")),
			"addr": m(item{"city": s("Lyon"), "zip": s("69001")}),
		}),
	}
}

// customerConfig is the table configuration matching customer.
func customerConfig(p cmp.Provider, withKeys bool) TableConfig {
	tc := TableConfig{
		Provider:  p,
		Default:   actions.EncryptAndSign,
		Overrides: map[string]actions.Action{"email": actions.SignOnly, "visits": actions.DoNothing},
	}
	if withKeys {
		tc.PartitionKey, tc.SortKey = "pk", "sk"
	}
	return tc
}

// dynalite returns a plain SDK client of the test server, or skips.
func dynalite(t testing.TB) *dynamodb.Client {
	t.Helper()
	return testenv.DynamoDBClient(t)
}

// newTable makes a pk (S) / sk (N) table on the test server.
func newTable(t testing.TB, raw *dynamodb.Client) string {
	t.Helper()
	return testenv.NewTable(t, raw, "pk", "S", "sk", "N")
}

func mustNew(t testing.TB, api API, cfg Config, optFns ...func(*Options)) *Client {
	t.Helper()
	c, err := New(api, cfg, optFns...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func key(pk string, sk int) item { return item{"pk": s(pk), "sk": n(fmt.Sprint(sk))} }

// noValues fails when err's message contains any of the values.
func noValues(t testing.TB, err error, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error message contains the value %q: %v", v, err)
		}
	}
}

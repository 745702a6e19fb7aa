package dynamodbenc

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func testKeyring(t testing.TB) keyring.Keyring {
	k := make([]byte, 32)
	rand.Read(k)
	kr, err := keyring.NewRawAES("dynamodbenc-test", "key-1", k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// dbesdkConfig is customerConfig in the DB-ESDK format: "visits" is the
// allowed-unsigned DoNothing attribute.
func dbesdkConfig(kr keyring.Keyring, legacy cmp.Provider) TableConfig {
	tc := customerConfig(legacy, false)
	tc.Format = itemcrypto.FormatDBESDK
	tc.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits"}}
	if legacy != nil {
		tc.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
	}
	return tc
}

func testDBESDKDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := newTable(t, raw)
	ctx := ctxT(t)
	c := f.client(t, raw, Config{Tables: map[string]TableConfig{table: dbesdkConfig(testKeyring(t), nil)}})
	for i := 1; i <= 5; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: customer("alice", i)}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	stored, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("alice", 1), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"card": "B", "profile": "B", "email": "S", "visits": "N", "aws_dbe_head": "B", "aws_dbe_foot": "B"} {
		if got := typeOf(stored.Item[name]); got != want {
			t.Errorf("stored %q is %s, want %s", name, got, want)
		}
	}
	if _, ok := stored.Item[itemcrypto.SignatureAttribute]; ok {
		t.Error("DDBEC signature on a DB-ESDK item")
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("alice", 1), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem", got.Item, customer("alice", 1))

	// A projection of one attribute reads the whole signed item and trims.
	proj, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("alice", 2), ProjectionExpression: aws.String("card")})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "projected GetItem", proj.Item, item{"card": customer("alice", 2)["card"]})

	// Query across pages.
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("alice")}, Limit: aws.Int32(2),
	})
	count := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			count++
			wantItem(t, "Query", it, customer("alice", count))
		}
	}
	if count != 5 {
		t.Fatalf("Query returned %d items, want 5", count)
	}

	// An update of the unsigned attribute keeps the item valid; it requires
	// the DB-ESDK footer, so it cannot create an unprotected item.
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("alice", 3),
		UpdateExpression: aws.String("SET visits = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("99")}}); err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	got, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("alice", 3), ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item["visits"].(*types.AttributeValueMemberN).Value != "99" {
		t.Fatalf("after update: %v %v", got, err)
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("nobody", 1),
		UpdateExpression: aws.String("SET visits = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("1")}})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("update creating an item: %v, want ConditionalCheckFailedException", err)
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("alice", 3),
		UpdateExpression: aws.String("SET aws_dbe_foot = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("1")}}); err == nil {
		t.Fatal("update of aws_dbe_foot accepted")
	}

	// Tampering in the table is caught on read.
	stored.Item["email"] = s("mallory@example.com")
	if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: stored.Item}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("alice", 1), ConsistentRead: aws.Bool(true)}); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Fatalf("tampered item: %v, want ErrAuthentication", err)
	}
}

func TestDBESDKDynalite(t *testing.T) { forEachForm(t, testDBESDKDynalite) }

// TestDBESDKMigrationDynalite: a table of DDBEC items, read by a DB-ESDK
// client with the legacy override while new items are written as DB-ESDK.
func testDBESDKMigrationDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := newTable(t, raw)
	ctx := ctxT(t)
	prov := testProvider(t)
	legacy := f.client(t, raw, Config{Tables: map[string]TableConfig{table: customerConfig(prov, false)}})
	if _, err := legacy.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: customer("bob", 1)}); err != nil {
		t.Fatal(err)
	}
	kr := testKeyring(t)
	mig := f.client(t, raw, Config{Tables: map[string]TableConfig{table: dbesdkConfig(kr, prov)}})
	if _, err := mig.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: customer("bob", 2)}); err != nil {
		t.Fatal(err)
	}
	out, err := mig.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("bob")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 {
		t.Fatalf("%d items", len(out.Items))
	}
	for i, it := range out.Items {
		wantItem(t, "migrating Query", it, customer("bob", i+1))
	}
	// Without the override the DDBEC item is refused.
	strict := f.client(t, raw, Config{Tables: map[string]TableConfig{table: dbesdkConfig(kr, nil)}})
	if _, err := strict.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("bob", 1), ConsistentRead: aws.Bool(true)}); !errors.Is(err, itemcrypto.ErrFormatNotAllowed) {
		t.Fatalf("legacy item without the override: %v", err)
	}
}

func TestDBESDKMigrationDynalite(t *testing.T) { forEachForm(t, testDBESDKMigrationDynalite) }

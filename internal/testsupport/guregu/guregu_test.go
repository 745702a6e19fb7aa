// Package guregu tests dynamodbenc's client option through guregu/dynamo
// v2, a library that holds no client interface of ours: it builds its own
// *dynamodb.Client from an aws.Config and the client options it is given.
package guregu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// Customer is the library's view of an item: card and email encrypted,
// email searchable through its beacon, kind signed, visits unsigned.
type Customer struct {
	PK     string `dynamo:"pk,hash"`
	SK     int    `dynamo:"sk,range"`
	Email  string `dynamo:"email"`
	Card   string `dynamo:"card"`
	Kind   string `dynamo:"kind"`
	Visits int    `dynamo:"visits"`
}

const emailIndex = "email-index" // hash aws_dbe_b_email

var emails = []string{"ann@x.org", "bob@x.org", "cy@x.org", "dee@x.org", "eve@x.org", "fay@x.org"}

func customer(i int) Customer {
	return Customer{PK: fmt.Sprintf("tenant%d", i%2), SK: i, Email: emails[(i*5)%len(emails)],
		Card: fmt.Sprintf("4111-%04d", i), Kind: []string{"admin", "user"}[i%2], Visits: i * 3}
}

// config protects the table in the DB-ESDK format with a 2-bit beacon on
// email: four beacon values for six addresses, so a query by email always
// brings items of other addresses, which the option must remove.
func config(t *testing.T, table string) dynamodbenc.Config {
	t.Helper()
	branch, beacon := bytes.Repeat([]byte{0x42}, 32), bytes.Repeat([]byte{0x5a}, 32)
	bk, err := hierarchy.NewBranchKey("tenant-key", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60", branch, beacon)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-key" })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	return dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{table: {
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"kind": actions.SignOnly, "visits": actions.DoNothing},
		PartitionKey: "pk", SortKey: "sk",
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits"}},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: keys,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 2}},
		}}},
	}}}
}

// newTable makes the table, with a GSI on the email beacon.
func newTable(t *testing.T, raw *dynamodb.Client) string {
	t.Helper()
	name := testenv.TableName(t)
	str := types.ScalarAttributeTypeS
	return testenv.CreatedTable(t, raw, name, func(ctx context.Context) error {
		_, err := raw.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   &name,
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: str},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
				{AttributeName: aws.String("aws_dbe_b_email"), AttributeType: str},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String(emailIndex),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("aws_dbe_b_email"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
		})
		return err
	})
}

func TestGureguDynalite(t *testing.T) {
	endpoint := testenv.DynamoDBEndpoint(t)
	raw := testenv.DynamoDBClient(t)
	table := newTable(t, raw)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The library builds its client from an aws.Config and our option.
	opt, err := dynamodbenc.NewOption(config(t, table))
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 3,
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", "")}
	db := dynamo.New(awsCfg, opt)
	tbl := db.Table(table)

	const count = 16
	var all []Customer
	for i := range count {
		all = append(all, customer(i))
	}
	// Puts one by one, then a batch write.
	for _, c := range all[:8] {
		if err := tbl.Put(c).Run(ctx); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	var batch []any
	for _, c := range all[8:] {
		batch = append(batch, c)
	}
	if wrote, err := tbl.Batch("pk", "sk").Write().Put(batch...).Run(ctx); err != nil || wrote != len(batch) {
		t.Fatalf("batch write: wrote %d, %v", wrote, err)
	}

	// What DynamoDB holds is encrypted, with the beacon beside it.
	for _, i := range []int{3, 12} {
		st, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: all[i].PK}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"email", "card"} {
			if _, ok := st.Item[name].(*types.AttributeValueMemberB); !ok {
				t.Errorf("item %d: %s is not stored encrypted", i, name)
			}
		}
		if _, ok := st.Item["aws_dbe_b_email"]; !ok {
			t.Errorf("item %d: no email beacon", i)
		}
	}

	// Get by primary key (GetItem).
	var got Customer
	if err := tbl.Get("pk", all[5].PK).Range("sk", dynamo.Equal, 5).One(ctx, &got); err != nil || got != all[5] {
		t.Errorf("Get = %+v, %v; want %+v", got, err, all[5])
	}

	// Query by key, three items a page.
	var list []Customer
	var next dynamo.PagingKey
	for pages := 1; ; pages++ {
		var page []Customer
		q := tbl.Get("pk", "tenant1").SearchLimit(3)
		if next != nil {
			q = q.StartFrom(next)
		}
		if next, err = q.AllWithLastEvaluatedKey(ctx, &page); err != nil {
			t.Fatalf("query by key, page %d: %v", pages, err)
		}
		list = append(list, page...)
		if next == nil || pages > 10 {
			break
		}
	}
	var want []Customer
	for _, c := range all {
		if c.PK == "tenant1" {
			want = append(want, c)
		}
	}
	if !slices.Equal(list, want) {
		t.Errorf("query by key = %+v, want %+v", list, want)
	}

	// Query by the encrypted email, through its beacon's index: exactly
	// the items of that address, although the 2-bit beacon brings others.
	for _, e := range emails[:3] {
		list = nil
		if err := tbl.Get("email", e).Index(emailIndex).All(ctx, &list); err != nil {
			t.Fatalf("query by email %s: %v", e, err)
		}
		want = nil
		for _, c := range all {
			if c.Email == e {
				want = append(want, c)
			}
		}
		slices.SortFunc(list, func(a, b Customer) int { return a.SK - b.SK })
		if len(want) == 0 || !slices.Equal(list, want) {
			t.Errorf("query by email %s = %+v, want %+v", e, list, want)
		}
	}

	// Batch get.
	list = nil
	if err := tbl.Batch("pk", "sk").Get(dynamo.Keys{"tenant0", 2}, dynamo.Keys{"tenant1", 9}, dynamo.Keys{"tenant0", 14}).All(ctx, &list); err != nil {
		t.Fatalf("batch get: %v", err)
	}
	slices.SortFunc(list, func(a, b Customer) int { return a.SK - b.SK })
	if want := []Customer{all[2], all[9], all[14]}; !slices.Equal(list, want) {
		t.Errorf("batch get = %+v, want %+v", list, want)
	}

	// A condition on an encrypted attribute is refused before sending.
	err = tbl.Put(all[0]).If("'card' = ?", all[0].Card).Run(ctx)
	if !errors.Is(err, dynamodbenc.ErrUnsafeOperation) {
		t.Errorf("Put with a condition on card: err = %v, want ErrUnsafeOperation", err)
	}

	// The same library without the option sees only ciphertext.
	plain := dynamo.New(awsCfg).Table(table)
	var stored map[string]any
	if err := plain.Get("pk", all[5].PK).Range("sk", dynamo.Equal, 5).One(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["card"].([]byte); !ok {
		t.Errorf("without the option, card = %T, want ciphertext bytes", stored["card"])
	}
}

package dynamodbenc

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestWriteForm: a table configured for a reference reader signs in its
// form, and the client reads items of every form back.
func TestWriteForm(t *testing.T) {
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberN{Value: "1"},
		"zero":   &types.AttributeValueMemberN{Value: "-0"},
		"binSet": &types.AttributeValueMemberBS{Value: [][]byte{{0x01}, {0x80}}},
	}
	pol, err := actions.New(actions.Options{Default: actions.SignOnly, PartitionKey: "pk", SortKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	for _, f := range []itemcrypto.Form{itemcrypto.FormDefault, itemcrypto.FormJava, itemcrypto.FormPython} {
		tc := TableConfig{Provider: testProvider(t), Default: actions.SignOnly, PartitionKey: "pk", SortKey: "sk", WriteForm: f}
		c := mustNew(t, mem, Config{Tables: map[string]TableConfig{"t": tc}})
		if _, err := c.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
			t.Fatal(err)
		}
		raw, err := mem.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}})
		if err != nil {
			t.Fatal(err)
		}
		// f gives a string to sign of its own: the divergent values are signed differently in every form.
		for _, g := range []itemcrypto.Form{itemcrypto.FormDefault, itemcrypto.FormJava, itemcrypto.FormPython} {
			sts, err := itemcrypto.StringToSignForm("t", raw.Item, pol, g)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := itemcrypto.StringToSignForm("t", item, pol, f)
			if (string(sts) == string(want)) != (g == f) {
				t.Errorf("written in %v: string to sign in %v equal: %v", f, g, g != f)
			}
		}
		// A default-form client reads it.
		reader := mustNew(t, mem, Config{Tables: map[string]TableConfig{"t": {Provider: tc.Provider, Default: actions.SignOnly, PartitionKey: "pk", SortKey: "sk"}}})
		got, err := reader.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}})
		if err != nil {
			t.Fatalf("written in %v: GetItem: %v", f, err)
		}
		if got.Item["zero"].(*types.AttributeValueMemberN).Value != "-0" {
			t.Errorf("written in %v: number not returned as stored", f)
		}
	}
}

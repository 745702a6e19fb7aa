package dynamodbenc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// secretValue is the value every refused request carries; no error may show it.
const secretValue = "s3cr3t-value"

var secretValues = map[string]types.AttributeValue{":v": s(secretValue), ":w": s(secretValue + "2")}

type guardCase struct {
	name string
	op   string
	attr string // the attribute the refusal names, "" for none
	call func(ctx context.Context, c API, table string) error
}

func guardCases() []guardCase {
	tn := aws.String
	put := func(cond string, names map[string]string) func(ctx context.Context, c API, table string) error {
		return func(ctx context.Context, c API, table string) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn(table), Item: customer("p", 1),
				ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: secretValues})
			return err
		}
	}
	update := func(upd, cond string, names map[string]string) func(ctx context.Context, c API, table string) error {
		return func(ctx context.Context, c API, table string) error {
			in := &dynamodb.UpdateItemInput{TableName: tn(table), Key: key("p", 1), UpdateExpression: aws.String(upd),
				ExpressionAttributeNames: names, ExpressionAttributeValues: secretValues}
			if cond != "" {
				in.ConditionExpression = aws.String(cond)
			}
			_, err := c.UpdateItem(ctx, in)
			return err
		}
	}
	query := func(in dynamodb.QueryInput) func(ctx context.Context, c API, table string) error {
		return func(ctx context.Context, c API, table string) error {
			in.TableName = tn(table)
			if in.ExpressionAttributeValues == nil {
				in.ExpressionAttributeValues = secretValues
			}
			_, err := c.Query(ctx, &in)
			return err
		}
	}
	scan := func(in dynamodb.ScanInput) func(ctx context.Context, c API, table string) error {
		return func(ctx context.Context, c API, table string) error {
			in.TableName = tn(table)
			_, err := c.Scan(ctx, &in)
			return err
		}
	}
	transact := func(items ...types.TransactWriteItem) func(ctx context.Context, c API, table string) error {
		return func(ctx context.Context, c API, table string) error {
			for _, ti := range items {
				switch {
				case ti.Put != nil:
					ti.Put.TableName = tn(table)
				case ti.Update != nil:
					ti.Update.TableName = tn(table)
				case ti.Delete != nil:
					ti.Delete.TableName = tn(table)
				case ti.ConditionCheck != nil:
					ti.ConditionCheck.TableName = tn(table)
				}
			}
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			return err
		}
	}
	okPut := func() types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{Item: customer("p", 2)}}
	}
	return []guardCase{
		{"PutItem/condition on encrypted", "PutItem", "card", put("card = :v", nil)},
		{"PutItem/condition on nested encrypted", "PutItem", "profile", put("#p.#n = :v", map[string]string{"#p": "profile", "#n": "name"})},
		{"PutItem/nested existence on encrypted", "PutItem", "card", put("attribute_exists(card.x)", nil)},
		{"PutItem/begins_with on encrypted", "PutItem", "card", put("attribute_not_exists(pk) OR begins_with(card, :v)", nil)},
		{"PutItem/unparseable condition", "PutItem", "", put("card = 'x'", nil)},
		{"PutItem/unknown placeholder", "PutItem", "", put("#nope = :v", nil)},
		{"PutItem/legacy Expected", "PutItem", "", func(ctx context.Context, c API, table string) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn(table), Item: customer("p", 1),
				Expected: map[string]types.ExpectedAttributeValue{"card": {Value: s(secretValue)}}})
			return err
		}},
		{"DeleteItem/condition on encrypted", "DeleteItem", "card", func(ctx context.Context, c API, table string) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn(table), Key: key("p", 1),
				ConditionExpression: aws.String("contains(card, :v)"), ExpressionAttributeValues: secretValues})
			return err
		}},
		{"DeleteItem/legacy ConditionalOperator", "DeleteItem", "", func(ctx context.Context, c API, table string) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn(table), Key: key("p", 1),
				ConditionalOperator: types.ConditionalOperatorAnd})
			return err
		}},
		{"UpdateItem/set signed", "UpdateItem", "email", update("SET email = :v", "", nil)},
		{"UpdateItem/set encrypted", "UpdateItem", "card", update("SET #c = :v", "", map[string]string{"#c": "card"})},
		{"UpdateItem/nested encrypted", "UpdateItem", "profile", update("SET profile.tags[0] = :v", "", nil)},
		{"UpdateItem/read encrypted into do-nothing", "UpdateItem", "card", update("SET visits = card", "", nil)},
		{"UpdateItem/remove encrypted", "UpdateItem", "card", update("SET visits = :v REMOVE card", "", nil)},
		{"UpdateItem/add new attribute (default signs)", "UpdateItem", "fresh", update("ADD fresh :v", "", nil)},
		{"UpdateItem/key", "UpdateItem", "sk", update("SET sk = :v", "", nil)},
		{"UpdateItem/reserved", "UpdateItem", "*amzn-ddb-map-sig*", update("REMOVE #s", "", map[string]string{"#s": "*amzn-ddb-map-sig*"})},
		{"UpdateItem/condition on encrypted", "UpdateItem", "card", update("SET visits = :v", "card = :w", nil)},
		{"UpdateItem/legacy AttributeUpdates", "UpdateItem", "", func(ctx context.Context, c API, table string) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn(table), Key: key("p", 1),
				AttributeUpdates: map[string]types.AttributeValueUpdate{"visits": {Value: n("1")}}})
			return err
		}},
		{"Query/key condition on encrypted (index)", "Query", "card", query(dynamodb.QueryInput{IndexName: aws.String("by_card"),
			KeyConditionExpression: aws.String("card = :v")})},
		{"Query/filter on encrypted", "Query", "profile", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"),
			FilterExpression: aws.String("begins_with(#p.#n, :w)"), ExpressionAttributeNames: map[string]string{"#p": "profile", "#n": "name"}})},
		{"Query/legacy KeyConditions with KeyConditionExpression", "Query", "", query(dynamodb.QueryInput{KeyConditions: map[string]types.Condition{
			"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s(secretValue)}}},
			KeyConditionExpression: aws.String("pk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(secretValue)}})},
		{"Query/legacy KeyConditions on encrypted (index)", "Query", "card", query(dynamodb.QueryInput{IndexName: aws.String("by_card"),
			KeyConditions: map[string]types.Condition{
				"card": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s(secretValue)}}}})},
		{"Query/legacy KeyConditions, not a key operator", "Query", "", query(dynamodb.QueryInput{KeyConditions: map[string]types.Condition{
			"pk": {ComparisonOperator: types.ComparisonOperatorContains, AttributeValueList: []types.AttributeValue{s(secretValue)}}}})},
		{"Query/legacy QueryFilter", "Query", "", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(secretValue)},
			QueryFilter:               map[string]types.Condition{"card": {ComparisonOperator: types.ComparisonOperatorNotNull}}})},
		{"Query/legacy AttributesToGet", "Query", "", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(secretValue)}, AttributesToGet: []string{"email"}})},
		{"Query/unparseable projection", "Query", "", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(secretValue)}, ProjectionExpression: aws.String("size(card)")})},
		{"Scan/filter on encrypted", "Scan", "card", scan(dynamodb.ScanInput{FilterExpression: aws.String("card = :v OR visits > :w"),
			ExpressionAttributeValues: secretValues})},
		{"Scan/legacy ScanFilter", "Scan", "", scan(dynamodb.ScanInput{ScanFilter: map[string]types.Condition{
			"card": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s(secretValue)}}}})},
		{"Scan/legacy AttributesToGet", "Scan", "", scan(dynamodb.ScanInput{AttributesToGet: []string{"card"}})},
		{"GetItem/legacy AttributesToGet", "GetItem", "", func(ctx context.Context, c API, table string) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn(table), Key: key("p", 1), AttributesToGet: []string{"card"}})
			return err
		}},
		{"BatchGetItem/legacy AttributesToGet", "BatchGetItem", "", func(ctx context.Context, c API, table string) error {
			_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: []map[string]types.AttributeValue{key("p", 1)}, AttributesToGet: []string{"card"}}}})
			return err
		}},
		{"TransactWriteItems/update signed", "TransactWriteItems", "email", transact(okPut(),
			types.TransactWriteItem{Update: &types.Update{Key: key("p", 1), UpdateExpression: aws.String("SET email = :v"),
				ExpressionAttributeValues: secretValues}})},
		{"TransactWriteItems/condition check on encrypted", "TransactWriteItems", "card", transact(okPut(),
			types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{Key: key("p", 1), ConditionExpression: aws.String("card = :v"),
				ExpressionAttributeValues: secretValues}})},
		{"TransactWriteItems/delete condition on encrypted", "TransactWriteItems", "card", transact(okPut(),
			types.TransactWriteItem{Delete: &types.Delete{Key: key("p", 1), ConditionExpression: aws.String("size(card) > :v"),
				ExpressionAttributeValues: secretValues}})},
		{"TransactWriteItems/put condition on encrypted", "TransactWriteItems", "card", transact(
			types.TransactWriteItem{Put: &types.Put{Item: customer("p", 3), ConditionExpression: aws.String("card <> :v"),
				ExpressionAttributeValues: secretValues}})},
		{"ExecuteStatement", "ExecuteStatement", "", func(ctx context.Context, c API, table string) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
				Statement: aws.String(`SELECT * FROM "` + table + `" WHERE pk = ?`), Parameters: []types.AttributeValue{s(secretValue)}})
			return err
		}},
		{"BatchExecuteStatement", "BatchExecuteStatement", "", func(ctx context.Context, c API, table string) error {
			_, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
				{Statement: aws.String(`SELECT * FROM "elsewhere" WHERE pk = ?`), Parameters: []types.AttributeValue{s(secretValue)}},
				{Statement: aws.String(`INSERT INTO "` + table + `" VALUE {'pk': ?, 'sk': 1}`), Parameters: []types.AttributeValue{s(secretValue)}},
			}})
			return err
		}},
		{"ExecuteTransaction", "ExecuteTransaction", "", func(ctx context.Context, c API, table string) error {
			_, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
				{Statement: aws.String(`UPDATE ` + table + ` SET visits = 1 WHERE pk = ? AND sk = 1`), Parameters: []types.AttributeValue{s(secretValue)}},
			}})
			return err
		}},
	}
}

// runGuardCases checks that every case is refused with an
// *UnsafeOperationError before any data request reaches next.
func runGuardCases(t *testing.T, f form, next API, table string, describe bool) {
	sp := &spy{next: next}
	c := f.client(t, sp, Config{Tables: map[string]TableConfig{table: customerConfig(testProvider(t), !describe)}})
	for _, tc := range guardCases() {
		t.Run(tc.name, func(t *testing.T) {
			sp.reset()
			err := tc.call(ctxT(t), c, table)
			if !errors.Is(err, ErrUnsafeOperation) {
				t.Fatalf("err = %v, want ErrUnsafeOperation", err)
			}
			var ue *UnsafeOperationError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %T, want *UnsafeOperationError", err)
			}
			if ue.Op != tc.op || ue.Table != table || ue.Attribute != tc.attr || ue.Reason == "" {
				t.Errorf("err = %+v, want Op %s, Table %s, Attribute %q", ue, tc.op, table, tc.attr)
			}
			if tc.attr != "" && !strings.Contains(err.Error(), tc.attr) {
				t.Errorf("message does not name the attribute %q: %v", tc.attr, err)
			}
			noValues(t, err, secretValue)
			if got := sp.dataCalls(); len(got) != 0 {
				t.Errorf("requests sent before the refusal: %v", got)
			}
		})
	}
}

// TestGuardRails runs hermetically, over the in-memory fake.
func TestGuardRails(t *testing.T) {
	forEachForm(t, func(t *testing.T, f form) {
		mem := newMemAPI()
		mem.createTable("customers", "pk", "sk")
		t.Run("keys configured", func(t *testing.T) { runGuardCases(t, f, mem, "customers", false) })
		t.Run("keys from DescribeTable", func(t *testing.T) { runGuardCases(t, f, mem, "customers", true) })
	})
}

// TestGuardRailsDynalite runs the same cases with dynalite beneath the
// client: nothing reaches it.
func TestGuardRailsDynalite(t *testing.T) {
	forEachForm(t, func(t *testing.T, f form) {
		raw := dynalite(t)
		table := newTable(t, raw)
		t.Run("keys configured", func(t *testing.T) { runGuardCases(t, f, raw, table, false) })
		t.Run("keys from DescribeTable", func(t *testing.T) { runGuardCases(t, f, raw, table, true) })
	})
}

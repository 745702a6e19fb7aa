package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbexpr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

// The DB-ESDK's query vectors (TestVectors.dfy BasicQueryTest and
// ComplexTests over configs.json, records.json and data.json), against
// dynalite.

// queryAPI is what the vector queries need of a client: ours or the SDK's.
type queryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// recordingAPI keeps the ExpressionAttributeValues of every Query and Scan
// that reaches DynamoDB.
type recordingAPI struct {
	countingAPI
	sent []map[string]types.AttributeValue
}

func (r *recordingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.sent = append(r.sent, in.ExpressionAttributeValues)
	return r.countingAPI.Query(ctx, in, optFns...)
}

func (r *recordingAPI) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	r.sent = append(r.sent, in.ExpressionAttributeValues)
	return r.countingAPI.Scan(ctx, in, optFns...)
}

// encryptedOperands returns the placeholders q compares with (=, IN) an
// EncryptAndSign attribute of policy.
func encryptedOperands(t *testing.T, d *vectors.DBESDKQueryData, q vectors.DBESDKQuery, encrypted func(string) bool) []string {
	t.Helper()
	names, values := d.Used(q)
	var out []string
	for _, text := range []string{q.Key, q.Filter} {
		if text == "" {
			continue
		}
		e, err := ddbexpr.Parse(text, names, values)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		ddbexpr.Walk(e, func(n ddbexpr.Node) bool {
			var p *ddbexpr.Path
			var ops []ddbexpr.Operand
			switch x := n.(type) {
			case *ddbexpr.Compare:
				p, _ = x.Left.(*ddbexpr.Path)
				ops = []ddbexpr.Operand{x.Right}
			case *ddbexpr.In:
				p, _ = x.X.(*ddbexpr.Path)
				ops = x.List
			}
			if p != nil && encrypted(p.Top()) {
				for _, o := range ops {
					if v, ok := o.(*ddbexpr.Value); ok {
						out = append(out, v.Placeholder)
					}
				}
			}
			return true
		})
	}
	return out
}

// vectorTable makes a fresh table keyed by RecNum (N), as the harness's
// WriteAllRecords does, and writes the records through c.
func vectorTable(t *testing.T, raw *dynamodb.Client, c func(table string) queryAPI, records []item) (string, queryAPI) {
	t.Helper()
	table := testenv.NewTable(t, raw, "RecNum", "N", "", "")
	api := c(table)
	ctx := context.Background()
	for i, rec := range records {
		if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: rec}); err != nil {
			t.Fatalf("PutItem record %d: %v", i, err)
		}
	}
	return table, api
}

// fullSearch is the harness's FullSearch: a Query when q has a key
// condition, else a Scan, run over every page (Limit 1, so that every
// query crosses pages).
func fullSearch(ctx context.Context, api queryAPI, table string, d *vectors.DBESDKQueryData, q vectors.DBESDKQuery) ([]item, error) {
	names, values := d.Used(q)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	var out []item
	var start map[string]types.AttributeValue
	for page := 0; ; page++ {
		if page > 100 {
			return nil, errors.New("more than 100 pages")
		}
		var items []item
		var last map[string]types.AttributeValue
		if q.Key != "" {
			res, err := api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: opt(q.Index),
				KeyConditionExpression: opt(q.Key), FilterExpression: opt(q.Filter), ExclusiveStartKey: start, Limit: aws.Int32(1),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values})
			if err != nil {
				return nil, err
			}
			items, last = res.Items, res.LastEvaluatedKey
		} else {
			res, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: opt(q.Index),
				FilterExpression: opt(q.Filter), ExclusiveStartKey: start, Limit: aws.Int32(1),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values})
			if err != nil {
				return nil, err
			}
			items, last = res.Items, res.LastEvaluatedKey
		}
		out = append(out, items...)
		if len(last) == 0 {
			return out, nil
		}
		start = last
	}
}

// recNums lists the RecNum of each item, in order.
func recNums(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		if v, ok := it["RecNum"].(*types.AttributeValueMemberN); ok {
			out[i] = v.Value
		}
	}
	return out
}

// sameItems compares result lists in order, as the harness does; numbers
// compare by value (both sides hold what DynamoDB or the decryptor gives
// back: "0800.000e0" is stored as 800).
func sameItems(a, b []item) bool {
	return slices.EqualFunc(a, b, func(x, y item) bool { return ddbjson.EqualItems(x, y, ddbattr.NormalizeNumber) })
}

func loadQueryVectors(t *testing.T) (*vectors.DBESDKTableConfigs, *vectors.DBESDKQueryData) {
	t.Helper()
	dir := testenv.DBESDKVectorsDir(t)
	cfgs, err := vectors.LoadDBESDKTableConfigs(filepath.Join(dir, "configs.json"), "tableEncryptionConfigs")
	if err != nil {
		t.Fatal(err)
	}
	data, err := vectors.LoadDBESDKQueryData(filepath.Join(dir, "data.json"), filepath.Join(dir, "records.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Queries) == 0 || len(data.Records) == 0 || len(cfgs.Configs) == 0 {
		t.Fatalf("vectors: %d queries, %d records, %d configs", len(data.Queries), len(data.Records), len(cfgs.Configs))
	}
	return cfgs, data
}

// vectorClient is a client for configuration name: the SDK's own for the
// empty configuration (the harness's "vanilla" client), ours otherwise,
// with the configuration's logical table name bound into the signatures.
func vectorClient(t *testing.T, f form, raw *dynamodb.Client, cfgs *vectors.DBESDKTableConfigs, name string) (func(table string) queryAPI, *recordingAPI) {
	t.Helper()
	vt, err := cfgs.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	counting := &recordingAPI{countingAPI: countingAPI{API: raw}}
	if vt.Vanilla {
		return func(string) queryAPI { return raw }, counting
	}
	return func(table string) queryAPI {
		return f.client(t, counting, Config{Tables: map[string]TableConfig{table: {
			Default: vt.Default, Overrides: vt.Overrides, PartitionKey: vt.PartitionKey, SortKey: vt.SortKey,
			SigningTableName: vt.LogicalTableName, Format: itemcrypto.FormatDBESDK, DBESDK: vt.DBESDK, Search: vt.Search,
		}}})
	}, counting
}

// TestDBESDKQueryVectorsDynalite is BasicQueryTest: every query of
// data.json, run on records.json written through the SDK's client, gives
// the expected item lists; then, for each configuration of configs.json,
// the same records written through our client must give the same lists,
// except the queries that list the configuration in "Fail" (they name
// encrypted attributes without beacons), which our client must refuse
// before sending anything.
func testDBESDKQueryVectorsDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	cfgs, data := loadQueryVectors(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	ptable, plain := vectorTable(t, raw, func(string) queryAPI { return raw }, data.Records)
	for i, q := range data.Failing {
		if _, err := fullSearch(ctx, plain, ptable, data, q); err == nil {
			t.Errorf("failing query %d succeeded on the plain client", i)
		}
	}
	expected := make([][]item, len(data.Queries))
	nonEmpty := 0
	for i, q := range data.Queries {
		res, err := fullSearch(ctx, plain, ptable, data, q)
		if err != nil {
			t.Fatalf("query %d %+v on the plain client: %v", i, q, err)
		}
		expected[i] = res
		if len(res) > 0 && len(res) < len(data.Records) {
			nonEmpty++
		}
	}
	// The queries discriminate: most select some records but not all.
	if nonEmpty < len(data.Queries)/2 {
		t.Fatalf("only %d of %d queries select a proper subset of the records", nonEmpty, len(data.Queries))
	}

	totalMatched, totalRefused, totalBeaconed := 0, 0, 0
	for _, name := range cfgs.Names() {
		t.Run("config"+name, func(t *testing.T) {
			newClient, counting := vectorClient(t, f, raw, cfgs, name)
			table, c := vectorTable(t, raw, newClient, data.Records)
			vt, err := cfgs.Table(name)
			if err != nil {
				t.Fatal(err)
			}
			overrides := vt.Overrides
			matched, refused, failed, beaconed := 0, 0, 0, 0
			for i, q := range data.Queries {
				if q.FailsFor(name) {
					before := counting.queries.Load() + counting.scans.Load()
					_, err := fullSearch(ctx, c, table, data, q)
					var ue *UnsafeOperationError
					if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeOperation) {
						t.Errorf("query %d %+v: %v, want an *UnsafeOperationError", i, q, err)
						failed++
						continue
					}
					if n := counting.queries.Load() + counting.scans.Load(); n != before {
						t.Errorf("query %d: refused after %d requests reached DynamoDB", i, n-before)
					}
					refused++
					continue
				}
				counting.sent = nil
				got, err := fullSearch(ctx, c, table, data, q)
				if err != nil {
					t.Errorf("query %d %+v: %v", i, q, err)
					failed++
					continue
				}
				// A value compared with an encrypted attribute reaches
				// DynamoDB only as its beacon.
				for _, ph := range encryptedOperands(t, data, q, func(a string) bool { return overrides[a] == actions.EncryptAndSign }) {
					for _, sent := range counting.sent {
						if v, ok := sent[ph]; ok && ddbjson.Equal(v, data.Values[ph], ddbattr.NormalizeNumber) {
							t.Errorf("query %d %+v: %s reached DynamoDB in plaintext", i, q, ph)
						}
					}
					beaconed++
				}
				if !sameItems(got, expected[i]) {
					gj, _ := ddbjson.MarshalItem(firstOrNil(got))
					t.Errorf("query %d %+v: got records %v, want %v (first: %s)", i, q, recNums(got), recNums(expected[i]), gj)
					failed++
					continue
				}
				matched++
			}
			t.Logf("config %s: %d queries matched (%d values compared with encrypted attributes, sent as beacons), %d refused as expected, %d failed",
				name, matched, beaconed, refused, failed)
			totalBeaconed += beaconed
			totalMatched += matched
			totalRefused += refused
		})
	}
	t.Logf("all configs: %d matched, %d refused as expected", totalMatched, totalRefused)
	if totalRefused == 0 || totalBeaconed == 0 {
		t.Errorf("%d queries refused, %d values beaconed: the vectors were not exercised", totalRefused, totalBeaconed)
	}
}

func TestDBESDKQueryVectorsDynalite(t *testing.T) { forEachForm(t, testDBESDKQueryVectorsDynalite) }

func firstOrNil(items []item) item {
	if len(items) == 0 {
		return nil
	}
	return items[0]
}

// TestDBESDKComplexQueryVectorsDynalite is ComplexTests: for each entry of
// data.json "Complex", the records written under its configuration, each
// query must return the records of Pass and none of Fail.
func testDBESDKComplexQueryVectorsDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	cfgs, data := loadQueryVectors(t)
	if len(data.Complex) == 0 {
		t.Fatal("data.json has no Complex tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for ti, ct := range data.Complex {
		t.Run(fmt.Sprintf("%d-config%s", ti, ct.Config), func(t *testing.T) {
			newClient, _ := vectorClient(t, f, raw, cfgs, ct.Config)
			table, c := vectorTable(t, raw, newClient, data.Records)
			for i, q := range ct.Failing {
				if _, err := fullSearch(ctx, c, table, data, q); err == nil {
					t.Errorf("failing query %d %+v succeeded", i, q)
				}
			}
			checked := 0
			for _, cq := range ct.Queries {
				got, err := fullSearch(ctx, c, table, data, cq.Query)
				if err != nil {
					t.Errorf("%q: %v", cq.Query.Filter+cq.Query.Key, err)
					continue
				}
				nums := recNums(got)
				for _, p := range cq.Pass {
					if !slices.Contains(nums, fmt.Sprint(p)) {
						t.Errorf("%q: records %v lack %d", cq.Query.Filter, nums, p)
					}
				}
				for _, f := range cq.Fail {
					if slices.Contains(nums, fmt.Sprint(f)) {
						t.Errorf("%q: records %v include %d", cq.Query.Filter, nums, f)
					}
				}
				for _, it := range got {
					for name := range it {
						if strings.HasPrefix(name, "aws_dbe_") {
							t.Errorf("%q: a result holds %s", cq.Query.Filter, name)
						}
					}
				}
				checked++
			}
			t.Logf("config %s: %d of %d complex queries checked", ct.Config, checked, len(ct.Queries))
		})
	}
}

func TestDBESDKComplexQueryVectorsDynalite(t *testing.T) {
	forEachForm(t, testDBESDKComplexQueryVectorsDynalite)
}

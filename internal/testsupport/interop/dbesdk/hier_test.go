package dbesdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ks "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographykeystoresmithygenerated"
	kstypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographykeystoresmithygeneratedtypes"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// One fake KMS (cmp/kmstest) for the process: both sides' KMS clients talk
// to it over HTTP.
var (
	kmsOnce sync.Once
	kmsSrv  *kmstest.Server
	kmsARN  string
)

func fakeKMS() (*kmstest.Server, string) {
	kmsOnce.Do(func() {
		kmsSrv = kmstest.New()
		_, kmsARN = kmsSrv.CreateKey()
	})
	return kmsSrv, kmsARN
}

var (
	kmsPairOnce sync.Once
	kmsPair     *KeyringPair
	kmsPairErr  error
)

// kmsKeyring is the AWS KMS keyring on both sides, over the fake KMS.
func kmsKeyring(t testing.TB) KeyringPair {
	kmsPairOnce.Do(func() {
		srv, arn := fakeKMS()
		o, err := kmskeyring.New(awskms.New(srv.Client()), arn)
		if err != nil {
			kmsPairErr = err
			return
		}
		r, err := refMPL(t).CreateAwsKmsKeyring(context.Background(), mpltypes.CreateAwsKmsKeyringInput{KmsClient: srv.Client(), KmsKeyId: arn})
		if err != nil {
			kmsPairErr = fmt.Errorf("reference KMS keyring: %w", err)
			return
		}
		kmsPair = &KeyringPair{Name: "kms", Ours: o, Ref: r}
	})
	if kmsPairErr != nil {
		t.Fatal(kmsPairErr)
	}
	return *kmsPair
}

// fakeDDB is the least of DynamoDB's JSON API a branch key store needs:
// GetItem, PutItem and TransactWriteItems of Puts (conditions ignored), DescribeTable
// and CreateTable. It lets both key stores (ours and the MPL's, which needs a
// *dynamodb.Client) read one table without dynalite.
type fakeDDB struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue // table \x00 branch-key-id \x00 type
	srv   *httptest.Server
}

func newFakeDDB() *fakeDDB {
	f := &fakeDDB{items: map[string]map[string]types.AttributeValue{}}
	f.srv = httptest.NewServer(f)
	return f
}

func (f *fakeDDB) client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(f.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		HTTPClient:   f.srv.Client(),
	})
}

func ddbKey(table string, it map[string]types.AttributeValue) string {
	s := func(n string) string {
		if v, ok := it[n].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return table + "\x00" + s("branch-key-id") + "\x00" + s("type")
}

func (f *fakeDDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var table string
	_ = json.Unmarshal(req["TableName"], &table)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "GetItem":
		key, err := ddbjson.UnmarshalItem(req["Key"])
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		it, ok := f.items[ddbKey(table, key)]
		if !ok {
			io.WriteString(w, "{}")
			return
		}
		j, _ := ddbjson.MarshalItem(it)
		fmt.Fprintf(w, `{"Item":%s}`, j)
	case "PutItem":
		it, err := ddbjson.UnmarshalItem(req["Item"])
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.items[ddbKey(table, it)] = it
		io.WriteString(w, "{}")
	case "TransactWriteItems":
		var tx struct {
			TransactItems []struct {
				Put *struct {
					TableName string
					Item      json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(body, &tx); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, ti := range tx.TransactItems {
			if ti.Put == nil {
				continue
			}
			it, err := ddbjson.UnmarshalItem(ti.Put.Item)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			f.items[ddbKey(ti.Put.TableName, it)] = it
		}
		io.WriteString(w, "{}")
	case "DescribeTable", "CreateTable":
		fmt.Fprintf(w, `{"Table":{"TableName":%q,"TableStatus":"ACTIVE","TableArn":"arn:aws:dynamodb:us-west-2:111122223333:table/%s",`+
			`"KeySchema":[{"AttributeName":"branch-key-id","KeyType":"HASH"},{"AttributeName":"type","KeyType":"RANGE"}],`+
			`"AttributeDefinitions":[{"AttributeName":"branch-key-id","AttributeType":"S"},{"AttributeName":"type","AttributeType":"S"}]}}`, table, table)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"fakeDDB: %s not supported"}`, op)
	}
}

// branchKeyStore is one branch key in a key store table that both sides
// read: ours through keystore.Store, the reference through the MPL's key
// store client.
type branchKeyStore struct {
	ours  *keystore.Store
	ref   *ks.Client
	id    string
	table string
}

// putsNotTransactions gives our key store TransactWriteItems over dynalite,
// which lacks it: the Puts one after the other, conditions ignored (the
// table is new and only this test writes it).
type putsNotTransactions struct{ *dynamodb.Client }

func (d putsNotTransactions) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, ti := range in.TransactItems {
		if ti.Put == nil {
			return nil, fmt.Errorf("putsNotTransactions: only Put is supported")
		}
		if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: ti.Put.TableName, Item: ti.Put.Item}, optFns...); err != nil {
			return nil, err
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func newBranchKeyStore(ctx context.Context, ddb *dynamodb.Client, table string) (*branchKeyStore, error) {
	srv, arn := fakeKMS()
	logical := "logical-" + table
	store, err := keystore.New(putsNotTransactions{ddb}, srv.Client(), func(o *keystore.Options) {
		o.TableName, o.LogicalName, o.KMS = table, logical, keystore.KeyARN(arn)
	})
	if err != nil {
		return nil, err
	}
	if _, err := store.CreateKeyStore(ctx); err != nil {
		return nil, err
	}
	w := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 60*time.Second); err != nil {
		return nil, err
	}
	id, err := store.CreateKey(ctx, keystore.CreateKeyInput{})
	if err != nil {
		return nil, err
	}
	refStore, err := ks.NewClient(kstypes.KeyStoreConfig{
		DdbTableName:        table,
		LogicalKeyStoreName: logical,
		KmsConfiguration:    &kstypes.KMSConfigurationMemberkmsKeyArn{Value: arn},
		DdbClient:           ddb,
		KmsClient:           srv.Client(),
	})
	if err != nil {
		return nil, fmt.Errorf("reference key store: %w", err)
	}
	return &branchKeyStore{ours: store, ref: refStore, id: id, table: table}, nil
}

func (b *branchKeyStore) refHierarchical(ctx context.Context, t testing.TB) (mpltypes.IKeyring, error) {
	id := b.id
	return refMPL(t).CreateAwsKmsHierarchicalKeyring(ctx, mpltypes.CreateAwsKmsHierarchicalKeyringInput{KeyStore: b.ref, BranchKeyId: &id, TtlSeconds: 600})
}

var (
	hierOnce  sync.Once
	hierPair  *KeyringPair
	hierStore *branchKeyStore
	hierErr   error
)

// hierStaticKeyring is the hierarchical keyring: ours over a static branch
// key (the active version, read once from the key store), the reference
// over the MPL key store in the in-process fake DynamoDB.
func hierStaticKeyring(t testing.TB) *KeyringPair {
	hierOnce.Do(func() {
		ctx := context.Background()
		hierStore, hierErr = newBranchKeyStore(ctx, newFakeDDB().client(), "branch-keys")
		if hierErr != nil {
			return
		}
		bk, err := hierStore.ours.GetActiveBranchKey(ctx, hierStore.id)
		if err != nil {
			hierErr = err
			return
		}
		o, err := hierarchy.New(hierarchy.NewStatic(bk.BranchKey), func(o *hierarchy.Options) { o.BranchKeyID = hierStore.id })
		if err != nil {
			hierErr = err
			return
		}
		r, err := hierStore.refHierarchical(ctx, t)
		if err != nil {
			hierErr = fmt.Errorf("reference hierarchical keyring: %w", err)
			return
		}
		hierPair = &KeyringPair{Name: "hier-static", Ours: o, Ref: r}
	})
	if hierErr != nil {
		t.Fatal(hierErr)
	}
	return hierPair
}

// DynamoDBEndpointEnv names dynalite's endpoint, as the root module's tests
// take it (scripts/test starts dynalite and sets it).
const DynamoDBEndpointEnv = "ITEMCRYPTO_DYNAMODB_ENDPOINT"

// dynaliteClient returns a client for dynalite, or ends the test: Fatal
// under CI=true, Skip otherwise.
func dynaliteClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	ep := os.Getenv(DynamoDBEndpointEnv)
	if ep == "" {
		if isCI() {
			t.Fatalf("%s is missing under CI=true: the hierarchical keyring over a dynalite key store must run in CI (scripts/test starts dynalite and sets it)", DynamoDBEndpointEnv)
		}
		t.Skipf("%s not set: skipping the hierarchical keyring over a dynalite key store; run ./scripts/test, or start dynalite and set it", DynamoDBEndpointEnv)
	}
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(ep),
		Credentials:      credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		RetryMaxAttempts: 3,
	})
}

// TestDifferentialDynalite: the hierarchical keyring over a branch key store
// in dynalite, both sides reading the store (ours through keystore.Store as
// the keyring's Source, the reference through the MPL key store).
func TestDifferentialDynalite(t *testing.T) {
	ddb := dynaliteClient(t)
	ctx := context.Background()
	table := fmt.Sprintf("dbesdk-interop-%d", os.Getpid())
	b, err := newBranchKeyStore(ctx, ddb, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	o, err := hierarchy.New(b.ours, func(o *hierarchy.Options) { o.BranchKeyID = b.id })
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.refHierarchical(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	pairs, names := pairsOf([]KeyringPair{{Name: "hier-dynalite", Ours: o, Ref: r}})
	runMany(t, ctx, pairs, names, 200)
}

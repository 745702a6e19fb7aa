package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// API is the part of the DynamoDB client that [Client] uses, with the SDK's
// own signatures: *dynamodb.Client satisfies it, and so does [*Client], so a
// test can pass a fake and clients can be stacked.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	ExecuteStatement(ctx context.Context, in *dynamodb.ExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error)
	BatchExecuteStatement(ctx context.Context, in *dynamodb.BatchExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchExecuteStatementOutput, error)
	ExecuteTransaction(ctx context.Context, in *dynamodb.ExecuteTransactionInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ API = (*dynamodb.Client)(nil)
	_ API = (*Client)(nil)

	// The SDK's paginators and waiters accept the client.
	_ dynamodb.QueryAPIClient         = (*Client)(nil)
	_ dynamodb.ScanAPIClient          = (*Client)(nil)
	_ dynamodb.BatchGetItemAPIClient  = (*Client)(nil)
	_ dynamodb.DescribeTableAPIClient = (*Client)(nil)
)

// Config names the tables whose items the client protects. Requests on any
// other table pass through untouched.
type Config struct {
	// Tables maps table names to their configuration.
	Tables map[string]TableConfig
}

// TableConfig is how one table's items are protected. Readers and writers of
// a table (in Go, Java or Python) must agree on the actions, the key names
// and the signing table name.
type TableConfig struct {
	// Provider hands out the keys of the DDBEC format. Required unless
	// Format is itemcrypto.FormatDBESDK.
	Provider cmp.Provider
	// Default is the action of every attribute without an override.
	// Required: the zero value is refused by New (an error matching
	// actions.ErrDefaultNotSet). Most tables want actions.EncryptAndSign.
	Default actions.Action
	// Overrides sets the action of individual attributes.
	Overrides map[string]actions.Action
	// PartitionKey and SortKey name the table's primary-key attributes,
	// which are signed and never encrypted. When PartitionKey is "", both
	// are read from DescribeTable on first use and cached; when it is set,
	// SortKey "" means the table has no sort key.
	PartitionKey, SortKey string
	// SigningTableName is the table name bound into signatures (and into
	// the KMS encryption context of KMS providers). "" means the table's own
	// name. Set it to read and write items of a Java program that uses
	// @TableAadOverride or an EncryptionContext override.
	SigningTableName string
	// Format is what is written: itemcrypto.FormatDDBEC (the zero value) or
	// itemcrypto.FormatDBESDK; reading takes the format from each item.
	Format itemcrypto.Format
	// DBESDK configures the AWS Database Encryption SDK format (keyring,
	// suite, allowed-unsigned attributes, legacy and plaintext policies).
	// Required for itemcrypto.FormatDBESDK; with the DDBEC format it lets
	// the table read DB-ESDK items too.
	DBESDK *itemcrypto.DBESDKConfig
	// Search configures searchable encryption (DB-ESDK beacons): the
	// beacons written beside each item, and the rewriting of Query and Scan
	// conditions on beaconed attributes. It requires the DB-ESDK format
	// (Format itemcrypto.FormatDBESDK) and the table's DB-ESDK attribute
	// configuration; each signed beacon (a compound beacon with only signed
	// parts) is made SignOnly under its own name, as the DB-ESDK does. See
	// the search package.
	Search *search.Config
	// WriteForm is the canonical form items are signed in (see
	// itemcrypto.Form): itemcrypto.FormJava or FormPython for a table whose
	// other readers are old Java or Python clients that verify only their
	// own form. Reads accept every form whatever this is.
	WriteForm itemcrypto.Form
}

// Options tune a [Client]. The zero value is the default.
type Options struct {
	// Concurrency bounds how many items of one request or response are
	// encrypted or decrypted at once (a Query page, a batch, a
	// transaction). 0 or 1 means one at a time; a provider that calls a KMS
	// per item (cmp.DirectKMS) gains most from more. Providers must be safe
	// for concurrent use either way.
	Concurrency int
	// EncryptorOptions are passed to itemcrypto.New for every table.
	EncryptorOptions []func(*itemcrypto.Options)
}

// Client is a DynamoDB client whose methods have exactly the SDK's
// signatures and that encrypts and signs items on the way in and verifies
// and decrypts them on the way out, for the tables of its [Config]. It is
// safe for concurrent use.
type Client struct {
	api API
	*engine
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (c Client) String() string                { return c.redacted().String() }
func (c Client) GoString() string              { return c.redacted().GoString() }
func (c Client) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }
func (c Client) LogValue() slog.Value          { return c.redacted().LogValue() }
func (c Client) MarshalJSON() ([]byte, error)  { return c.redacted().MarshalJSON() }
func (c Client) redacted() redact.Text {
	var names []string
	if c.engine != nil {
		names = slices.Sorted(maps.Keys(c.tables))
	}
	return redact.Text(fmt.Sprintf("dynamodbenc.Client{tables: %q, keys: [redacted]}", names))
}

// table is the state of one configured table.
type table struct {
	name string
	cfg  TableConfig
	opts []func(*itemcrypto.Options)
	// built is set once the key names are known; sem serializes the one
	// DescribeTable that learns them.
	built atomic.Pointer[built]
	sem   chan struct{}
}

// built is what a table's configuration makes once its key names are known.
type built struct {
	enc    *itemcrypto.Encryptor
	search *search.Search // nil without TableConfig.Search
	// indexes are the table's global secondary indexes, when DescribeTable
	// told them (the wrapper, learning the key names): a beacon query
	// without IndexName is refused naming the one to use.
	indexes []index
}

// index is a global secondary index and its key attributes.
type index struct {
	name, pk, sk string
}

// New returns a client that sends its requests through api (a
// *dynamodb.Client, or anything with its method signatures) and protects the
// items of the tables in cfg.
func New(api API, cfg Config, optFns ...func(*Options)) (*Client, error) {
	if api == nil {
		return nil, errors.New("dynamodbenc: New: api is nil")
	}
	e, err := newEngine("New", cfg, optFns)
	if err != nil {
		return nil, err
	}
	return &Client{api: api, engine: e}, nil
}

// engine is what the wrapper [Client] and the SDK option ([NewOption])
// share: the tables' configuration and the operations' transforms (see
// transform). Neither form has code of its own for an operation.
type engine struct {
	opts   Options
	tables map[string]*table
}

// newEngine checks cfg; fn names the constructor in errors.
func newEngine(fn string, cfg Config, optFns []func(*Options)) (*engine, error) {
	var opts Options
	for _, f := range optFns {
		f(&opts)
	}
	opts.EncryptorOptions = slices.Clone(opts.EncryptorOptions)
	e := &engine{opts: opts, tables: make(map[string]*table, len(cfg.Tables))}
	for name, tc := range cfg.Tables {
		if name == "" {
			return nil, fmt.Errorf("dynamodbenc: %s: a table configuration has an empty name", fn)
		}
		if tc.Provider == nil && tc.Format != itemcrypto.FormatDBESDK {
			return nil, fmt.Errorf("dynamodbenc: %s: table %q: Provider is required (or Format: itemcrypto.FormatDBESDK with DBESDK)", fn, name)
		}
		if tc.Default == 0 {
			return nil, fmt.Errorf("dynamodbenc: %s: table %q: Default: %w", fn, name, actions.ErrDefaultNotSet)
		}
		if tc.PartitionKey == "" && tc.SortKey != "" {
			return nil, fmt.Errorf("dynamodbenc: %s: table %q: SortKey is set without PartitionKey", fn, name)
		}
		if tc.Search != nil && (tc.Format != itemcrypto.FormatDBESDK || tc.DBESDK == nil) {
			return nil, fmt.Errorf("dynamodbenc: %s: table %q: Search (beacons) needs the DB-ESDK format: Format itemcrypto.FormatDBESDK with DBESDK", fn, name)
		}
		if tc.Search != nil {
			if err := tc.DBESDK.CheckBeacons(); err != nil {
				return nil, fmt.Errorf("dynamodbenc: %s: table %q: Search: %w", fn, name, err)
			}
		}
		t := &table{name: name, cfg: tc, opts: opts.EncryptorOptions, sem: make(chan struct{}, 1)}
		t.cfg.Overrides = maps.Clone(tc.Overrides)
		if tc.PartitionKey != "" {
			b, err := t.build(tc.PartitionKey, tc.SortKey)
			if err != nil {
				return nil, fmt.Errorf("dynamodbenc: %s: table %q: %w", fn, name, err)
			}
			t.built.Store(b)
		} else if _, err := actions.New(actions.Options{Default: tc.Default, Overrides: tc.Overrides, NoPartitionKey: true}); err != nil {
			// The key-dependent checks wait for DescribeTable.
			return nil, fmt.Errorf("dynamodbenc: %s: table %q: %w", fn, name, err)
		}
		e.tables[name] = t
	}
	return e, nil
}

// build makes the table's encryptor (and beacons) once its key names are
// known.
func (t *table) build(pk, sk string) (*built, error) {
	overrides := t.cfg.Overrides
	if t.cfg.Search != nil {
		// The DB-ESDK configures each signed beacon SignOnly under its own
		// name; a name the table already configures is refused by
		// search.New below, so look at the caller's overrides first.
		var err error
		if overrides, err = t.cfg.Search.SignOnlyOverrides(overrides, pk, sk); err != nil {
			return nil, err
		}
	}
	policy, err := actions.New(actions.Options{
		Default: t.cfg.Default, Overrides: overrides, PartitionKey: pk, SortKey: sk,
	})
	if err != nil {
		return nil, err
	}
	signing := t.cfg.SigningTableName
	if signing == "" {
		signing = t.name
	}
	opts := t.opts
	if t.cfg.WriteForm != itemcrypto.FormDefault {
		opts = append(slices.Clip(opts), itemcrypto.WithWriteForm(t.cfg.WriteForm))
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: signing, Policy: policy, Provider: t.cfg.Provider, Format: t.cfg.Format, DBESDK: t.cfg.DBESDK,
	}, opts...)
	if err != nil {
		return nil, err
	}
	b := &built{enc: enc}
	if t.cfg.Search != nil {
		b.search, err = search.New(*t.cfg.Search, policy, func(o *search.Options) {
			o.LogicalTableName = signing
			o.AllowedUnsigned = t.cfg.DBESDK.AllowedUnsigned
			o.AllowedUnsignedPrefix = t.cfg.DBESDK.AllowedUnsignedPrefix
		})
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// describer is how a table's key names are learnt when its configuration
// does not give them: the wrapper's API, with the optFns of the call that
// needs them. The option's is zero: [NewOption] requires the key names.
type describer struct {
	api    API
	optFns []func(*dynamodb.Options)
}

// state returns what the table's configuration builds, learning the key
// names from DescribeTable (once, whoever asks first; a failure is not
// cached) when the configuration does not give them.
func (t *table) state(ctx context.Context, d describer) (*built, error) {
	if b := t.built.Load(); b != nil {
		return b, nil
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()
	if b := t.built.Load(); b != nil {
		return b, nil
	}
	if d.api == nil {
		return nil, errors.New("the key names are unknown: the configuration gives no PartitionKey and there is no client to ask DescribeTable")
	}
	out, err := d.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &t.name}, d.optFns...)
	if err != nil {
		return nil, fmt.Errorf("learning the key schema: %w", err)
	}
	var pk, sk string
	var indexes []index
	if out.Table != nil {
		pk, sk = keyNames(out.Table.KeySchema)
		for _, g := range out.Table.GlobalSecondaryIndexes {
			if g.IndexName != nil {
				ipk, isk := keyNames(g.KeySchema)
				indexes = append(indexes, index{*g.IndexName, ipk, isk})
			}
		}
	}
	if pk == "" {
		return nil, errors.New("learning the key schema: DescribeTable returned no partition key")
	}
	b, err := t.build(pk, sk)
	if err != nil {
		return nil, err
	}
	b.indexes = indexes
	t.built.Store(b)
	return b, nil
}

// keyNames returns the partition and sort key of a key schema.
func keyNames(schema []types.KeySchemaElement) (pk, sk string) {
	for _, k := range schema {
		if k.AttributeName == nil {
			continue
		}
		switch k.KeyType {
		case types.KeyTypeHash:
			pk = *k.AttributeName
		case types.KeyTypeRange:
			sk = *k.AttributeName
		}
	}
	return pk, sk
}

// lookup returns the configuration of the named table, or nil. A table ARN
// is matched by its table name.
func (e *engine) lookup(name *string) *table {
	if name == nil || len(e.tables) == 0 {
		return nil
	}
	if t, ok := e.tables[*name]; ok {
		return t
	}
	if strings.HasPrefix(*name, "arn:") {
		if _, rest, ok := strings.Cut(*name, ":table/"); ok {
			rest, _, _ = strings.Cut(rest, "/")
			return e.tables[rest]
		}
	}
	return nil
}

// each runs fn for i in [0, n), Options.Concurrency at a time, and returns
// the index and error of the first failure (in time); the others are then
// cancelled through ctx.
func (e *engine) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) (int, error) {
	if e.opts.Concurrency <= 1 || n <= 1 {
		for i := range n {
			if err := fn(ctx, i); err != nil {
				return i, err
			}
		}
		return -1, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstIdx = -1
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, e.opts.Concurrency)
	started := 0
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		started++
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstIdx, firstErr = i, err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if firstErr == nil && started < n {
		// The caller's context ended before every item was started.
		return started, context.Cause(ctx)
	}
	return firstIdx, firstErr
}

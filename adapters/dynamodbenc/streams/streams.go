package streams

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Options tune a [Decrypter]. The zero value is the default.
type Options struct {
	// Concurrency bounds how many records of one batch (DecryptEvent,
	// DecryptRecords) are decrypted at once. 0 or 1 means one at a time.
	Concurrency int
	// EncryptorOptions are passed to itemcrypto.New for every table, as
	// dynamodbenc.Options.EncryptorOptions are.
	EncryptorOptions []func(*itemcrypto.Options)
	// DescribeTable, when set, learns the key names of the tables whose
	// TableConfig leaves PartitionKey "" (once per table, on the first
	// record; a failure is not cached), as a dynamodbenc.Client does.
	// Without it every configured table must set PartitionKey (and SortKey
	// when it has one): New refuses the configuration otherwise.
	DescribeTable dynamodb.DescribeTableAPIClient
}

// Decrypter verifies and decrypts the images of DynamoDB stream records of
// the tables of its configuration, the same dynamodbenc.Config that the
// tables' writers use. It is safe for concurrent use.
type Decrypter struct {
	opts   Options
	tables map[string]*table
}

// table is one configured table; enc is built at New or, without
// PartitionKey, on first use.
type table struct {
	name string
	cfg  dynamodbenc.TableConfig
	mu   sync.Mutex
	enc  *itemcrypto.Encryptor
}

// New returns a Decrypter for the tables of cfg. Each table is checked and
// its encryptor built as dynamodbenc.New does (through
// dynamodbenc.NewEncryptor), so a configuration that dynamodbenc refuses is
// refused here too.
func New(cfg dynamodbenc.Config, optFns ...func(*Options)) (*Decrypter, error) {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	opts.EncryptorOptions = slices.Clone(opts.EncryptorOptions)
	d := &Decrypter{opts: opts, tables: make(map[string]*table, len(cfg.Tables))}
	for name, tc := range cfg.Tables {
		if name == "" {
			return nil, errors.New("streams: New: a table configuration has an empty name")
		}
		t := &table{name: name, cfg: tc}
		t.cfg.Overrides = maps.Clone(tc.Overrides)
		switch {
		case tc.PartitionKey != "":
			enc, err := d.build(name, t.cfg)
			if err != nil {
				return nil, fmt.Errorf("streams: New: %w", err)
			}
			t.enc = enc
		case opts.DescribeTable == nil:
			return nil, fmt.Errorf("streams: New: table %q: PartitionKey is required without Options.DescribeTable", name)
		case tc.SortKey != "":
			return nil, fmt.Errorf("streams: New: table %q: SortKey is set without PartitionKey", name)
		default:
			// What can be checked without the key names, dynamodbenc.New
			// checks (and sends nothing).
			if _, err := dynamodbenc.New(noAPI{}, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{name: t.cfg}}); err != nil {
				return nil, fmt.Errorf("streams: New: %w", err)
			}
		}
		d.tables[name] = t
	}
	return d, nil
}

// noAPI is the API of a dynamodbenc.Client that never sends a request.
type noAPI struct{ dynamodbenc.API }

func (d *Decrypter) build(name string, tc dynamodbenc.TableConfig) (*itemcrypto.Encryptor, error) {
	return dynamodbenc.NewEncryptor(name, tc, func(o *dynamodbenc.Options) {
		o.EncryptorOptions = d.opts.EncryptorOptions
	})
}

// encryptor returns the table's encryptor, learning its key names from
// DescribeTable the first time when the configuration does not give them.
func (t *table) encryptor(ctx context.Context, d *Decrypter) (*itemcrypto.Encryptor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.enc != nil {
		return t.enc, nil
	}
	out, err := d.opts.DescribeTable.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &t.name})
	if err != nil {
		return nil, fmt.Errorf("learning the key schema: %w", err)
	}
	tc := t.cfg
	if out.Table != nil {
		for _, k := range out.Table.KeySchema {
			if k.AttributeName == nil {
				continue
			}
			switch k.KeyType {
			case types.KeyTypeHash:
				tc.PartitionKey = *k.AttributeName
			case types.KeyTypeRange:
				tc.SortKey = *k.AttributeName
			}
		}
	}
	if tc.PartitionKey == "" {
		return nil, errors.New("learning the key schema: DescribeTable returned no partition key")
	}
	enc, err := d.build(t.name, tc)
	if err != nil {
		return nil, err
	}
	t.enc = enc
	return enc, nil
}

// Tables returns the names of the configured tables, sorted.
func (d *Decrypter) Tables() []string { return slices.Sorted(maps.Keys(d.tables)) }

// image is one image of a record, in DynamoDB's attribute values.
type image struct {
	name string // "NewImage" or "OldImage"
	item map[string]types.AttributeValue
}

// decryptImages verifies and decrypts the images of a record of table t
// whose Keys are keys (nil when the record has none). It returns the
// plaintext images in the order of imgs, or a *RecordError (without the
// record's identity, which the caller fills in).
func (d *Decrypter) decryptImages(ctx context.Context, t *table, keys map[string]types.AttributeValue, imgs []image) ([]map[string]types.AttributeValue, *RecordError) {
	fail := func(img string, key map[string]types.AttributeValue, err error) *RecordError {
		return &RecordError{Table: t.name, Image: img, Key: key, Err: err}
	}
	plain := make([]map[string]types.AttributeValue, len(imgs))
	if !slices.ContainsFunc(imgs, func(i image) bool { return i.item != nil }) {
		return plain, nil
	}
	enc, err := t.encryptor(ctx, d)
	if err != nil {
		return nil, fail("", keys, err)
	}
	pk, sk := enc.Policy().Keys()
	for i, img := range imgs {
		if img.item == nil {
			continue
		}
		key := keys
		if key == nil {
			key = keyOf(img.item, pk, sk)
		}
		p, err := enc.Decrypt(ctx, img.item)
		if err != nil {
			return nil, fail(img.name, key, err)
		}
		// The record's Keys are outside any signature: they must be the
		// verified image's.
		if keys != nil && !ddbjson.EqualItems(keys, keyOf(p, pk, sk), ddbserial.CanonicalNumber) {
			return nil, fail(img.name, key, fmt.Errorf("%w: the record's Keys differ from the key attributes of its verified image", itemcrypto.ErrAuthentication))
		}
		plain[i] = p
	}
	return plain, nil
}

// keyOf returns the primary-key attributes of item (nil when it has none).
func keyOf(item map[string]types.AttributeValue, pk, sk string) map[string]types.AttributeValue {
	var key map[string]types.AttributeValue
	for _, k := range []string{pk, sk} {
		if v, ok := item[k]; ok && k != "" {
			if key == nil {
				key = make(map[string]types.AttributeValue, 2)
			}
			key[k] = v
		}
	}
	return key
}

// each runs fn for i in [0, n), Options.Concurrency at a time. Every fn
// runs (a failure does not cancel the others: each record's outcome is
// reported); it returns when all are done or ctx ends.
func (d *Decrypter) each(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	if d.opts.Concurrency <= 1 || n <= 1 {
		for i := range n {
			fn(ctx, i)
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.opts.Concurrency)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, i)
		})
	}
	wg.Wait()
}

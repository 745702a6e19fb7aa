package keystore

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/uuid"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// DynamoDB is the part of the DynamoDB client the store uses, with the
// SDK's own signatures; *dynamodb.Client satisfies it.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// KMS is the part of the AWS KMS client the store uses, with the SDK's own
// signatures; *kms.Client satisfies it.
type KMS interface {
	GenerateDataKeyWithoutPlaintext(ctx context.Context, in *kms.GenerateDataKeyWithoutPlaintextInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyWithoutPlaintextOutput, error)
	ReEncrypt(ctx context.Context, in *kms.ReEncryptInput, optFns ...func(*kms.Options)) (*kms.ReEncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var (
	_ DynamoDB = (*dynamodb.Client)(nil)
	_ KMS      = (*kms.Client)(nil)
)

// Errors of the store. Every error is a [*Error] naming the operation and
// branch key; these sentinels are reachable through errors.Is.
var (
	// ErrNotFound is hierarchy.ErrBranchKeyNotFound: no item for the branch
	// key id (and version) asked for.
	ErrNotFound = hierarchy.ErrBranchKeyNotFound
	// ErrAuthentication is cmp.ErrAuthentication: KMS refused the item's
	// wrapped key under the encryption context its attributes make (a
	// changed attribute, a changed enc, another key store's item).
	ErrAuthentication = cmp.ErrAuthentication
	// ErrKMSKeyMismatch: the item's kms-arn is not a key ARN the
	// configuration accepts.
	ErrKMSKeyMismatch = errors.New("keystore: the item's kms-arn does not match the configured AWS KMS key")
	// ErrBranchKeyExists: CreateKey with a branch key id that has items.
	ErrBranchKeyExists = errors.New("keystore: branch key id already exists")
	// ErrConflict: VersionKey lost a race; the active item changed between
	// its read and its write. Nothing was written; retry.
	ErrConflict = errors.New("keystore: the active branch key changed concurrently")
	// ErrReadOnly: CreateKey or VersionKey on a Discovery or MRDiscovery
	// store.
	ErrReadOnly = errors.New("keystore: a discovery configuration cannot create or version keys")
	// ErrTableSchema: the table exists without the key store's key schema.
	ErrTableSchema = errors.New("keystore: table does not have the key store's key schema")
	// ErrInvalidInput: an empty branch key id, a custom id without a custom
	// encryption context, a context that is not UTF-8.
	ErrInvalidInput = errors.New("keystore: invalid input")
	// ErrKMSResponse: KMS answered without a key id or ciphertext, or a
	// plaintext key of the wrong length.
	ErrKMSResponse = errors.New("keystore: invalid response from AWS KMS")
)

// Error is the failure of one store operation. It names the table and the
// branch key id, never key material; Err is the cause (an SDK error stays
// reachable through errors.As).
type Error struct {
	Op          string // "CreateKey", "VersionKey", "GetActiveBranchKey", ...
	Table       string
	BranchKeyID string // "" when not known
	Err         error
}

func (e *Error) Error() string {
	if e.BranchKeyID == "" {
		return fmt.Sprintf("keystore: %s on table %s: %v", e.Op, e.Table, e.Err)
	}
	return fmt.Sprintf("keystore: %s of branch key %q on table %s: %v", e.Op, e.BranchKeyID, e.Table, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Options configure [New].
type Options struct {
	// TableName is the DynamoDB table. Required.
	TableName string
	// LogicalName is the logical key store name, bound into the KMS
	// encryption context of every key ("tablename"). Every client of the
	// table must use the same one; it may differ from TableName (a
	// restored backup keeps its keys readable). Required.
	LogicalName string
	// KMS is the AWS KMS configuration. Required.
	KMS KMSConfig
	// GrantTokens are sent with every KMS call.
	GrantTokens []string
	// ID identifies this store configuration; "" is a random UUID.
	ID string
	// Now is the clock of create-time; nil is time.Now.
	Now func() time.Time
	// Rand is the source of branch key ids and versions (version 4 UUIDs);
	// nil is crypto/rand.
	Rand io.Reader
}

// Store is a branch key store in a DynamoDB table. It is safe for
// concurrent use; it keeps no state but its configuration.
type Store struct {
	ddb  DynamoDB
	kms  KMS
	opts Options
}

var _ hierarchy.Source = (*Store)(nil)

// New returns the store over a DynamoDB and a KMS client.
func New(ddb DynamoDB, kmsClient KMS, optFns ...func(*Options)) (*Store, error) {
	if ddb == nil || kmsClient == nil {
		return nil, errors.New("keystore: a DynamoDB and a KMS client are required")
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.TableName == "" {
		return nil, errors.New("keystore: Options.TableName is required")
	}
	if o.LogicalName == "" {
		return nil, errors.New("keystore: Options.LogicalName is required")
	}
	if err := o.KMS.validate(); err != nil {
		return nil, err
	}
	if len(o.GrantTokens) > 10 {
		return nil, errors.New("keystore: at most 10 grant tokens")
	}
	o.GrantTokens = slices.Clone(o.GrantTokens)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	if o.ID == "" {
		u, err := uuid.NewRandomFromReader(o.Rand)
		if err != nil {
			return nil, fmt.Errorf("keystore: generating the store id: %w", err)
		}
		o.ID = u.String()
	}
	return &Store{ddb: ddb, kms: kmsClient, opts: o}, nil
}

// Info describes the store's configuration (the MPL's GetKeyStoreInfo).
type Info struct {
	ID, TableName, LogicalName string
	GrantTokens                []string
	KMS                        KMSConfig
}

// Info returns the store's configuration.
func (s *Store) Info() Info {
	return Info{ID: s.opts.ID, TableName: s.opts.TableName, LogicalName: s.opts.LogicalName,
		GrantTokens: slices.Clone(s.opts.GrantTokens), KMS: s.opts.KMS}
}

// LogicalKeyStoreName returns Options.LogicalName: a hierarchical keyring
// over s takes it for its cache identifier (hierarchy.LogicalNamer).
func (s *Store) LogicalKeyStoreName() string { return s.opts.LogicalName }

var _ hierarchy.LogicalNamer = (*Store)(nil)

func (s *Store) fail(op, id string, err error) error {
	return &Error{Op: op, Table: s.opts.TableName, BranchKeyID: id, Err: err}
}

func (s *Store) newUUID() (string, error) {
	u, err := uuid.NewRandomFromReader(s.opts.Rand)
	if err != nil {
		return "", fmt.Errorf("generating a UUID: %w", err)
	}
	return u.String(), nil
}

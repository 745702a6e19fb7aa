package keystore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The key schema of the table.
var (
	attributeDefinitions = []types.AttributeDefinition{
		{AttributeName: aws.String(AttrBranchKeyID), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String(AttrType), AttributeType: types.ScalarAttributeTypeS},
	}
	keySchema = []types.KeySchemaElement{
		{AttributeName: aws.String(AttrBranchKeyID), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(AttrType), KeyType: types.KeyTypeRange},
	}
)

// Condition expressions of the writes, with the MPL's attribute name
// placeholder.
const (
	namePlaceholder   = "#BranchKeyIdentifierField"
	encPlaceholder    = "#Enc"
	oldEncPlaceholder = ":encOld"
	condNotExists     = "attribute_not_exists(" + namePlaceholder + ")"
	// condUnchanged is the optimistic lock of the active item (spec 0.9.0,
	// "Mitigate Version Race Condition"): it exists and still holds the
	// ciphertext VersionKey authenticated.
	condUnchanged = "attribute_exists(" + namePlaceholder + ") AND " + encPlaceholder + " = " + oldEncPlaceholder
)

// CreateKeyStore creates the table (partition key branch-key-id, sort key
// type, both strings, on-demand billing) unless it exists, and returns its
// ARN. An existing table must have that key schema ([ErrTableSchema]). It
// returns once DynamoDB accepted the table; a new table may still be
// CREATING for a moment.
func (s *Store) CreateKeyStore(ctx context.Context) (tableARN string, err error) {
	const op = "CreateKeyStore"
	desc, err := s.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.opts.TableName)})
	var td *types.TableDescription
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		td = desc.Table
	case errors.As(err, &notFound):
		out, err := s.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(s.opts.TableName),
			AttributeDefinitions: attributeDefinitions,
			KeySchema:            keySchema,
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			return "", s.fail(op, "", err)
		}
		td = out.TableDescription
	default:
		return "", s.fail(op, "", err)
	}
	if td == nil || !hasKeyStoreSchema(td) {
		return "", s.fail(op, "", ErrTableSchema)
	}
	a, err := arn.Parse(aws.ToString(td.TableArn))
	if err != nil || a.Resource != "table/"+s.opts.TableName {
		return "", s.fail(op, "", errors.New("the table ARN DynamoDB returned does not name the configured table"))
	}
	return aws.ToString(td.TableArn), nil
}

// hasKeyStoreSchema is the MPL's keyStoreHasExpectedConstruction?.
func hasKeyStoreSchema(td *types.TableDescription) bool {
	for _, want := range attributeDefinitions {
		if !slices.ContainsFunc(td.AttributeDefinitions, func(d types.AttributeDefinition) bool {
			return aws.ToString(d.AttributeName) == *want.AttributeName && d.AttributeType == want.AttributeType
		}) {
			return false
		}
	}
	for _, want := range keySchema {
		if !slices.ContainsFunc(td.KeySchema, func(e types.KeySchemaElement) bool {
			return aws.ToString(e.AttributeName) == *want.AttributeName && e.KeyType == want.KeyType
		}) {
			return false
		}
	}
	return true
}

// CreateKeyInput is the input of [Store.CreateKey].
type CreateKeyInput struct {
	// BranchKeyID is the new branch key's id; "" makes a random UUID. A
	// caller-chosen id needs an EncryptionContext.
	BranchKeyID string
	// EncryptionContext is the custom encryption context bound to every
	// version of the branch key; each pair is stored as attribute
	// "aws-crypto-ec:"+key. Keys and values must be UTF-8; values are not
	// secret (they are stored in plaintext).
	EncryptionContext map[string]string
}

// CreateKey creates a branch key: its first version (a version item and the
// active item) and its beacon key, in one transaction that fails with
// [ErrBranchKeyExists], writing nothing, when the id has any of these items.
// It returns the branch key id. The keys are made by KMS
// GenerateDataKeyWithoutPlaintext and never leave KMS in plaintext here.
func (s *Store) CreateKey(ctx context.Context, in CreateKeyInput) (branchKeyID string, err error) {
	const op = "CreateKey"
	id := in.BranchKeyID
	if !s.opts.KMS.canWrite() {
		return "", s.fail(op, id, ErrReadOnly)
	}
	if id != "" && len(in.EncryptionContext) == 0 {
		return "", s.fail(op, id, fmt.Errorf("%w: a custom branch key id needs a custom encryption context", ErrInvalidInput))
	}
	if err := checkCustomContext(in.EncryptionContext); err != nil {
		return "", s.fail(op, id, fmt.Errorf("%w: %w", ErrInvalidInput, err))
	}
	if id == "" {
		if id, err = s.newUUID(); err != nil {
			return "", s.fail(op, "", err)
		}
	}
	version, err := s.newUUID()
	if err != nil {
		return "", s.fail(op, id, err)
	}
	created := s.opts.Now().UTC().Format(timeFormat)
	decryptOnly := decryptOnlyContext(id, version, created, s.opts.LogicalName, s.opts.KMS.arn, in.EncryptionContext)
	active := activeContext(decryptOnly)
	beacon := beaconContext(decryptOnly)

	wrapped, err := s.generateKey(ctx, decryptOnly)
	if err != nil {
		return "", s.fail(op, id, err)
	}
	wrappedActive, err := s.reEncrypt(ctx, wrapped, decryptOnly, active)
	if err != nil {
		return "", s.fail(op, id, err)
	}
	wrappedBeacon, err := s.generateKey(ctx, beacon)
	if err != nil {
		return "", s.fail(op, id, err)
	}
	err = s.transact(ctx,
		s.put(toItem(decryptOnly, wrapped), condNotExists, nil),
		s.put(toItem(active, wrappedActive), condNotExists, nil),
		s.put(toItem(beacon, wrappedBeacon), condNotExists, nil))
	if err != nil {
		if errors.Is(err, errConditionFailed) {
			err = fmt.Errorf("%w: %w", ErrBranchKeyExists, err)
		}
		return "", s.fail(op, id, err)
	}
	return id, nil
}

// VersionKey rotates a branch key: it authenticates the active item with
// KMS ReEncrypt, makes a new version with the same custom encryption
// context and kms-arn, and writes the new version item and the new active
// item in one transaction. The write of the active item is conditional on
// its enc being unchanged since the read, so of two concurrent VersionKey
// calls one fails with [ErrConflict] and writes nothing. Old versions stay
// readable with [Store.GetBranchKeyVersion].
func (s *Store) VersionKey(ctx context.Context, branchKeyID string) error {
	const op = "VersionKey"
	if !s.opts.KMS.canWrite() {
		return s.fail(op, branchKeyID, ErrReadOnly)
	}
	if branchKeyID == "" {
		return s.fail(op, "", fmt.Errorf("%w: empty branch key id", ErrInvalidInput))
	}
	// A consistent read: a stale active item would only make the write
	// below fail with ErrConflict.
	oldEC, oldEnc, err := s.readItem(ctx, branchKeyID, TypeActive, true)
	if err != nil {
		return s.fail(op, branchKeyID, err)
	}
	if _, err := s.reEncrypt(ctx, oldEnc, oldEC, oldEC); err != nil {
		return s.fail(op, branchKeyID, err)
	}
	version, err := s.newUUID()
	if err != nil {
		return s.fail(op, branchKeyID, err)
	}
	decryptOnly := newVersionContext(oldEC, version, s.opts.Now().UTC().Format(timeFormat))
	active := activeContext(decryptOnly)
	wrapped, err := s.generateKey(ctx, decryptOnly)
	if err != nil {
		return s.fail(op, branchKeyID, err)
	}
	wrappedActive, err := s.reEncrypt(ctx, wrapped, decryptOnly, active)
	if err != nil {
		return s.fail(op, branchKeyID, err)
	}
	err = s.transact(ctx,
		s.put(toItem(decryptOnly, wrapped), condNotExists, nil),
		s.put(toItem(active, wrappedActive), condUnchanged, oldEnc))
	if err != nil {
		if errors.Is(err, errConditionFailed) {
			err = fmt.Errorf("%w: %w", ErrConflict, err)
		}
		return s.fail(op, branchKeyID, err)
	}
	return nil
}

func (s *Store) put(item map[string]types.AttributeValue, cond string, oldEnc []byte) types.TransactWriteItem {
	p := &types.Put{
		TableName:                aws.String(s.opts.TableName),
		Item:                     item,
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{namePlaceholder: AttrBranchKeyID},
	}
	if oldEnc != nil {
		p.ExpressionAttributeNames[encPlaceholder] = AttrEnc
		p.ExpressionAttributeValues = map[string]types.AttributeValue{oldEncPlaceholder: &types.AttributeValueMemberB{Value: oldEnc}}
	}
	return types.TransactWriteItem{Put: p}
}

// errConditionFailed: a condition of the transaction failed.
var errConditionFailed = errors.New("condition check failed")

func (s *Store) transact(ctx context.Context, items ...types.TransactWriteItem) error {
	_, err := s.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && slices.ContainsFunc(canceled.CancellationReasons, func(r types.CancellationReason) bool {
		return aws.ToString(r.Code) == "ConditionalCheckFailed"
	}) {
		return fmt.Errorf("%w: %w", errConditionFailed, err)
	}
	return err
}

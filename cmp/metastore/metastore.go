// Package metastore keeps versioned wrapping and signing keys in a DynamoDB
// table, each item protected by another provider: the DDBEC MetaStore. Use it
// as the store of a [cmp.MostRecent] provider.
//
// # Compatibility
//
// The table layout and item format are those of the reference clients (spec
// §8.7): partition key "N" (S, the material name), sort key "V" (N, the
// version), encrypted attributes "t" ("0"), "enc"/"encAlg" (a 32-byte AES key,
// "AES") and "int"/"intAlg" (a 32-byte HMAC key, "HmacSHA256"). A Java or
// Python MostRecentProvider reads what this store writes, and vice versa,
// when both protect the meta table with the same provider.
package metastore

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Attribute names of a meta item.
const (
	AttrName    = "N"
	AttrVersion = "V"
	attrType    = "t"
	attrEnc     = "enc"
	attrEncAlg  = "encAlg"
	attrInt     = "int"
	attrIntAlg  = "intAlg"
	materialT0  = "0"
)

// ErrUnsupportedMaterial: a meta item of a material type other than "0", or
// with keys of the wrong algorithm or size.
var ErrUnsupportedMaterial = errors.New("metastore: unsupported material")

// API is the part of the DynamoDB client the store uses; *dynamodb.Client
// satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// TableAPI creates tables; *dynamodb.Client satisfies it.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// CreateTable creates a meta table with the reference key schema (N: S
// partition key, V: N sort key), billed on demand. It does not wait for the
// table to become active.
func CreateTable(ctx context.Context, api TableAPI, tableName string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(tableName),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrName), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrVersion), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrName), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrVersion), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("metastore: creating table %s: %w", tableName, err)
	}
	return nil
}

// codec turns meta items into providers and back.
type codec struct {
	enc *itemcrypto.Encryptor
}

func newCodec(tableName string, metaProvider cmp.Provider) (*codec, error) {
	pol, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: AttrName, SortKey: AttrVersion})
	if err != nil {
		return nil, err
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: tableName, Policy: pol, Provider: metaProvider})
	if err != nil {
		return nil, err
	}
	return &codec{enc: enc}, nil
}

func key(name string, version int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrName:    &types.AttributeValueMemberS{Value: name},
		AttrVersion: &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
	}
}

// newItem makes fresh keys for (name, version) and returns the protected
// meta item.
func (c *codec) newItem(ctx context.Context, name string, version int64) (map[string]types.AttributeValue, error) {
	encKey := make([]byte, 32)
	intKey := make([]byte, 32)
	defer clear(encKey)
	defer clear(intKey)
	if _, err := crand.Read(encKey); err != nil {
		return nil, err
	}
	if _, err := crand.Read(intKey); err != nil {
		return nil, err
	}
	item := key(name, version)
	item[attrType] = &types.AttributeValueMemberS{Value: materialT0}
	item[attrEnc] = &types.AttributeValueMemberB{Value: encKey}
	item[attrEncAlg] = &types.AttributeValueMemberS{Value: "AES"}
	item[attrInt] = &types.AttributeValueMemberB{Value: intKey}
	item[attrIntAlg] = &types.AttributeValueMemberS{Value: "HmacSHA256"}
	return c.enc.Encrypt(ctx, item)
}

// provider verifies and decrypts a meta item and builds the wrapped
// provider it describes.
func (c *codec) provider(ctx context.Context, name string, version int64, stored map[string]types.AttributeValue) (cmp.Provider, error) {
	item, err := c.enc.Decrypt(ctx, stored)
	if err != nil {
		return nil, fmt.Errorf("metastore: material %s: %w", cmp.MetaID(name, version), err)
	}
	str := func(n string) string {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	bin := func(n string) []byte {
		if v, ok := item[n].(*types.AttributeValueMemberB); ok {
			return v.Value
		}
		return nil
	}
	defer func() { clear(bin(attrEnc)); clear(bin(attrInt)) }()
	if str(attrType) != materialT0 {
		return nil, fmt.Errorf("%w: material type of %s", ErrUnsupportedMaterial, cmp.MetaID(name, version))
	}
	if str(attrEncAlg) != "AES" {
		return nil, fmt.Errorf("%w: encAlg of %s", ErrUnsupportedMaterial, cmp.MetaID(name, version))
	}
	kek, err := cmp.NewAESKey(bin(attrEnc))
	if err != nil {
		return nil, fmt.Errorf("%w: enc of %s: %w", ErrUnsupportedMaterial, cmp.MetaID(name, version), err)
	}
	mac, err := cmp.NewInsecureHMACKey(str(attrIntAlg), bin(attrInt)) // written by any client, of any length
	if err != nil {
		return nil, fmt.Errorf("%w: int of %s: %w", ErrUnsupportedMaterial, cmp.MetaID(name, version), err)
	}
	return cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac,
		Description: materialdesc.Description{materialdesc.KeyMetaID: cmp.MetaID(name, version)},
	})
}

// Store is a [cmp.ProviderStore] over a DynamoDB table.
type Store struct {
	api   API
	table string
	codec *codec
}

var _ cmp.ProviderStore = (*Store)(nil)

// New returns a store over the meta table tableName, whose items
// metaProvider protects (any provider: static, wrapped, Direct KMS...).
func New(api API, tableName string, metaProvider cmp.Provider) (*Store, error) {
	if api == nil {
		return nil, errors.New("metastore: nil DynamoDB API")
	}
	c, err := newCodec(tableName, metaProvider)
	if err != nil {
		return nil, err
	}
	return &Store{api: api, table: tableName, codec: c}, nil
}

// Provider reads (name, version) with a consistent read.
func (s *Store) Provider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(name, version), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("metastore: reading %s: %w", cmp.MetaID(name, version), err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("%w: %s in table %s", cmp.ErrVersionNotFound, cmp.MetaID(name, version), s.table)
	}
	return s.codec.provider(ctx, name, version, out.Item)
}

// MaxVersion queries the newest version of name with a consistent read.
func (s *Store) MaxVersion(ctx context.Context, name string) (int64, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#N = :n"),
		ExpressionAttributeNames:  map[string]string{"#N": AttrName, "#V": AttrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: name}},
		ProjectionExpression:      aws.String("#V"),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("metastore: querying versions of %s: %w", name, err)
	}
	if len(out.Items) == 0 {
		return 0, fmt.Errorf("%w: no version of %s in table %s", cmp.ErrVersionNotFound, name, s.table)
	}
	v, ok := out.Items[0][AttrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%w: version attribute of %s", ErrUnsupportedMaterial, name)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: version attribute of %s", ErrUnsupportedMaterial, name)
	}
	return n, nil
}

// CreateProvider writes (name, version) with fresh keys unless it exists
// (a conditional put decides between concurrent writers), and returns it.
func (s *Store) CreateProvider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	item, err := s.codec.newItem(ctx, name, version)
	if err != nil {
		return nil, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#N) AND attribute_not_exists(#V)"),
		ExpressionAttributeNames: map[string]string{"#N": AttrName, "#V": AttrVersion},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return s.Provider(ctx, name, version)
	case err != nil:
		return nil, fmt.Errorf("metastore: writing %s: %w", cmp.MetaID(name, version), err)
	}
	return s.codec.provider(ctx, name, version, item)
}

package itemcrypto

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// ErrNotDBESDKItem: DescribeEncryptedDataKeys got an item without a binary
// aws_dbe_head attribute (a plaintext or DDBEC item), or a header that does
// not parse.
var ErrNotDBESDKItem = errors.New("itemcrypto: not a DB-ESDK item (no well-formed binary aws_dbe_head attribute)")

// headerAttribute is the DB-ESDK header attribute.
const headerAttribute = "aws_dbe_head"

// DescribeEncryptedDataKeys returns, for each encrypted data key of a
// stored DB-ESDK item, which keyring and key protect it (the DB-ESDK's
// GetEncryptedDataKeyDescription): the provider id and info, the KMS key
// ARN, a hierarchical keyring's branch key id and version, a raw keyring's
// key namespace and name. It parses the item's header only: it decrypts
// nothing, calls nothing, needs no configuration, and authenticates
// nothing either (an item is verified only by Decrypt).
func DescribeEncryptedDataKeys(item Item) ([]keyring.EDKDescription, error) {
	b, ok := item[headerAttribute].(*types.AttributeValueMemberB)
	if !ok || b == nil {
		return nil, ErrNotDBESDKItem
	}
	return DescribeHeader(b.Value)
}

// DescribeHeader is DescribeEncryptedDataKeys for the bytes of an item's
// aws_dbe_head attribute.
func DescribeHeader(head []byte) ([]keyring.EDKDescription, error) {
	h, err := header.Parse(head)
	if err != nil {
		return nil, ErrNotDBESDKItem
	}
	out := make([]keyring.EDKDescription, len(h.EDKs))
	for i, edk := range h.EDKs {
		out[i] = keyring.DescribeEncryptedDataKey(edk)
	}
	return out, nil
}

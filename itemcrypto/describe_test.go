package itemcrypto_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func TestDescribeEncryptedDataKeysNotDBESDK(t *testing.T) {
	for name, item := range map[string]itemcrypto.Item{
		"plaintext":      exampleItem(),
		"nil":            nil,
		"string head":    {"aws_dbe_head": &types.AttributeValueMemberS{Value: "x"}},
		"malformed head": {"aws_dbe_head": &types.AttributeValueMemberB{Value: []byte{1, 0x67, 0}}},
		"DDBEC":          {"*amzn-ddb-map-sig*": &types.AttributeValueMemberB{Value: []byte{1}}},
	} {
		if _, err := itemcrypto.DescribeEncryptedDataKeys(item); !errors.Is(err, itemcrypto.ErrNotDBESDKItem) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every stored item of the DB-ESDK vectors (Java and .NET, written by the
// reference implementations) is described: its hierarchy EDKs with the
// vectors' static branch key and version, from the header alone.
func TestDescribeEncryptedDataKeysVectors(t *testing.T) {
	const branchKeyID, version = "bd3842ff-3076-4092-9918-4395730050b8", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6"
	kinds := map[keyring.KeyringKind]int{}
	for _, v := range testenv.DBESDKVectors(t) {
		head := v.Encrypted["aws_dbe_head"].B
		if head == nil {
			continue
		}
		descs, err := itemcrypto.DescribeHeader(head)
		if err != nil {
			t.Errorf("%s %s: %v", v.File, v.ID, err)
			continue
		}
		for _, d := range descs {
			kinds[d.Kind]++
			if d.Kind == keyring.KindKMSHierarchy && (d.BranchKeyID != branchKeyID || d.BranchKeyVersion != version) {
				t.Errorf("%s %s: hierarchy EDK of %s version %s", v.File, v.ID, d.BranchKeyID, d.BranchKeyVersion)
			}
			if d.Kind == keyring.KindUnknown {
				t.Errorf("%s %s: EDK %q not described", v.File, v.ID, d.ProviderID)
			}
		}
	}
	if kinds[keyring.KindKMSHierarchy] == 0 {
		t.Fatalf("no hierarchy EDK among the vectors: %v", kinds)
	}
	t.Logf("EDKs by kind: %v", kinds)
}

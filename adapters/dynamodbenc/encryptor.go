package dynamodbenc

import (
	"errors"
	"fmt"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// NewEncryptor returns the item encryptor that a [Client] configured with tc
// uses for the table named table: the same checks as [New], the same
// actions (signed beacons of tc.Search made SignOnly), signing table name,
// write form and Options.EncryptorOptions. It is for reading the table's
// items where no Client is involved, such as the images of DynamoDB Streams
// records (package streams). tc.PartitionKey must be set: there is no
// DescribeTable here to learn it.
func NewEncryptor(table string, tc TableConfig, optFns ...func(*Options)) (*itemcrypto.Encryptor, error) {
	if tc.PartitionKey == "" {
		return nil, fmt.Errorf("dynamodbenc: NewEncryptor: table %q: PartitionKey is required", table)
	}
	c, err := New(noAPI{}, Config{Tables: map[string]TableConfig{table: tc}}, optFns...)
	if err != nil {
		return nil, err
	}
	b := c.tables[table].built.Load()
	if b == nil {
		return nil, errors.New("dynamodbenc: NewEncryptor: the table's encryptor was not built")
	}
	return b.enc, nil
}

// noAPI is the API of a Client that never sends a request.
type noAPI struct{ API }

package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/pflag"

	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// addPolicyFlags registers the flags that say how a table's items are
// protected: its name, key names and actions (encrypt, decrypt, rotate).
func (f *cryptFlags) addPolicyFlags(fl *pflag.FlagSet, tableUsage string) {
	fl.StringVar(&f.table, "table", "", tableUsage)
	fl.StringVar(&f.partitionKey, "partition-key", "", "partition key attribute name (without it: read from DescribeTable, where the command reaches DynamoDB)")
	fl.StringVar(&f.sortKey, "sort-key", "", "sort key attribute name")
	fl.BoolVar(&f.noSortKey, "no-sort-key", false, "the table has no sort key")
	fl.StringVar(&f.defaultAction, "default-action", "encrypt", "action of attributes not named otherwise: encrypt, sign or nothing")
	fl.StringSliceVar(&f.encrypt, "encrypt", nil, "attributes to encrypt and sign (comma-separated)")
	fl.StringSliceVar(&f.sign, "sign", nil, "attributes to sign only (comma-separated)")
	fl.StringSliceVar(&f.nothing, "nothing", nil, "attributes to leave alone, unsigned (comma-separated)")
}

// describeFunc returns the table's description (DescribeTable); nil when
// the command cannot reach DynamoDB.
type describeFunc func(ctx context.Context, table string) (*types.TableDescription, error)

// describeWith is the describeFunc of client.
func describeWith(client *dynamodb.Client) describeFunc {
	return func(ctx context.Context, table string) (*types.TableDescription, error) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return nil, fmt.Errorf("DescribeTable %s (to learn its key names): %w", table, err)
		}
		if out.Table == nil {
			return nil, fmt.Errorf("DescribeTable %s returned no table", table)
		}
		return out.Table, nil
	}
}

// keysComplete reports whether the flags name both keys.
func (f *cryptFlags) keysComplete() bool {
	return f.partitionKey != "" && (f.sortKey != "" || f.noSortKey)
}

// resolveKeys settles the key names before any item is touched, so that a
// key attribute is never encrypted because its name was left out: the
// flags name both keys (--sort-key or --no-sort-key), or describe (when it
// is not nil) reads them from DescribeTable; otherwise it is an error. With
// describe, key names given as flags must agree with the table.
func (f *cryptFlags) resolveKeys(ctx context.Context, describe describeFunc) error {
	if f.noSortKey && f.sortKey != "" {
		return usagef("--sort-key and --no-sort-key contradict each other")
	}
	if describe == nil {
		switch {
		case f.keysComplete():
			return nil
		case f.partitionKey == "":
			return usagef("--partition-key is not set: name the table's keys (--partition-key NAME, and --sort-key NAME or --no-sort-key), or give --endpoint URL to read them from DescribeTable")
		default:
			return usagef("--sort-key is not set: give --sort-key NAME, or --no-sort-key if table %s has none (or --endpoint URL to read it from DescribeTable)", f.table)
		}
	}
	t, err := describe(ctx, f.table)
	if err != nil {
		return err
	}
	pk, sk := rotate.TableKeys(t)
	if pk == "" {
		return fmt.Errorf("DescribeTable %s: no partition key in the key schema", f.table)
	}
	if (f.partitionKey != "" && f.partitionKey != pk) || (f.sortKey != "" && f.sortKey != sk) || (f.noSortKey && sk != "") {
		return usagef("table %s has partition key %q and sort key %q (DescribeTable), but the flags name %q and %q",
			f.table, pk, sk, f.partitionKey, f.sortKey)
	}
	f.partitionKey, f.sortKey = pk, sk
	return nil
}

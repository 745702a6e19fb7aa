package dynamodbenc

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrUnsafeOperation is the class of every request the client refuses on a
// configured table because it cannot be made safe: an expression that DynamoDB
// would evaluate on ciphertext, an update the item's signature could not
// survive, PartiQL, a legacy parameter. Nothing has been sent when it is
// returned (apart, at most, from the one DescribeTable that learns a table's
// key schema). Match it with errors.Is; the details are in an
// [*UnsafeOperationError].
var ErrUnsafeOperation = errors.New("dynamodbenc: unsafe operation on an encrypted table")

// UnsafeOperationError says which request was refused and why. It names
// attributes and parameters, never values.
type UnsafeOperationError struct {
	// Op is the operation, e.g. "UpdateItem" or "TransactWriteItems".
	Op string
	// Table is the table as the request named it.
	Table string
	// Attribute is the attribute concerned, "" when the reason is not about
	// one attribute.
	Attribute string
	// Reason explains the refusal and what to do instead.
	Reason string
	// Err is the typed cause where there is one: a *search.QueryError for
	// a query on beacons that cannot be rewritten.
	Err error
}

func (e *UnsafeOperationError) Error() string {
	return fmt.Sprintf("dynamodbenc: %s on table %q refused before sending: %s", e.Op, e.Table, e.Reason)
}

// Unwrap returns [ErrUnsafeOperation] and Err.
func (e *UnsafeOperationError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnsafeOperation}
	}
	return []error{ErrUnsafeOperation, e.Err}
}

// OpError is a failed operation on a configured table: an error of DynamoDB
// (errors.As finds the SDK's and smithy's types through it), of the provider,
// or of the item encryptor (an [itemcrypto.AttributeError], say). Requests on
// tables without configuration return DynamoDB's errors as they are.
type OpError struct {
	// Op is the operation, e.g. "PutItem".
	Op string
	// Table is the table as the request named it; "" for an operation
	// spanning several tables (BatchWriteItem, TransactWriteItems, ...).
	Table string
	Err   error
}

func (e *OpError) Error() string {
	if e.Table == "" {
		return fmt.Sprintf("dynamodbenc: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("dynamodbenc: %s %q: %v", e.Op, e.Table, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// ItemError is one item of a request or a response that could not be
// protected or verified: an item of a Query or Scan page that fails
// verification (errors.Is(err, itemcrypto.ErrAuthentication)), an item of a
// batch that cannot be encrypted. The whole call fails with it; no item is
// ever dropped silently.
//
// Its message names the key attributes but never prints values; Key holds the
// item's primary-key values (stored in plaintext, never encrypted) so that a
// caller can find the item.
type ItemError struct {
	// Op is the operation, e.g. "Query".
	Op string
	// Table is the table as the request named it.
	Table string
	// Index is the item's position: in the page (Query, Scan), in the
	// table's requests or responses (BatchWriteItem, BatchGetItem), in
	// TransactItems (TransactGetItems, TransactWriteItems); 0 for single-item
	// operations.
	Index int
	// Key is the item's primary key, as stored.
	Key map[string]types.AttributeValue
	// Written reports that the write did happen: the item is the one
	// DynamoDB returned (ReturnValues) after a successful PutItem, UpdateItem
	// or DeleteItem, and it failed verification.
	Written bool
	Err     error
}

func (e *ItemError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dynamodbenc: %s %q: ", e.Op, e.Table)
	if e.Written {
		b.WriteString("the write succeeded, but the item it returned ")
	} else {
		fmt.Fprintf(&b, "item %d ", e.Index)
	}
	if len(e.Key) > 0 {
		fmt.Fprintf(&b, "(key %s) ", strings.Join(slices.Sorted(maps.Keys(e.Key)), ", "))
	}
	fmt.Fprintf(&b, "failed: %v", e.Err)
	return b.String()
}

func (e *ItemError) Unwrap() error { return e.Err }

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

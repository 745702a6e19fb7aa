package streams

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RecordError is a stream record of a configured table that could not be
// verified or decrypted: an image that fails verification (errors.Is(err,
// itemcrypto.ErrAuthentication)), Keys that differ from the verified
// image's, an event source ARN that names no table, a value that cannot be
// converted, a key schema that cannot be learned. The record is never
// dropped: it is reported with this error.
//
// Its message names the table, the event, the image and the key attribute
// names, never values: Key holds the item's primary-key values (stored in
// plaintext, never encrypted) so that a caller can find the item.
type RecordError struct {
	// Table is the table the record's ARN names ("" when it names none).
	Table string
	// EventID and SequenceNumber identify the record in its stream;
	// SequenceNumber is the ItemIdentifier of a Lambda batch item failure.
	EventID, SequenceNumber string
	// EventName is INSERT, MODIFY or REMOVE.
	EventName string
	// Index is the record's position in the batch (DecryptEvent,
	// DecryptRecords); 0 for a single record.
	Index int
	// Image is "NewImage" or "OldImage", or "" when the failure is not
	// about one image.
	Image string
	// Key is the item's primary key: the record's Keys or, without them,
	// the key attributes of the image.
	Key map[string]types.AttributeValue
	Err error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("streams: ")
	if e.Table != "" {
		fmt.Fprintf(&b, "table %q ", e.Table)
	}
	fmt.Fprintf(&b, "record %q", e.EventID)
	if e.EventName != "" {
		fmt.Fprintf(&b, " (%s)", e.EventName)
	}
	if len(e.Key) > 0 {
		fmt.Fprintf(&b, " key %s", strings.Join(slices.Sorted(maps.Keys(e.Key)), ", "))
	}
	if e.Image != "" {
		fmt.Fprintf(&b, ": %s", e.Image)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// BatchError is a batch (DecryptEvent, DecryptRecords) of which some
// records failed: one [*RecordError] each, in the batch's order. errors.Is
// and errors.As look into each of them.
type BatchError struct {
	Records []*RecordError
}

func (e *BatchError) Error() string {
	if len(e.Records) == 1 {
		return e.Records[0].Error()
	}
	return fmt.Sprintf("%s (and %d more records)", e.Records[0].Error(), len(e.Records)-1)
}

// Unwrap returns the records' errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Records))
	for i, r := range e.Records {
		out[i] = r
	}
	return out
}

// BatchItemFailures returns the Lambda batch item failures of the failed
// records (their sequence numbers), for an events.DynamoDBEventResponse of
// a function whose event source mapping reports batch item failures
// (FunctionResponseTypes ReportBatchItemFailures). A nil *BatchError has
// none.
func (e *BatchError) BatchItemFailures() []events.DynamoDBBatchItemFailure {
	if e == nil {
		return nil
	}
	out := make([]events.DynamoDBBatchItemFailure, len(e.Records))
	for i, r := range e.Records {
		out[i] = events.DynamoDBBatchItemFailure{ItemIdentifier: r.SequenceNumber}
	}
	return out
}

// batchError returns a *BatchError of the non-nil errs, or nil.
func batchError(errs []*RecordError) error {
	var failed []*RecordError
	for _, e := range errs {
		if e != nil {
			failed = append(failed, e)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &BatchError{Records: failed}
}

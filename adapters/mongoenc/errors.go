package mongoenc

import (
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrUnsafeOperation is the class of every request the collection refuses
// because it cannot be made safe: a filter, sort or projection the server
// would evaluate on ciphertext, an update the document's signature could not
// survive, an option that would return documents that cannot be verified.
// Nothing has been sent when it is returned. Match it with errors.Is; the
// details are in an [*UnsafeOperationError].
var ErrUnsafeOperation = errors.New("mongoenc: unsafe operation on an encrypted collection")

// Errors of the document mapping, matched with errors.Is through a
// [*DocumentError] (with the field path in an [itemcrypto.AttributeError]).
var (
	// ErrArrayOnPath: a configured nested path (say "profile.ssn") runs
	// through an array in the document. Nested paths address fields of
	// embedded documents only.
	ErrArrayOnPath = errors.New("mongoenc: a configured nested path runs through an array")
	// ErrDottedFieldName: a top-level field name contains '.', which would
	// make it indistinguishable from a nested path.
	ErrDottedFieldName = errors.New("mongoenc: field name contains '.'")
	// ErrDuplicateField: a document has two fields of the same name.
	ErrDuplicateField = errors.New("mongoenc: duplicate field name")
	// ErrMissingID: a replacement document has no _id and the filter does not
	// pin one (the signature binds _id, so it must be known before writing).
	ErrMissingID = errors.New("mongoenc: the replacement document has no _id")
)

// UnsafeOperationError says which request was refused and why. It names
// fields and options, never values.
type UnsafeOperationError struct {
	// Op is the operation, e.g. "UpdateOne" or "Find".
	Op string
	// Collection is the collection's namespace, "database.collection".
	Collection string
	// Field is the field path concerned, "" when the reason is not about one
	// field.
	Field string
	// Reason explains the refusal and what to do instead.
	Reason string
}

func (e *UnsafeOperationError) Error() string {
	return fmt.Sprintf("mongoenc: %s on %s refused before sending: %s", e.Op, e.Collection, e.Reason)
}

// Unwrap returns [ErrUnsafeOperation].
func (e *UnsafeOperationError) Unwrap() error { return ErrUnsafeOperation }

// OpError is a failed operation: an error of the server or the driver
// (errors.As finds the driver's types through it, and mongo.IsDuplicateKeyError,
// mongo.IsTimeout and friends keep working), of the provider or of the
// encryptor. mongo.ErrNoDocuments is never wrapped: it is returned as the
// driver returns it, so that err == mongo.ErrNoDocuments keeps working.
type OpError struct {
	// Op is the operation, e.g. "InsertOne".
	Op string
	// Collection is the collection's namespace, "database.collection".
	Collection string
	Err        error
}

func (e *OpError) Error() string {
	return fmt.Sprintf("mongoenc: %s %s: %v", e.Op, e.Collection, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// DocumentError is one document that could not be protected on the way in,
// or verified and decrypted on the way out: a document of a Find that fails
// verification (errors.Is(err, itemcrypto.ErrAuthentication)), a document of
// InsertMany that carries a reserved field. The operation fails with it; no
// document is ever dropped silently.
//
// ID holds the document's _id as stored (it is never encrypted). The message
// prints it when it is an ObjectID or an integer, and otherwise only its
// type: an _id of another type (an e-mail address, say) may be personal data,
// and error messages end up in logs.
type DocumentError struct {
	// Op is the operation, e.g. "Find".
	Op string
	// Collection is the collection's namespace, "database.collection".
	Collection string
	// Index is the document's position: in the documents of InsertMany or
	// the models of BulkWrite, in the stream of a cursor (0 for the first
	// document Next returns); 0 for single-document operations.
	Index int
	// ID is the document's _id; its Type is 0 when the document has none
	// (or it could not be read).
	ID bson.RawValue
	// Written reports that the write did happen: the document is the one the
	// server returned after a successful FindOneAndReplace or
	// FindOneAndUpdate, and it failed verification.
	Written bool
	Err     error
}

func (e *DocumentError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mongoenc: %s %s: ", e.Op, e.Collection)
	if e.Written {
		b.WriteString("the write succeeded, but the document it returned ")
	} else {
		fmt.Fprintf(&b, "document %d ", e.Index)
	}
	if id := describeID(e.ID); id != "" {
		fmt.Fprintf(&b, "(_id %s) ", id)
	}
	fmt.Fprintf(&b, "failed: %v", e.Err)
	return b.String()
}

func (e *DocumentError) Unwrap() error { return e.Err }

// describeID renders an _id for an error message: its value for ObjectIDs
// and integers, only its type for anything else.
func describeID(id bson.RawValue) string {
	switch id.Type {
	case 0:
		return ""
	case bson.TypeObjectID, bson.TypeInt32, bson.TypeInt64:
		if err := id.Validate(); err != nil {
			return "of type " + id.Type.String()
		}
		return id.String()
	}
	return "of type " + id.Type.String()
}

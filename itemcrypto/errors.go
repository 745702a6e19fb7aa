package itemcrypto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Errors, matched with errors.Is. None of them ever carries a value or key
// material; an [*AttributeError] names the attribute.
var (
	// ErrAuthentication is the one opaque error for every failure of an
	// item's authenticity: a missing or wrong signature, a tampered, added,
	// dropped, swapped or renamed signed attribute, another table name, a
	// content key that does not unwrap, bad ciphertext. Decrypt returns no
	// item with it. It is the same value as cmp.ErrAuthentication.
	ErrAuthentication = cmp.ErrAuthentication
	// ErrUnsupportedVersion: the material description has a version other
	// than 0.
	ErrUnsupportedVersion = materialdesc.ErrUnsupportedVersion
	// ErrReservedAttribute: a plaintext item carries the material
	// description or signature attribute.
	ErrReservedAttribute = errors.New("itemcrypto: reserved attribute name in plaintext item")
	// ErrNotEncrypted: Decrypt got an item with neither a signature nor a
	// material description attribute, such as a plaintext item. It comes
	// with ErrAuthentication (errors.Is matches both): the item is not
	// authentic, and the message says why, since that is no secret.
	ErrNotEncrypted = errors.New("itemcrypto: not an encrypted item (it has no " + SignatureAttribute + " and no " + MaterialDescriptionAttribute + " attribute)")
	// ErrNoSignature: Decrypt got an item with a material description but
	// no binary signature attribute. It comes with ErrAuthentication.
	ErrNoSignature = errors.New("itemcrypto: the item has no signature (no binary " + SignatureAttribute + " attribute)")
	// ErrMissingKeyAttribute: the item lacks its partition or sort key.
	ErrMissingKeyAttribute = errors.New("itemcrypto: key attribute missing")
	// ErrItemTooLarge: the protected item would exceed Options.MaxItemSize.
	ErrItemTooLarge = errors.New("itemcrypto: item too large")
	// ErrNoEncryptionKey: an attribute must be encrypted (or decrypted) but
	// the provider's materials hold no content key.
	ErrNoEncryptionKey = errors.New("itemcrypto: materials have no encryption key")
	// ErrUnsupportedValue is the class of values that cannot be protected;
	// the more specific errors below match it too.
	ErrUnsupportedValue = errors.New("itemcrypto: unsupported attribute value")

	// ErrUnsupportedType: a nil value, an unknown union member, NULL:false.
	ErrUnsupportedType = ddbserial.ErrUnsupportedType
	// ErrEmptySet: a set with no members (DynamoDB forbids them).
	ErrEmptySet = ddbserial.ErrEmptySet
	// ErrInvalidNumber: an N or NS member that is not a decimal literal.
	ErrInvalidNumber = ddbserial.ErrInvalidNumber
	// ErrNumberOutOfRange: an N or NS member outside DynamoDB's range (more
	// than 38 significant digits, a magnitude outside 1E-130..9.99E+125),
	// refused before it is expanded. It matches ErrInvalidNumber too.
	ErrNumberOutOfRange = ddbserial.ErrNumberOutOfRange
	// ErrInvalidUTF8: a string, set member or map key that is not UTF-8.
	ErrInvalidUTF8 = ddbserial.ErrInvalidUTF8
	// ErrTooDeep: lists and maps nested more than 32 levels.
	ErrTooDeep = ddbserial.ErrTooDeep
)

// AttributeError reports a problem with one attribute. It names the
// attribute and its action, never its value.
type AttributeError struct {
	Name   string
	Action actions.Action
	Err    error
}

func (e *AttributeError) Error() string {
	return fmt.Sprintf("itemcrypto: attribute %q (%v): %s", e.Name, e.Action, detail(e.Err))
}

// detail is err's message without this package's prefix, for an error
// that adds its own.
func detail(err error) string { return strings.TrimPrefix(err.Error(), "itemcrypto: ") }

// missingSignature is the error of an item without a (binary) signature:
// it says which of the two attributes are missing, and matches
// ErrAuthentication.
func missingSignature(item Item) error {
	if _, ok := item[SignatureAttribute]; !ok {
		if _, ok := item[MaterialDescriptionAttribute]; !ok {
			return authError{ErrNotEncrypted}
		}
	}
	return authError{ErrNoSignature}
}

func (e *AttributeError) Unwrap() error { return e.Err }

// valueError classifies a serialization failure.
func valueError(name string, a actions.Action, err error) error {
	return &AttributeError{Name: name, Action: a, Err: classErr{err, ErrUnsupportedValue}}
}

// authError is a failure of authenticity that also says why, where the
// reason is public (the unsigned material description names an algorithm we
// refuse, or belongs to another provider) and so no oracle: it matches
// ErrAuthentication and its cause.
type authError struct{ cause error }

func (e authError) Error() string   { return ErrAuthentication.Error() + ": " + detail(e.cause) }
func (e authError) Unwrap() []error { return []error{ErrAuthentication, e.cause} }

// classErr is err, also matching class.
type classErr struct{ err, class error }

func (e classErr) Error() string   { return e.err.Error() }
func (e classErr) Unwrap() []error { return []error{e.err, e.class} }

// Package actions defines what happens to each attribute of an item:
// [EncryptAndSign], [SignOnly] or [DoNothing], and the [Policy] that maps
// attribute names to actions.
//
// Build a policy with [New]; it validates the whole configuration once, so
// that encrypting and decrypting never meet an invalid one.
//
// # Compatibility
//
// The actions and their resolution (explicit override, else the default; the
// primary-key attributes never encrypted) are those of the AWS DynamoDB
// Encryption Client, so a reader configured like the writer verifies its items.
package actions

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Action is what happens to one attribute.
type Action uint8

// The actions, ordered DoNothing < SignOnly < EncryptAndSign as in the DDBEC.
const (
	// DoNothing leaves the attribute in plaintext and outside the signature:
	// it may change freely without the reader noticing.
	DoNothing Action = iota
	// SignOnly leaves the attribute in plaintext, covered by the signature.
	SignOnly
	// EncryptAndSign replaces the attribute by its ciphertext, which the
	// signature covers.
	EncryptAndSign
	// SignAndIncludeInEncryptionContext is the DB-ESDK's
	// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT: signed, in plaintext, and its
	// value also bound into the encryption context handed to the keyring
	// (format version 2). Only the DB-ESDK format has it; a DDBEC encryptor
	// refuses a policy that uses it.
	SignAndIncludeInEncryptionContext
)

// Signs reports whether a puts the attribute under the signature.
func (a Action) Signs() bool { return a != DoNothing }

// String returns the action's Go name.
func (a Action) String() string {
	switch a {
	case DoNothing:
		return "DoNothing"
	case SignOnly:
		return "SignOnly"
	case EncryptAndSign:
		return "EncryptAndSign"
	case SignAndIncludeInEncryptionContext:
		return "SignAndIncludeInEncryptionContext"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Parse reads an action as the test vectors and the CLI spell it:
// "encrypt", "sign", "nothing", "context" (or the Go names, or the DB-ESDK
// names such as ENCRYPT_AND_SIGN).
func Parse(s string) (Action, error) {
	switch s {
	case "encrypt", "EncryptAndSign", "encrypt-and-sign", "ENCRYPT_AND_SIGN":
		return EncryptAndSign, nil
	case "sign", "SignOnly", "sign-only", "SIGN_ONLY":
		return SignOnly, nil
	case "nothing", "DoNothing", "do-nothing", "DO_NOTHING":
		return DoNothing, nil
	case "context", "SignAndIncludeInEncryptionContext", "sign-and-include-in-encryption-context",
		"SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", "CONTEXT_AND_SIGN":
		return SignAndIncludeInEncryptionContext, nil
	}
	return 0, fmt.Errorf("%w: unknown action %q (want encrypt, sign, context or nothing)", ErrInvalidPolicy, s)
}

// Reserved attribute names: the material description and the signature.
// No item may carry them in plaintext and no policy may name them.
const (
	MaterialDescriptionAttribute = "*amzn-ddb-map-desc*"
	SignatureAttribute           = "*amzn-ddb-map-sig*"
)

// IsReserved reports whether name is one of the reserved attribute names.
func IsReserved(name string) bool {
	return name == MaterialDescriptionAttribute || name == SignatureAttribute
}

var (
	// ErrInvalidPolicy is the class of every configuration error of New.
	ErrInvalidPolicy = errors.New("actions: invalid policy")
	// ErrReservedName: a policy names a reserved attribute.
	ErrReservedName = errors.New("actions: reserved attribute name")
	// ErrEncryptedKey: EncryptAndSign was set explicitly on a key attribute.
	ErrEncryptedKey = errors.New("actions: primary-key attributes cannot be encrypted")
)

// PolicyError names the attribute a policy got wrong.
type PolicyError struct {
	Attribute string
	Err       error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("actions: attribute %q: %v", e.Attribute, e.Err)
}

func (e *PolicyError) Unwrap() []error { return []error{e.Err, ErrInvalidPolicy} }

// Options configure a Policy.
type Options struct {
	// Default is the action of every attribute without an override.
	// The zero value is DoNothing.
	Default Action
	// Overrides sets the action of individual attributes.
	Overrides map[string]Action
	// PartitionKey and SortKey name the primary-key attributes. They are
	// never encrypted: a default of EncryptAndSign resolves to SignOnly for
	// them, and an explicit EncryptAndSign override is an error. A key
	// without an override is signed whenever the policy signs anything.
	PartitionKey, SortKey string
}

// Policy maps attribute names to actions. It is immutable and safe for
// concurrent use.
type Policy struct {
	def       Action
	overrides map[string]Action
	keys      [2]string
	noop      bool
}

// New validates opts and returns the policy.
func New(opts Options) (*Policy, error) {
	if opts.Default > SignAndIncludeInEncryptionContext {
		return nil, fmt.Errorf("%w: unknown default action %d", ErrInvalidPolicy, opts.Default)
	}
	p := &Policy{def: opts.Default, overrides: maps.Clone(opts.Overrides), keys: [2]string{opts.PartitionKey, opts.SortKey}}
	if p.overrides == nil {
		p.overrides = map[string]Action{}
	}
	for _, name := range slices.Sorted(maps.Keys(p.overrides)) {
		a := p.overrides[name]
		switch {
		case a > SignAndIncludeInEncryptionContext:
			return nil, &PolicyError{name, fmt.Errorf("unknown action %d", a)}
		case IsReserved(name):
			return nil, &PolicyError{name, ErrReservedName}
		case a == EncryptAndSign && name != "" && (name == opts.PartitionKey || name == opts.SortKey):
			return nil, &PolicyError{name, ErrEncryptedKey}
		}
	}
	if opts.PartitionKey != "" && opts.PartitionKey == opts.SortKey {
		return nil, &PolicyError{opts.PartitionKey, errors.New("partition and sort key are the same attribute")}
	}
	for _, k := range p.keys {
		if IsReserved(k) {
			return nil, &PolicyError{k, ErrReservedName}
		}
	}
	p.noop = p.def == DoNothing
	for _, a := range p.overrides {
		if a != DoNothing {
			p.noop = false
		}
	}
	return p, nil
}

// Must is New for policies known to be valid (tests, examples); it panics on error.
func Must(opts Options) *Policy {
	p, err := New(opts)
	if err != nil {
		panic(err)
	}
	return p
}

// Action returns the effective action of the named attribute.
func (p *Policy) Action(name string) Action {
	a, explicit := p.overrides[name]
	if !explicit {
		a = p.def
	}
	if name != "" && (name == p.keys[0] || name == p.keys[1]) {
		switch {
		case a == EncryptAndSign:
			return SignOnly
		case a == DoNothing && !explicit && !p.noop:
			return SignOnly
		}
	}
	return a
}

// NoOp reports whether every action is DoNothing: such items are stored and
// read unchanged, with no signature and no description.
func (p *Policy) NoOp() bool { return p.noop }

// Default returns the default action.
func (p *Policy) Default() Action { return p.def }

// Keys returns the partition and sort key names ("" when unset).
func (p *Policy) Keys() (partition, sort string) { return p.keys[0], p.keys[1] }

// Overrides returns a copy of the per-attribute overrides.
func (p *Policy) Overrides() map[string]Action { return maps.Clone(p.overrides) }

// HasContext reports whether any attribute may resolve to
// SignAndIncludeInEncryptionContext (DB-ESDK format version 2).
func (p *Policy) HasContext() bool {
	if p.def == SignAndIncludeInEncryptionContext {
		return true
	}
	for _, a := range p.overrides {
		if a == SignAndIncludeInEncryptionContext {
			return true
		}
	}
	return false
}

// Encrypts reports whether any attribute may resolve to EncryptAndSign.
func (p *Policy) Encrypts() bool {
	if p.def == EncryptAndSign {
		return true
	}
	for _, a := range p.overrides {
		if a == EncryptAndSign {
			return true
		}
	}
	return false
}

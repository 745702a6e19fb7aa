// Package actions defines what happens to each attribute of an item:
// [EncryptAndSign], [SignOnly] or [DoNothing], and the [Policy] that maps
// attribute names to actions.
//
// Build a policy with [New]; it validates the whole configuration once, so
// that encrypting and decrypting never meet an invalid one.
//
// # Nothing by omission
//
// A forgotten setting never writes plaintext or an encrypted key: the zero
// Action is no action, and New refuses a policy without Options.Default
// ([ErrDefaultNotSet]) or without Options.PartitionKey
// ([ErrPartitionKeyNotSet]) unless Options.NoPartitionKey says the items
// have none. DoNothing and SignOnly apply only where they are named. The
// adapters (mapenc, dynamodbenc, mongoenc) and the CLI follow the same rule.
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
	"strings"
)

// Action is what happens to one attribute.
//
// The zero Action is not an action: it stands for a setting left out, and
// [New] refuses it (as a default or an override) with [ErrDefaultNotSet] or
// a [*PolicyError], so that a forgotten setting never stores plaintext.
type Action uint8

// The actions, ordered DoNothing < SignOnly < EncryptAndSign as in the DDBEC.
const (
	// DoNothing leaves the attribute in plaintext and outside the signature:
	// it may change freely without the reader noticing.
	DoNothing Action = iota + 1
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
	case 0:
		return "Action(unset)"
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
	return 0, &ParseError{Input: s}
}

// ParseError is the error of [Parse]: the text is none of the action names.
// It matches [ErrInvalidPolicy].
type ParseError struct {
	Input string // what was given, at most 40 bytes of it
}

func (e *ParseError) Error() string {
	in := e.Input
	if len(in) > 40 {
		in = in[:40] + "..."
	}
	return fmt.Sprintf("unknown action %q (want encrypt, sign, context or nothing)", in)
}

func (e *ParseError) Unwrap() error { return ErrInvalidPolicy }

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
	// ErrDefaultNotSet: Options.Default was left at its zero value. Choose
	// EncryptAndSign unless the items must stay readable in the store.
	ErrDefaultNotSet = errors.New("default action not set (choose EncryptAndSign, SignOnly or DoNothing; most tables want EncryptAndSign)")
	// ErrPartitionKeyNotSet: Options.PartitionKey is "" and
	// Options.NoPartitionKey is false. Without the name, the partition key
	// would get the default action, and an encrypted key cannot be looked up.
	ErrPartitionKeyNotSet = errors.New("partition key not named")
)

// PolicyError names the attribute a policy got wrong.
type PolicyError struct {
	Attribute string
	Err       error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("actions: attribute %q: %s", e.Attribute, strings.TrimPrefix(e.Err.Error(), "actions: "))
}

func (e *PolicyError) Unwrap() []error { return []error{e.Err, ErrInvalidPolicy} }

// Options configure a Policy. Default and PartitionKey (or NoPartitionKey)
// are required: their zero values are refused rather than guessed, so that a
// forgotten setting never stores plaintext or an encrypted key.
type Options struct {
	// Default is the action of every attribute without an override.
	// Required: the zero value is refused with ErrDefaultNotSet. Most
	// tables want EncryptAndSign.
	Default Action
	// Overrides sets the action of individual attributes. A zero Action in
	// it is refused.
	Overrides map[string]Action
	// PartitionKey and SortKey name the primary-key attributes. They are
	// never encrypted: a default of EncryptAndSign resolves to SignOnly for
	// them, and an explicit EncryptAndSign override is an error. A key
	// without an override is signed whenever the policy signs anything.
	// PartitionKey is required unless NoPartitionKey is set; SortKey ""
	// means the items have no sort key.
	PartitionKey, SortKey string
	// NoPartitionKey says that the items have no partition key, so that
	// every attribute, whatever its name, gets its own action. Only then
	// may PartitionKey (and SortKey) be "".
	NoPartitionKey bool
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
	switch {
	case opts.Default == 0:
		return nil, fmt.Errorf("actions: Options.Default: %w", classErr{ErrDefaultNotSet})
	case opts.Default > SignAndIncludeInEncryptionContext:
		return nil, fmt.Errorf("%w: unknown default action %d", ErrInvalidPolicy, opts.Default)
	case opts.PartitionKey == "" && !opts.NoPartitionKey:
		if opts.SortKey != "" {
			return nil, fmt.Errorf("actions: Options.SortKey is set, Options.PartitionKey is not: %w", classErr{ErrPartitionKeyNotSet})
		}
		return nil, fmt.Errorf("actions: Options.PartitionKey: %w (name it, or set Options.NoPartitionKey if the items have none)", classErr{ErrPartitionKeyNotSet})
	case opts.NoPartitionKey && (opts.PartitionKey != "" || opts.SortKey != ""):
		return nil, fmt.Errorf("%w: Options.NoPartitionKey is set, and a key is named too", ErrInvalidPolicy)
	}
	p := &Policy{def: opts.Default, overrides: maps.Clone(opts.Overrides), keys: [2]string{opts.PartitionKey, opts.SortKey}}
	if p.overrides == nil {
		p.overrides = map[string]Action{}
	}
	for _, name := range slices.Sorted(maps.Keys(p.overrides)) {
		a := p.overrides[name]
		switch {
		case a == 0:
			return nil, &PolicyError{name, errors.New("override with no action (the zero Action)")}
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

// classErr is a configuration error that also matches ErrInvalidPolicy.
type classErr struct{ err error }

func (e classErr) Error() string   { return e.err.Error() }
func (e classErr) Unwrap() []error { return []error{e.err, ErrInvalidPolicy} }

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

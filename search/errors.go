package search

import (
	"errors"
	"strings"
)

var (
	// ErrInvalidConfig is the class of every error of New.
	ErrInvalidConfig = errors.New("search: invalid configuration")
	// ErrInvalidItem is the class of the errors of the item operations: an
	// item whose beacons cannot be built (a value holding a compound
	// beacon's split character, an AsSet attribute that is not a set, a
	// supplied signed beacon that differs from the computed one, ...).
	ErrInvalidItem = errors.New("search: item cannot be beaconed")
	// ErrInvalidQuery is the class of the errors of TransformQuery and
	// TransformScan: a query that cannot be answered through beacons.
	ErrInvalidQuery = errors.New("search: query cannot be rewritten for beacons")
	// ErrNoBeacon: a condition compares an encrypted attribute that has no
	// beacon. Also matches ErrInvalidQuery.
	ErrNoBeacon = errors.New("encrypted attribute without a beacon")
	// ErrOperator: a beacon cannot answer this operator (e.g. < or
	// begins_with on a standard beacon). Also matches ErrInvalidQuery.
	ErrOperator = errors.New("operator not supported by the beacon")
	// ErrBeaconKey: the beacon key could not be obtained (the key store
	// failed, or a multi-tenant query names no or several branch keys).
	ErrBeaconKey = errors.New("beacon key unavailable")
)

// ConfigError is a configuration New refuses. It names the beacon, part,
// virtual field or attribute concerned.
type ConfigError struct {
	// Name is the beacon, virtual field or part concerned ("" for the
	// configuration as a whole).
	Name string
	// Attribute is the attribute concerned, when there is one.
	Attribute string
	// Reason says what is wrong.
	Reason string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("search: invalid configuration")
	if e.Name != "" {
		b.WriteString(": " + quote(e.Name))
	}
	if e.Attribute != "" {
		b.WriteString(" (attribute " + quote(e.Attribute) + ")")
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// ItemError is an item whose beacons cannot be built. It names the beacon
// and the attribute, never a value.
type ItemError struct {
	Beacon    string
	Attribute string
	Reason    string
}

func (e *ItemError) Error() string {
	s := "search: beacon " + quote(e.Beacon)
	if e.Attribute != "" {
		s += ", attribute " + quote(e.Attribute)
	}
	return s + ": " + e.Reason
}

func (e *ItemError) Unwrap() error { return ErrInvalidItem }

// QueryError is a query TransformQuery or TransformScan refuses. It names
// the attribute or beacon and the placeholder concerned, never a value.
type QueryError struct {
	// Attribute is the attribute or beacon name concerned.
	Attribute string
	// Placeholder is the :value placeholder concerned, if any.
	Placeholder string
	// Err is ErrNoBeacon, ErrOperator, or a description.
	Err error
}

func (e *QueryError) Error() string {
	s := "search: query"
	if e.Attribute != "" {
		s += ": attribute " + quote(e.Attribute)
	}
	if e.Placeholder != "" {
		s += ", value " + e.Placeholder
	}
	return s + ": " + e.Err.Error()
}

func (e *QueryError) Unwrap() []error { return []error{e.Err, ErrInvalidQuery} }

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

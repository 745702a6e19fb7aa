// Package redact is the one way a type that holds key material prints and
// encodes itself: as a fixed description that names no key byte.
//
// A key-holding type declares a method that returns its description as a
// [Text] and delegates to it, with value receivers so that both T and *T
// redact:
//
//	func (k Key) String() string                { return k.redacted().String() }
//	func (k Key) GoString() string              { return k.redacted().GoString() }
//	func (k Key) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
//	func (k Key) LogValue() slog.Value          { return k.redacted().LogValue() }
//	func (k Key) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
//
// Format covers every fmt verb and flag (%v %+v %#v %s %q %x %d ...): fmt
// calls it before it would look at a field, so no verb reaches the key,
// not even a verb fmt finds bad for the type, whose fallback would print
// the dereferenced fields. LogValue covers log/slog with every handler,
// MarshalJSON encoding/json (exported fields included).
package redact

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Text is the redacted description of a key holder. It must not contain
// key material. Every way of printing or encoding a Text gives the text.
type Text string

// String returns t.
func (t Text) String() string { return string(t) }

// GoString returns t, for %#v.
func (t Text) GoString() string { return string(t) }

// Format writes t for every verb, flag, width and precision.
func (t Text) Format(f fmt.State, _ rune) { io.WriteString(f, string(t)) }

// LogValue is t as a string, for log/slog.
func (t Text) LogValue() slog.Value { return slog.StringValue(string(t)) }

// MarshalJSON is t as a JSON string.
func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(string(t)) }

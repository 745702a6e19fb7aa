package hierarchy

import (
	"fmt"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// The key holders of the package print and encode as a redacted
// description for every fmt verb (a Format method, so that neither %#v nor
// a verb fmt finds bad for a struct, whose fallback prints the
// dereferenced fields, reaches the keys), in log/slog and in encoding/json.
// The receivers are values, so that T and *T both redact.

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (b BranchKey) String() string                { return b.redacted().String() }
func (b BranchKey) GoString() string              { return b.redacted().GoString() }
func (b BranchKey) Format(f fmt.State, verb rune) { b.redacted().Format(f, verb) }
func (b BranchKey) LogValue() slog.Value          { return b.redacted().LogValue() }
func (b BranchKey) MarshalJSON() ([]byte, error)  { return b.redacted().MarshalJSON() }
func (b BranchKey) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("hierarchy.BranchKey{id: %q, version: %s, key: [redacted]}", b.id, b.Version()))
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (s Static) String() string                { return s.redacted().String() }
func (s Static) GoString() string              { return s.redacted().GoString() }
func (s Static) Format(f fmt.State, verb rune) { s.redacted().Format(f, verb) }
func (s Static) LogValue() slog.Value          { return s.redacted().LogValue() }
func (s Static) MarshalJSON() ([]byte, error)  { return s.redacted().MarshalJSON() }
func (s Static) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("hierarchy.Static{%v}", s.bk))
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k Keyring) String() string                { return k.redacted().String() }
func (k Keyring) GoString() string              { return k.redacted().GoString() }
func (k Keyring) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k Keyring) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k Keyring) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k Keyring) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("hierarchy.Keyring{branchKeyID: %q, keys: [redacted]}", k.branchKeyID()))
}

func (k Keyring) branchKeyID() string {
	if k.state == nil {
		return ""
	}
	return k.opts.BranchKeyID
}

// String, GoString, Format, LogValue and MarshalJSON never show key material
// (Options may point to a SharedCache, which holds branch keys).
func (o Options) String() string                { return o.redacted().String() }
func (o Options) GoString() string              { return o.redacted().GoString() }
func (o Options) Format(f fmt.State, verb rune) { o.redacted().Format(f, verb) }
func (o Options) LogValue() slog.Value          { return o.redacted().LogValue() }
func (o Options) MarshalJSON() ([]byte, error)  { return o.redacted().MarshalJSON() }
func (o Options) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("hierarchy.Options{BranchKeyID: %q, TTL: %v, CacheSize: %d, shared cache: %v, keys: [redacted]}",
		o.BranchKeyID, o.TTL, o.CacheSize, o.Cache != nil))
}

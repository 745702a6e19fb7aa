package hierarchy

import (
	"fmt"
	"io"
	"log/slog"
)

// Format prints [BranchKey.String] for every verb, so neither %#v nor a
// dereferenced value (%v of *b) prints the keys, which String alone did
// not prevent: fmt prints the fields of a struct without a Format method.
func (b BranchKey) Format(f fmt.State, _ rune) { io.WriteString(f, b.String()) }

// LogValue is [BranchKey.String], for log/slog.
func (b BranchKey) LogValue() slog.Value { return slog.StringValue(b.String()) }

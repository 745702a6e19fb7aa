package search

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// virtual is a compiled virtual field.
type virtual struct {
	name  string
	parts []virtualPart
}

type virtualPart struct {
	loc   termLoc
	trans []Transform
}

var errSplitsCharacter = errors.New("a transform splits a character in two (a lone UTF-16 surrogate)")

// eval returns the virtual field's value, and false when a part's location
// is absent from item.
func (v *virtual) eval(item Item) (string, bool, error) {
	// Every part must be present before any is transformed: a field that
	// is not built raises no error of its parts (as in the DB-ESDK, which
	// writes the item without that beacon).
	for _, p := range v.parts {
		if _, ok := p.loc.lookup(item); !ok {
			return "", false, nil
		}
	}
	var b strings.Builder
	for _, p := range v.parts {
		av, _ := p.loc.lookup(item)
		s, err := attrString(av)
		if err != nil {
			return "", false, &ItemError{Beacon: v.name, Attribute: p.loc.raw, Reason: err.Error()}
		}
		if len(p.trans) > 0 {
			if s, err = applyTransforms(p.trans, s); err != nil {
				return "", false, &ItemError{Beacon: v.name, Attribute: p.loc.raw, Reason: err.Error()}
			}
		}
		b.WriteString(s)
	}
	return b.String(), true, nil
}

// attrString is the string form of a value in a virtual field or a
// compound beacon: strings and numbers as written, booleans "true" and
// "false", null "null"; other types are errors.
func attrString(v types.AttributeValue) (string, error) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return x.Value, nil
	case *types.AttributeValueMemberN:
		return x.Value, nil
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			return "true", nil
		}
		return "false", nil
	case *types.AttributeValueMemberNULL:
		return "null", nil
	}
	return "", errors.New("value is not a string, number, boolean or null")
}

// applyTransforms runs the transforms in order. Positions count UTF-16 code
// units, as the DB-ESDK's strings do; a result with a lone surrogate is an
// error, as the DB-ESDK's UTF-8 encoding of it is.
func applyTransforms(ts []Transform, s string) (string, error) {
	// The byte-wise path only where every string involved is ASCII: an
	// inserted literal or a split string outside ASCII would make byte
	// positions differ from UTF-16 positions, and Upper and Lower change
	// only A-Z and a-z, as in the DB-ESDK.
	ascii := isASCII(s)
	for _, t := range ts {
		ascii = ascii && isASCII(t.Literal) && isASCII(t.Split)
	}
	if ascii {
		for _, t := range ts {
			s = transformASCII(t, s)
		}
		return s, nil
	}
	u := utf16.Encode([]rune(s))
	for _, t := range ts {
		u = transform16(t, u)
	}
	for i := 0; i < len(u); i++ {
		switch {
		case utf16.IsSurrogate(rune(u[i])) && u[i] < 0xdc00 && i+1 < len(u) && u[i+1] >= 0xdc00 && u[i+1] < 0xe000:
			i++
		case utf16.IsSurrogate(rune(u[i])):
			return "", errSplitsCharacter
		}
	}
	return string(utf16.Decode(u)), nil
}

// pos clamps a position to a list of n elements: negative positions count
// from the end.
func pos(p, n int) int {
	switch {
	case n == 0:
		return 0
	case p >= 0:
		return min(p, n-1)
	case n+p < 0:
		return 0
	}
	return n + p
}

func prefixLen(length, n int) int {
	if length >= 0 {
		return min(length, n)
	}
	return n - min(-length, n)
}

func suffixStart(length, n int) int {
	if length >= 0 {
		return n - min(length, n)
	}
	return min(-length, n)
}

// transformASCII is transform16 for ASCII strings, where code units are
// bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func transformASCII(t Transform, s string) string {
	switch t.Kind {
	case TransformUpper:
		return strings.ToUpper(s)
	case TransformLower:
		return strings.ToLower(s)
	case TransformInsert:
		return s + t.Literal
	case TransformPrefix:
		return s[:prefixLen(t.Length, len(s))]
	case TransformSuffix:
		return s[suffixStart(t.Length, len(s)):]
	case TransformSubstring:
		lo, hi := pos(t.Low, len(s)), pos(t.High, len(s))
		if lo < hi {
			return s[lo:hi]
		}
		return ""
	case TransformSegment:
		parts := strings.Split(s, t.Split)
		if t.Index >= len(parts) || -t.Index > len(parts) {
			return ""
		}
		return parts[pos(t.Index, len(parts))]
	case TransformSegments:
		parts := strings.Split(s, t.Split)
		lo, hi := pos(t.Low, len(parts)), pos(t.High, len(parts))
		if lo < hi {
			return strings.Join(parts[lo:hi], t.Split)
		}
		return ""
	}
	return s
}

func transform16(t Transform, u []uint16) []uint16 {
	switch t.Kind {
	case TransformUpper, TransformLower:
		out := make([]uint16, len(u))
		for i, c := range u {
			switch {
			case t.Kind == TransformUpper && 'a' <= c && c <= 'z':
				c -= 'a' - 'A'
			case t.Kind == TransformLower && 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			out[i] = c
		}
		return out
	case TransformInsert:
		return append(u[:len(u):len(u)], utf16.Encode([]rune(t.Literal))...)
	case TransformPrefix:
		return u[:prefixLen(t.Length, len(u))]
	case TransformSuffix:
		return u[suffixStart(t.Length, len(u)):]
	case TransformSubstring:
		lo, hi := pos(t.Low, len(u)), pos(t.High, len(u))
		if lo < hi {
			return u[lo:hi]
		}
		return nil
	case TransformSegment, TransformSegments:
		sep := utf16.Encode([]rune(t.Split))[0]
		var parts [][]uint16
		start := 0
		for i, c := range u {
			if c == sep {
				parts = append(parts, u[start:i])
				start = i + 1
			}
		}
		parts = append(parts, u[start:])
		if t.Kind == TransformSegment {
			if t.Index >= len(parts) || -t.Index > len(parts) {
				return nil
			}
			return parts[pos(t.Index, len(parts))]
		}
		lo, hi := pos(t.Low, len(parts)), pos(t.High, len(parts))
		var out []uint16
		for i := lo; i < hi; i++ {
			if i > lo {
				out = append(out, sep)
			}
			out = append(out, parts[i]...)
		}
		return out
	}
	return u
}

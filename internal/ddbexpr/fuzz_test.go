package ddbexpr

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func addSeeds(f *testing.F) {
	for _, tt := range parseValid {
		f.Add(tt.expr)
	}
	for _, tt := range parseRefusals {
		f.Add(tt.expr)
	}
	f.Add(strings.Repeat("(", 2000) + "a = :v" + strings.Repeat(")", 2000))
	f.Add(strings.Repeat("NOT ", 1000) + "a = :v")
	f.Add(strings.Repeat("size(", 500) + "a" + strings.Repeat(")", 500))
	f.Add("pk = :v AND sk BETWEEN :lo AND :hi")
}

// FuzzParse: Parse and ParseKeyCondition never panic, return only the
// package's typed errors, never show a value in an error, accept only
// trees that pass Validate, and stay within the input limit.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, expr string) {
		for _, parse := range []func(string, map[string]string, map[string]types.AttributeValue) (Expr, error){Parse, ParseKeyCondition} {
			e, err := parse(expr, testNames, testValues())
			if err != nil {
				var se *SyntaxError
				var pe *PlaceholderError
				if !errors.As(err, &se) && !errors.As(err, &pe) {
					t.Fatalf("%q: untyped error %v", expr, err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("%q: the error shows a value: %v", expr, err)
				}
				continue
			}
			if len(expr) > MaxExprLen {
				t.Fatalf("accepted %d bytes", len(expr))
			}
			if err := Validate(e); err != nil {
				t.Fatalf("%q parsed to an invalid tree: %v", expr, err)
			}
			if _, err := Eval(e, evalItem()); err != nil {
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("%q: Eval: %v", expr, err)
				}
			}
		}
	})
}

// FuzzRoundTrip: whatever Parse accepts, Format prints back to a tree
// Equal to it, keeping its placeholders, and printing is stable.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr, testNames, testValues())
		if err != nil {
			return
		}
		text := roundTrip(t, e)
		_, names, values := Format(e)
		back, _ := Parse(text, names, values)
		if again, _, _ := Format(back); again != text {
			t.Fatalf("Format is not stable: %q then %q", text, again)
		}
	})
}

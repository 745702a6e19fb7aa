package ddbexpr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKeyCondition(t *testing.T) {
	valid := []struct{ expr, want string }{
		{"pk = :v", "(= pk :v)"},
		{":v = pk", "(= pk :v)"},
		{"#pk = :v AND #sk <= :n", "(and (= pk :v) (<= sk :n))"},
		{"pk = :v AND sk > :n", "(and (= pk :v) (> sk :n))"},
		{":n < sk AND pk = :v", "(and (> sk :n) (= pk :v))"},
		{":n >= sk AND pk = :v", "(and (<= sk :n) (= pk :v))"},
		{"pk = :v AND sk BETWEEN :lo AND :hi", "(and (= pk :v) (between sk :lo :hi))"},
		{"pk = :v AND begins_with(sk, :p)", "(and (= pk :v) (begins_with sk :p))"},
		{"pk = :b AND begins_with(sk, :bp)", "(and (= pk :b) (begins_with sk :bp))"},
		{"(pk = :v) AND (sk >= :n)", "(and (= pk :v) (>= sk :n))"},
		{"pk = :v AND sk = :w", "(and (= pk :v) (= sk :w))"},
		{"sk < :n AND pk = :v", "(and (< sk :n) (= pk :v))"},
		{"pk = :v and sk < :n", "(and (= pk :v) (< sk :n))"},
	}
	for _, tt := range valid {
		e, err := ParseKeyCondition(tt.expr, testNames, testValues())
		if err != nil {
			t.Errorf("ParseKeyCondition(%q): %v", tt.expr, err)
			continue
		}
		if got := sexpr(e); got != tt.want {
			t.Errorf("ParseKeyCondition(%q) = %s, want %s", tt.expr, got, tt.want)
		}
		if err := Validate(e); err != nil {
			t.Errorf("Validate(ParseKeyCondition(%q)): %v", tt.expr, err)
		}
	}
	refused := []refusal{
		{"pk > :v", "needs an equality", 0},
		{"begins_with(pk, :p)", "needs an equality", 0},
		{"pk = :v OR sk = :w", "OR is not allowed", 0},
		{"NOT pk = :v", "NOT is not allowed", 0},
		{"pk IN (:v)", "IN is not allowed", 0},
		{"pk <> :v", "<> is not allowed", 0},
		{"pk = :v AND sk <> :w", "<> is not allowed", 12},
		{"pk = :v AND sk = :w AND c = :n", "at most two conditions", 24},
		{"pk = :v AND (sk = :w AND c = :n)", "at most two conditions", 25},
		{"pk = :v AND pk = :w", "two key conditions on attribute \"pk\"", 12},
		{"pk.x = :v", "nested path pk.x", 0},
		{"pk[0] = :v", "nested path", 0},
		{"pk = sk", "compares two attributes", 0},
		{"pk = :v AND sk BETWEEN :lo AND c", "compares two attributes", 12},
		{":v = :w", "names no key attribute", 0},
		{"size(pk) = :n", "size() is not allowed", 0},
		{"pk = size(sk)", "size() is not allowed", 0},
		{"pk = :v AND attribute_exists(sk)", "attribute_exists() is not allowed", 12},
		{"pk = :v AND contains(sk, :p)", "contains() is not allowed", 12},
		{"pk = :v AND attribute_type(sk, :tS)", "attribute_type() is not allowed", 12},
		{"pk = :bool", "keys are S, N or B", 0},
		{"pk = :v AND begins_with(sk, pk)", "compares two attributes", 12},
		{"pk = :v AND", "found the end", 11},
		{"pk = :v AND sk < :bool", "only S, N and B are ordered", 12},
	}
	for _, tt := range refused {
		_, err := ParseKeyCondition(tt.expr, testNames, testValues())
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseKeyCondition(%q) = %v, want a *SyntaxError", tt.expr, err)
			continue
		}
		if !strings.Contains(se.Reason, tt.reason) || se.Offset != tt.offset {
			t.Errorf("ParseKeyCondition(%q) = %v, want %q at %d", tt.expr, se, tt.reason, tt.offset)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseKeyCondition(%q): the error shows a value: %v", tt.expr, err)
		}
	}
	var pe *PlaceholderError
	if _, err := ParseKeyCondition("#nope = :v", nil, testValues()); !errors.As(err, &pe) || pe.Placeholder != "#nope" {
		t.Errorf("undefined name: %v", err)
	}
}

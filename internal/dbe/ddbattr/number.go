package ddbattr

import (
	"errors"
	"strings"
)

// Number errors. None of them quotes the number.
var (
	ErrNumberSyntax    = errors.New("not a valid number")
	ErrNumberPrecision = errors.New("number has more than 38 significant digits")
	ErrNumberRange     = errors.New("number magnitude outside DynamoDB's range (1E-130 to 9.9999999999999999999999999999999999999E+125)")
)

// NormalizeNumber returns n as DynamoDB stores it and the DB-ESDK
// serializes it: plain decimal notation, no exponent, no leading or trailing
// zeros, no "+", "-0" as "0". It refuses more than 38 significant digits and
// magnitudes outside DynamoDB's range before expanding anything, so the
// work and the output are bounded by len(n) + 170 bytes.
func NormalizeNumber(n string) (string, error) {
	if n == "" {
		return "", ErrNumberSyntax
	}
	neg := false
	switch n[0] {
	case '-':
		neg, n = true, n[1:]
	case '+':
		n = n[1:]
	}
	if n == "" {
		return "", ErrNumberSyntax
	}
	digits, pos, exp, err := parseNumber(n)
	if err != nil {
		return "", err
	}
	// Strip leading zeros (moving the point) and trailing zeros.
	i := 0
	for i < len(digits) && digits[i] == '0' {
		i++
	}
	digits = digits[i:]
	pos -= i
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0", nil
	}
	if len(digits) > 38 {
		return "", ErrNumberPrecision
	}
	// The value is 0.digits * 10^(pos+exp).
	newPos := int64(pos) + exp
	// Magnitude: the leading digit is at 10^(newPos-1).
	if newPos-1 > 125 || newPos-1 < -130 {
		return "", ErrNumberRange
	}
	var b strings.Builder
	size := len(digits) + 1 // digits and maybe the point
	switch {
	case newPos <= 0:
		size += 1 + int(-newPos)
	case newPos > int64(len(digits)):
		size += int(newPos) - len(digits)
	}
	if neg {
		size++
	}
	b.Grow(size) // the one allocation of the result
	if neg {
		b.WriteByte('-')
	}
	switch {
	case newPos <= 0:
		b.WriteString("0.")
		for range -newPos {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	case newPos >= int64(len(digits)):
		b.WriteString(digits)
		for range newPos - int64(len(digits)) {
			b.WriteByte('0')
		}
	default:
		b.WriteString(digits[:newPos])
		b.WriteByte('.')
		b.WriteString(digits[newPos:])
	}
	return b.String(), nil
}

// parseNumber splits an unsigned number into its digits (without the
// point), the count of digits before the point, and the exponent.
func parseNumber(n string) (digits string, pos int, exp int64, err error) {
	pre := countDigits(n)
	rest := n[pre:]
	var post int
	var frac string
	if rest != "" && rest[0] == '.' {
		post = countDigits(rest[1:])
		frac = rest[1 : 1+post]
		rest = rest[1+post:]
	}
	if pre+post == 0 {
		return "", 0, 0, ErrNumberSyntax
	}
	if rest != "" {
		if rest[0] != 'e' && rest[0] != 'E' {
			return "", 0, 0, ErrNumberSyntax
		}
		if exp, err = parseExponent(rest[1:]); err != nil {
			return "", 0, 0, err
		}
	}
	if frac == "" {
		return n[:pre], pre, exp, nil
	}
	return n[:pre] + frac, pre, exp, nil
}

func countDigits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// parseExponent parses a signed decimal exponent. Anything beyond ±10^9 is
// out of range whatever the digits are (an item holds at most 400 KB).
func parseExponent(s string) (int64, error) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || countDigits(s) != len(s) {
		return 0, ErrNumberSyntax
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 9 {
		return 0, ErrNumberRange
	}
	var v int64
	for i := 0; i < len(s); i++ {
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
}

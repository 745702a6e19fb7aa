package ddbec

import (
	"strconv"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

// pythonCannotWrite reports whether the Python client refuses to serialize
// the literal s (DynamoDB accepts it): boto3's DYNAMODB_CONTEXT (precision
// 38, Emin -128, traps Rounded, Inexact, Underflow, Clamped) must hold its
// coefficient as spelt, trailing zeros included, so a literal of more than
// 38 coefficient digits ("100000000000000000000000000000000000000", 1E38)
// or whose last digit lies below 1E-165 (1.2345678901234567890123456789012345678E-130)
// raises in create_decimal.
func pythonCannotWrite(s string) bool {
	m, e, _ := strings.Cut(strings.ToLower(strings.TrimLeft(s, "+-")), "e")
	exp := 0
	if e != "" {
		v, err := strconv.Atoi(e)
		if err != nil {
			return true
		}
		exp = v
	}
	ip, fp, _ := strings.Cut(m, ".")
	exp -= len(fp)
	coef := strings.TrimLeft(ip+fp, "0")
	return len(coef) > 38 || exp < -165
}

// round28 rounds a canonical number to 28 significant digits, half to
// even, as Python's default decimal context does in normalize().
func round28(c string) string {
	neg := strings.HasPrefix(c, "-")
	c = strings.TrimPrefix(c, "-")
	ip, fp, _ := strings.Cut(c, ".")
	digits := ip + fp
	f := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	if f < 0 || len(strings.TrimRight(digits[f:], "0")) <= 28 {
		if neg {
			return "-" + c
		}
		return c
	}
	sig := digits[f:]
	keep := []byte(sig[:28])
	next, rest := sig[28], strings.TrimRight(sig[29:], "0")
	if next > '5' || next == '5' && (rest != "" || (keep[27]-'0')%2 == 1) {
		i := 27
		for ; i >= 0 && keep[i] == '9'; i-- {
			keep[i] = '0'
		}
		if i < 0 {
			keep = append([]byte{'1'}, keep...)
			keep = keep[:28]
			// one more digit of magnitude: the unit moves up by one
			return sign(neg) + plain(string(keep), len(ip)-f-28+1)
		}
		keep[i]++
	}
	return sign(neg) + plain(string(keep), len(ip)-1-f-27)
}

func sign(neg bool) string {
	if neg {
		return "-"
	}
	return ""
}

// plain renders digits × 10^exp canonically (no exponent, no
// insignificant zeros), whatever the magnitude: rounding can carry past
// DynamoDB's largest number.
func plain(digits string, exp int) string {
	t := strings.TrimRight(digits, "0")
	exp += len(digits) - len(t)
	if exp >= 0 {
		return t + strings.Repeat("0", exp)
	}
	if p := len(t) + exp; p > 0 {
		return t[:p] + "." + t[p:]
	} else {
		return "0." + strings.Repeat("0", -p) + t
	}
}

// pythonReads is what a Python reader returns for an encrypted number we
// wrote: our canonical form (exact, -0 as 0) re-normalised by Python's
// 28-digit default context.
func pythonReads(s string) (string, error) {
	c, err := ddbserial.CanonicalNumber(s)
	if err != nil {
		return "", err
	}
	return round28(c), nil
}

// pythonWrote is the number a Python writer encrypts for s: rounded to 28
// digits, and -0 kept.
func pythonWrote(s string) (string, error) {
	c, err := pythonReads(s)
	if err != nil {
		return "", err
	}
	if c == "0" && strings.HasPrefix(s, "-") {
		return "-0", nil
	}
	return c, nil
}

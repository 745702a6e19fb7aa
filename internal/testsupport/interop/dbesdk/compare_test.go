package dbesdk

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// canonNumber renders a DynamoDB number by value: "0", or [-]D.DDDe<exp>
// with no leading or trailing zeros in the digits. It is written here,
// independently of both implementations, so that a number compares by the
// value DynamoDB keeps (DynamoDB itself stores numbers by value: "1.50" and
// "+15E-1" are the same number). A string that is not a number is returned
// marked, so that it compares equal only to itself.
func canonNumber(s string) string {
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return "!" + orig
		}
		exp = e
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart+frac == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return "!" + orig
	}
	digits := intPart + frac
	exp += len(intPart) // value = 0.digits × 10^exp
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		exp--
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return fmt.Sprintf("%s%s.%se%d", sign, digits[:1], digits[1:], exp-1)
}

func canonErr(s string) (string, error) { return canonNumber(s), nil }

// equalByValue compares items as DynamoDB does: numbers by value, sets as
// sets, lists in order.
func equalByValue(a, b Item) bool { return ddbjson.EqualItems(a, b, canonErr) }

// equalExact compares items with numbers as strings (sets still as sets):
// two decryptions of one stored item must agree to the byte.
func equalExact(a, b Item) bool {
	return ddbjson.EqualItems(a, b, func(s string) (string, error) { return s, nil })
}

// diffItems names the first attributes that differ, for failure messages.
func diffItems(want, got Item, eq func(a, b types.AttributeValue) bool) string {
	var out []string
	for _, n := range slices.Sorted(mapsKeys(want)) {
		g, ok := got[n]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%q missing", n))
		case !eq(want[n], g):
			out = append(out, fmt.Sprintf("%q: want %s got %s", n, short(want[n]), short(g)))
		}
	}
	for _, n := range slices.Sorted(mapsKeys(got)) {
		if _, ok := want[n]; !ok {
			out = append(out, fmt.Sprintf("%q unexpected: %s", n, short(got[n])))
		}
	}
	if len(out) > 6 {
		out = append(out[:6], fmt.Sprintf("... %d more", len(out)-6))
	}
	return strings.Join(out, "; ")
}

func short(v types.AttributeValue) string {
	j, err := ddbjson.MarshalValue(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	if len(j) > 200 {
		return string(j[:200]) + fmt.Sprintf("...(%d bytes)", len(j))
	}
	return string(j)
}

func byValue(a, b types.AttributeValue) bool { return ddbjson.Equal(a, b, canonErr) }
func exact(a, b types.AttributeValue) bool {
	return ddbjson.Equal(a, b, func(s string) (string, error) { return s, nil })
}

func itemJSON(it Item) string {
	j, err := ddbjson.MarshalItem(it)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(j)
}

// cloneItem deep-copies an item so that mutations never reach the original.
func cloneItem(it Item) Item {
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: slices.Clone(v.Value)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: slices.Clone(v.Value)}
	case *types.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = bytes.Clone(b)
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = cloneValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: cloneItem(v.Value)}
	}
	return v
}

package ddbexpr

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// typeCode returns the DynamoDB type descriptor of v (S, N, B, SS, NS, BS,
// M, L, NULL, BOOL), "" for nil or an unknown member.
func typeCode(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	}
	return ""
}

// isTypeName reports whether s is a type name attribute_type accepts.
func isTypeName(s string) bool {
	switch s {
	case "S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M":
		return true
	}
	return false
}

// scalarOrdered reports whether values of type code t can be ordered
// (<, <=, >, >=, BETWEEN): S, N and B.
func scalarOrdered(t string) bool { return t == "S" || t == "N" || t == "B" }

// checkValue returns why DynamoDB would refuse v as an attribute value, or
// "" when it is acceptable: nil, an unknown member, a malformed number, an
// empty or duplicated set, nesting deeper than maxValueDepth. The reason
// never shows the value.
func checkValue(v types.AttributeValue, depth int) string {
	if depth > maxValueDepth {
		return "nests lists and maps deeper than 32 levels"
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberB,
		*types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return ""
	case *types.AttributeValueMemberN:
		return checkNumber(v.Value)
	case *types.AttributeValueMemberSS:
		seen := make(map[string]bool, len(v.Value))
		for _, s := range v.Value {
			if seen[s] {
				return "holds a string set with duplicates"
			}
			seen[s] = true
		}
		if len(v.Value) == 0 {
			return "holds an empty set"
		}
	case *types.AttributeValueMemberBS:
		seen := make(map[string]bool, len(v.Value))
		for _, b := range v.Value {
			if seen[string(b)] {
				return "holds a binary set with duplicates"
			}
			seen[string(b)] = true
		}
		if len(v.Value) == 0 {
			return "holds an empty set"
		}
	case *types.AttributeValueMemberNS:
		if len(v.Value) == 0 {
			return "holds an empty set"
		}
		for _, e := range v.Value {
			if r := checkNumber(e); r != "" {
				return r
			}
		}
		if _, ok := numberSet(v.Value); !ok {
			return "holds a number set with duplicates"
		}
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			if r := checkValue(e, depth+1); r != "" {
				return r
			}
		}
	case *types.AttributeValueMemberM:
		for _, e := range v.Value {
			if r := checkValue(e, depth+1); r != "" {
				return r
			}
		}
	default:
		return "holds no value or one of an unsupported type"
	}
	return ""
}

// numberSet returns the canonical forms of a number set; false when one
// is malformed or two are equal.
func numberSet(ns []string) (map[string]bool, bool) {
	set := make(map[string]bool, len(ns))
	for _, s := range ns {
		d, ok := parseDecimal(s)
		if !ok {
			return nil, false
		}
		c := d.canonical()
		if set[c] {
			return nil, false
		}
		set[c] = true
	}
	return set, true
}

// identical reports whether two values are the same value as written:
// numbers compared as text (N "1" and N "1.0" differ), sets as sets, lists
// in order. It is what Equal and Format compare.
func identical(a, b types.AttributeValue) bool {
	return ddbjson.Equal(a, b, func(s string) (string, error) { return s, nil })
}

// checkNumber returns why DynamoDB would refuse the number text, "" when
// it is acceptable: a decimal of at most 38 significant digits, zero or of
// magnitude 1E-130 to 9.99…E+125.
func checkNumber(text string) string {
	d, ok := parseDecimal(text)
	switch {
	case !ok:
		return "holds a number that is not a decimal"
	case d.ndigits() > 38:
		return "holds a number of more than 38 significant digits"
	case d.sign() != 0 && (d.exp < -129 || d.exp > 126):
		return "holds a number outside DynamoDB's range (1E-130 to 9.9…9E+125)"
	}
	return ""
}

package ddbexpr

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func s(v string) types.AttributeValue                  { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue                  { return &types.AttributeValueMemberN{Value: v} }
func b(v ...byte) types.AttributeValue                 { return &types.AttributeValueMemberB{Value: v} }
func ss(v ...string) types.AttributeValue              { return &types.AttributeValueMemberSS{Value: v} }
func ns(v ...string) types.AttributeValue              { return &types.AttributeValueMemberNS{Value: v} }
func bs(v ...[]byte) types.AttributeValue              { return &types.AttributeValueMemberBS{Value: v} }
func l(v ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: v} }
func m(kv ...any) types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return &types.AttributeValueMemberM{Value: out}
}
func boolv(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
func null() types.AttributeValue        { return &types.AttributeValueMemberNULL{Value: true} }

// secret is a marker inside test values: no error may contain it.
const secret = "SECRETMARK"

// testNames and testValues are the placeholders the grammar tests use.
var testNames = map[string]string{"#n": "name", "#c": "cc", "#pk": "pk", "#sk": "sk", "#dot": "a.b"}

func testValues() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":v": s("v" + secret), ":w": s("w" + secret), ":s": s("abc"), ":p": s("ab"),
		":lo": n("1"), ":hi": n("9"), ":n": n("5"), ":n1": n("1"), ":one": n("1.0"),
		":slo": s("a" + secret), ":shi": s("z" + secret),
		":b": b(1, 2, 3), ":bp": b(1, 2), ":bool": boolv(true), ":null": null(),
		":tS": s("S"), ":tN": s("N"), ":tbad": s("X" + secret),
		":ss": ss("x", "y"), ":l": l(s("a")), ":m": m("k", s("v")),
		":badnum": n("12" + secret), ":emptyset": ss(), ":dupset": ss("a", "a"),
		":dupns": ns("1", "1.0"), ":nilv": nil,
		":big": n("1234567890123456789012345678901234567.89"), ":huge": n("1E126"), ":small": n("-0.1E-130"), ":bigset": ns("1", "1234567890123456789012345678901234567.89"),
	}
}

// sexpr prints a tree as an S-expression, to state structure in tests.
func sexpr(n Node) string {
	switch n := n.(type) {
	case *Path:
		return n.String()
	case *Value:
		return n.Placeholder
	case *Compare:
		return fmt.Sprintf("(%s %s %s)", n.Op, sexpr(n.Left), sexpr(n.Right))
	case *Between:
		return fmt.Sprintf("(between %s %s %s)", sexpr(n.X), sexpr(n.Low), sexpr(n.High))
	case *In:
		parts := []string{"in", sexpr(n.X)}
		for _, o := range n.List {
			parts = append(parts, sexpr(o))
		}
		return "(" + strings.Join(parts, " ") + ")"
	case *And:
		return fmt.Sprintf("(and %s %s)", sexpr(n.Left), sexpr(n.Right))
	case *Or:
		return fmt.Sprintf("(or %s %s)", sexpr(n.Left), sexpr(n.Right))
	case *Not:
		return fmt.Sprintf("(not %s)", sexpr(n.X))
	case *Call:
		parts := []string{string(n.Func)}
		for _, o := range n.Args {
			parts = append(parts, sexpr(o))
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return fmt.Sprintf("<%T>", n)
}

package ddbexpr

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A typical filter: a few comparisons on top-level and nested attributes,
// a function, IN and BETWEEN.
const benchFilter = "#st = :active AND (begins_with(email, :dom) OR contains(tags, :vip)) AND age BETWEEN :lo AND :hi AND profile.country IN (:fr, :de, :it) AND attribute_not_exists(deleted_at)"

var benchNames = map[string]string{"#st": "status"}

func benchValues() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":active": s("active"), ":dom": s("alice@"), ":vip": s("vip"), ":lo": n("18"), ":hi": n("65"),
		":fr": s("FR"), ":de": s("DE"), ":it": s("IT"),
	}
}

func benchItem() Item {
	return Item{
		"pk": s("customer#1"), "status": s("active"), "email": s("alice@example.com"), "tags": ss("new", "vip"),
		"age": n("42"), "profile": m("country", s("DE"), "city", s("Berlin")),
	}
}

func BenchmarkParse(b *testing.B) {
	values := benchValues()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFilter)))
	for b.Loop() {
		if _, err := Parse(benchFilter, benchNames, values); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	e, err := Parse(benchFilter, benchNames, benchValues())
	if err != nil {
		b.Fatal(err)
	}
	item := benchItem()
	if ok, err := Eval(e, item); err != nil || !ok {
		b.Fatalf("Eval = %v, %v; the benchmark item must match", ok, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Eval(e, item); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	e, err := Parse(benchFilter, benchNames, benchValues())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = Format(e)
	}
}

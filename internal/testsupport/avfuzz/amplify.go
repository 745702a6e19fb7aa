package avfuzz

import (
	"strconv"
	"strings"
)

// Case is one adversarial stored item in DynamoDB JSON: attribute "pk" (S),
// a forged 32-byte signature, and a payload under attribute names starting
// with "a", meant to be signed (or, for the "enc" cases, encrypted).
type Case struct {
	Name string
	JSON []byte
}

// Amplifiers returns stored items built to make a reader spend far more than
// their size: numbers that expand (the 5,000-member set of
// "Ne65000", DynamoDB's widest and smallest in-range numbers), many
// attributes, wide and deep lists and maps, big sets, past-the-limit
// nesting. Each is a few dozen kilobytes.
func Amplifiers() []Case {
	var cases []Case
	add := func(name string, attrs ...string) {
		var b strings.Builder
		b.WriteString(`{"pk":{"S":"p"},"*amzn-ddb-map-sig*":{"B":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`)
		for _, a := range attrs {
			b.WriteString(",")
			b.WriteString(a)
		}
		b.WriteString("}")
		cases = append(cases, Case{Name: name, JSON: []byte(b.String())})
	}
	numSet := func(n int, member func(i int) string) string {
		ms := make([]string, n)
		for i := range ms {
			ms[i] = strconv.Quote(member(i))
		}
		return `"a":{"NS":[` + strings.Join(ms, ",") + `]}`
	}
	add("NS of 5000 Ne65000", numSet(5000, func(i int) string { return strconv.Itoa(i+1) + "e65000" }))
	add("NS of 5000 Ne1000", numSet(5000, func(i int) string { return strconv.Itoa(i+1) + "e1000" }))
	add("NS of 5000 Ne120 (widest in range)", numSet(5000, func(i int) string { return strconv.Itoa(i+1) + "e120" }))
	add("NS of 5000 Ne-130 (smallest in range)", numSet(5000, func(i int) string { return strconv.Itoa(i+1) + "e-130" }))
	add("NS of 1000 38-digit e-167", numSet(1000, func(i int) string {
		return "1" + strings.Repeat("0", 33) + strconv.Itoa(1000+i) + "e-167"
	}))
	add("NS of 10000 small", numSet(10000, strconv.Itoa))
	add("N 1e65000", `"a":{"N":"1e65000"}`)
	var attrs []string
	for i := range 3000 {
		attrs = append(attrs, `"a`+strconv.Itoa(i)+`":{"N":"9e125"}`)
	}
	add("3000 attributes of 9e125", attrs...)
	attrs = attrs[:0]
	for i := range 3000 {
		attrs = append(attrs, `"a`+strconv.Itoa(i)+`":{"NULL":true}`)
	}
	add("3000 NULL attributes", attrs...)
	// The most signed attributes per byte: one-character-ish names and
	// empty values; each costs the string to sign's 96 bytes and a name.
	for _, v := range []string{`{"B":""}`, `{"S":""}`} {
		attrs = attrs[:0]
		for i := range 20000 {
			attrs = append(attrs, `"`+strconv.FormatInt(int64(i), 16)+`":`+v)
		}
		add("20000 attributes of "+v, attrs...)
	}
	add("L of 8000 empty lists", `"a":{"L":[`+strings.TrimSuffix(strings.Repeat(`{"L":[]},`, 8000), ",")+`]}`)
	add("L of 8000 empty maps", `"a":{"L":[`+strings.TrimSuffix(strings.Repeat(`{"M":{}},`, 8000), ",")+`]}`)
	add("L of 8000 NULLs", `"a":{"L":[`+strings.TrimSuffix(strings.Repeat(`{"NULL":true},`, 8000), ",")+`]}`)
	add("L of 8000 9e125", `"a":{"L":[`+strings.TrimSuffix(strings.Repeat(`{"N":"9e125"},`, 8000), ",")+`]}`)
	keys := make([]string, 4000)
	for i := range keys {
		keys[i] = `"` + strconv.Itoa(i) + `":{"N":"1e-130"}`
	}
	add("M of 4000 1e-130", `"a":{"M":{`+strings.Join(keys, ",")+`}}`)
	ss := make([]string, 10000)
	for i := range ss {
		ss[i] = strconv.Quote(strconv.Itoa(i))
	}
	add("SS of 10000", `"a":{"SS":[`+strings.Join(ss, ",")+`]}`)
	add("BS of 10000", `"a":{"BS":[`+strings.TrimSuffix(strings.Repeat(`"AA==",`, 10000), ",")+`]}`)
	nest := func(depth int) string {
		return strings.Repeat(`{"L":[`, depth) + `{"NULL":true}` + strings.Repeat(`]}`, depth)
	}
	add("32 levels of lists", `"a":`+nest(32))
	add("33 levels of lists", `"a":`+nest(33))
	add("1000 attributes of 32 levels", func() []string {
		out := make([]string, 1000)
		for i := range out {
			out[i] = `"a` + strconv.Itoa(i) + `":` + nest(31)
		}
		return out
	}()...)
	add("S of 64 KiB", `"a":{"S":"`+strings.Repeat("x", 64<<10)+`"}`)
	add("enc: B of 64 KiB", `"aenc":{"B":"`+strings.Repeat("A", 64<<10)+`"}`)
	return cases
}

package avfuzz

import "strings"

// JSONShapes returns, for each of DynamoDB's ten types and for lists and
// maps of them, the stored item in DynamoDB JSON that costs a reader the most
// memory per byte of JSON: the smallest values in the greatest number
// (sets of empty and one-character members, lists of empty values, maps
// and items of many tiny entries under the shortest distinct names,
// nesting to the limit). Each is about size bytes, with the attributes of
// [Amplifiers] ("pk" and a forged signature) and its payload under "a", or,
// for the item of many attributes, under names of up to three characters.
func JSONShapes(size int) []Case {
	var cases []Case
	head := `{"pk":{"S":"p"},"*amzn-ddb-map-sig*":{"B":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`
	// repeat writes open, then elem(i) separated by sep until the item is
	// about size bytes, then close.
	repeat := func(name, open string, elem func(i int) string, sep, close string) {
		var b strings.Builder
		b.Grow(size + 64)
		b.WriteString(head)
		b.WriteString(open)
		for i := 0; b.Len()+len(close)+1 < size; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(elem(i))
		}
		b.WriteString(close)
		b.WriteString("}")
		cases = append(cases, Case{Name: name, JSON: []byte(b.String())})
	}
	same := func(s string) func(int) string { return func(int) string { return s } }
	one := func(name, typ, body string) {
		repeat(name, `,"a":{"`+typ+`":"`, same(body), "", `"}`)
	}
	list := func(name, elem string) { repeat(name, `,"a":{"L":[`, same(elem), ",", `]}`) }
	set := func(name, typ, member string) { repeat(name, `,"a":{"`+typ+`":[`, same(member), ",", `]}`) }

	one("S of one long string", "S", "x")
	one("S of one string of escapes", "S", `\"`)
	list("S: list of empty strings", `{"S":""}`)
	one("N of one long number", "N", "1")
	list("N: list of one-digit numbers", `{"N":"1"}`)
	one("B of one long value", "B", "AAAA")
	list("B: list of empty values", `{"B":""}`)
	list("BOOL: list of true", `{"BOOL":true}`)
	list("NULL: list of true", `{"NULL":true}`)
	set("SS of empty members", "SS", `""`)
	set("SS of one-character members", "SS", `"a"`)
	set("NS of empty members", "NS", `""`)
	set("NS of one-character members", "NS", `"1"`)
	set("BS of empty members", "BS", `""`)
	set("BS of one-byte members", "BS", `"AA=="`)
	list("L: list of empty lists", `{"L":[]}`)
	list("L: list of empty sets", `{"SS":[]}`)
	list("M: list of empty maps", `{"M":{}}`)
	list("M: list of maps of one empty map", `{"M":{"":{"M":{}}}}`)
	// Nesting: the attribute's list is at depth 0, so a chain inside it may
	// hold 31 more lists or maps.
	chain := func(open, close string) string {
		return strings.Repeat(open, 30) + `{"NULL":true}` + strings.Repeat(close, 30)
	}
	list("L: list of lists nested 32 deep", chain(`{"L":[`, `]}`))
	list("M: list of maps nested 32 deep", chain(`{"M":{"":`, `}}`))
	repeat("M: one map of many tiny entries", `,"a":{"M":{`, func(i int) string {
		return `"` + ShortName(i) + `":{"M":{}}`
	}, ",", `}}`)
	next := 0
	repeat("item of many tiny attributes", ",", func(int) string {
		name := ShortName(next)
		if next++; name == "pk" {
			name = ShortName(next)
			next++
		}
		return `"` + name + `":{"M":{}}`
	}, ",", "")
	return cases
}

// nameChars are the characters a JSON string holds unescaped in one byte.
const nameChars = " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"

// ShortName returns the i'th shortest name that JSON holds unescaped:
// distinct for distinct i, the first 93 of one character, the next 93²
// of two, and so on.
func ShortName(i int) string {
	var b []byte
	for n := i; ; n = n/len(nameChars) - 1 {
		b = append(b, nameChars[n%len(nameChars)])
		if n < len(nameChars) {
			break
		}
	}
	return string(b)
}

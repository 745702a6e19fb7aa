package ddbec

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// gen draws random DynamoDB items: all ten types, nested lists and maps,
// every number spelling DynamoDB accepts up to its range limits, empty
// values where DynamoDB allows them, names from every Unicode plane (with
// pairs whose UTF-8 and UTF-16 orders differ), and random policies.
type gen struct {
	r *rand.Rand
	// avoid lists values the generator must not produce (known Python
	// limitations tested on their own); nil accepts everything.
	avoidNumber func(string) bool
}

// char returns one Unicode scalar value of a random class.
func (g *gen) char() rune {
	switch g.r.IntN(20) {
	case 0:
		return rune(g.r.IntN(0x20)) // controls, NUL included
	case 1, 2:
		return rune(0x80 + g.r.IntN(0x800-0x80))
	case 3, 4:
		return rune(0x800 + g.r.IntN(0xD800-0x800))
	case 5, 6, 7:
		return rune(0xE000 + g.r.IntN(0x10000-0xE000)) // U+E000..U+FFFF: sorts after astral in UTF-16
	case 8, 9, 10:
		return rune(0x10000 + g.r.IntN(0x10000)) // plane 1
	case 11:
		return rune(0x20000 + g.r.IntN(0x20000)) // planes 2-3
	case 12:
		return rune(0x40000 + g.r.IntN(0xA0000)) // planes 4-13
	case 13:
		return rune(0xE0000 + g.r.IntN(0x30000)) // planes 14-16
	default:
		return rune(0x20 + g.r.IntN(0x5F)) // printable ASCII
	}
}

func (g *gen) str(minLen, maxLen int) string {
	n := minLen + g.r.IntN(maxLen-minLen+1)
	var b strings.Builder
	for range n {
		b.WriteRune(g.char())
	}
	return b.String()
}

// divergent returns a string beside base whose UTF-16 and code point
// orders relative to s differ (one side U+E000..U+FFFF, the other astral).
func (g *gen) divergent(base string) string {
	if g.r.IntN(2) == 0 {
		return base + string(rune(0xE000+g.r.IntN(0x2000)))
	}
	return base + string(rune(0x10000+g.r.IntN(0xF0000)))
}

// names draws n distinct attribute names or map keys, some in pairs that
// order differently in UTF-8 and UTF-16.
func (g *gen) names(n int, taken map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for len(out) < n {
		var s string
		switch {
		case len(out) > 0 && g.r.IntN(4) == 0:
			p := out[g.r.IntN(len(out))]
			s = g.divergent(firstRune(p))
		case g.r.IntN(3) == 0:
			s = "a" + strconv.Itoa(g.r.IntN(1000))
		default:
			s = g.str(1, 8)
		}
		if s == "" || seen[s] || taken[s] || s == itemcrypto.MaterialDescriptionAttribute || s == itemcrypto.SignatureAttribute {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func firstRune(s string) string {
	for i := range s {
		if i > 0 {
			return s[:i]
		}
	}
	return s
}

func (g *gen) bytes(minLen, maxLen int) []byte {
	b := make([]byte, minLen+g.r.IntN(maxLen-minLen+1))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

var numberLimits = []string{
	"1E-130", "-1E-130", "1e-130", "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
	"9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
	"99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
	"12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678",
	"1E+125", "9.99e125", "1.0000000000000000000000000000000000001", "10000000000000000000000000000000000000E+88",
	"0", "-0", "+0", "0.0", "-0.000", "0E+5", "-0e-3", "000", ".0", "0.", "-0E0",
}

// digits returns n significant digits, the first nonzero; some runs of
// zeros and nines so that rounding to 28 digits carries.
func (g *gen) digits(n int) string {
	b := make([]byte, n)
	fill := byte(0)
	switch g.r.IntN(4) {
	case 0:
		fill = '9'
	case 1:
		fill = '0'
	}
	for i := range b {
		if fill != 0 && i > 0 && g.r.IntN(4) != 0 {
			b[i] = fill
		} else {
			b[i] = byte('0' + g.r.IntN(10))
		}
	}
	if b[0] == '0' {
		b[0] = byte('1' + g.r.IntN(9))
	}
	if g.r.IntN(3) == 0 { // end in 5 then zeros: ties of the half-to-even rounding
		if n > 29 {
			b[28] = '5'
			for i := 29; i < n; i++ {
				b[i] = '0'
			}
			b[n-1] = byte('0' + g.r.IntN(2))
		}
	}
	return string(b)
}

// number returns a literal DynamoDB accepts: at most 38 significant
// digits, a magnitude in 1E-130..9.99..9E+125 or zero, in any spelling.
func (g *gen) number() string {
	for {
		s := g.numberLiteral()
		if _, err := ddbserial.CanonicalNumber(s); err != nil {
			continue
		}
		if g.avoidNumber != nil && g.avoidNumber(s) {
			continue
		}
		return s
	}
}

func (g *gen) numberLiteral() string {
	switch g.r.IntN(10) {
	case 0:
		return numberLimits[g.r.IntN(len(numberLimits))]
	case 1, 2:
		return strconv.Itoa(g.r.IntN(2001) - 1000)
	}
	var n int
	switch g.r.IntN(4) {
	case 0:
		n = 29 + g.r.IntN(10) // 29..38: Python rounds these
	case 1:
		n = 15 + g.r.IntN(24)
	default:
		n = 1 + g.r.IntN(14)
	}
	d := g.digits(n)
	// adj is the exponent of the first digit.
	var adj int
	if g.r.IntN(4) == 0 {
		adj = -130 + g.r.IntN(256)
	} else {
		adj = -10 + g.r.IntN(50)
	}
	sign := ""
	switch g.r.IntN(6) {
	case 0, 1:
		sign = "-"
	case 2:
		sign = "+"
	}
	// Trailing zeros in the mantissa are allowed (they are not significant).
	if g.r.IntN(5) == 0 {
		d += strings.Repeat("0", 1+g.r.IntN(4))
	}
	lead := ""
	if g.r.IntN(6) == 0 {
		lead = strings.Repeat("0", 1+g.r.IntN(3))
	}
	if g.r.IntN(2) == 0 && adj > -40 && adj < 60 {
		// Plain notation: the point after digit adj+1.
		p := adj + 1
		switch {
		case p <= 0:
			return sign + lead + "0." + strings.Repeat("0", -p) + d
		case p >= len(d):
			s := sign + lead + d + strings.Repeat("0", p-len(d))
			if g.r.IntN(4) == 0 {
				s += "." + strings.Repeat("0", g.r.IntN(3))
			}
			return s
		default:
			return sign + lead + d[:p] + "." + d[p:]
		}
	}
	// Exponent notation with the point after k digits (k may be 0: ".5e3").
	k := g.r.IntN(min(len(d), 3) + 1)
	if g.r.IntN(3) != 0 {
		k = 1
	}
	m := d[:k] + "." + d[k:]
	if k == len(d) && g.r.IntN(2) == 0 {
		m = d
	}
	exp := adj - (k - 1)
	e := "E"
	if g.r.IntN(2) == 0 {
		e = "e"
	}
	es := strconv.Itoa(exp)
	if exp >= 0 && g.r.IntN(2) == 0 {
		es = "+" + es
	}
	if g.r.IntN(8) == 0 {
		es = strings.Replace(es, strconv.Itoa(abs(exp)), "0"+strconv.Itoa(abs(exp)), 1)
	}
	return sign + lead + m + e + es
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (g *gen) value(depth int) types.AttributeValue {
	k := g.r.IntN(20)
	if depth >= 4 && k >= 16 {
		k = g.r.IntN(16)
	}
	switch k {
	case 0, 1, 2:
		return &types.AttributeValueMemberS{Value: g.str(0, 12)}
	case 3, 4, 5:
		return &types.AttributeValueMemberN{Value: g.number()}
	case 6, 7:
		return &types.AttributeValueMemberB{Value: g.bytes(0, 24)}
	case 8, 9:
		n := 1 + g.r.IntN(6)
		var ss []string
		seen := map[string]bool{}
		for len(ss) < n {
			var s string
			if len(ss) > 0 && g.r.IntN(3) == 0 {
				s = g.divergent(firstRune(ss[g.r.IntN(len(ss))]))
			} else {
				s = g.str(0, 6)
			}
			if !seen[s] {
				seen[s] = true
				ss = append(ss, s)
			}
		}
		return &types.AttributeValueMemberSS{Value: ss}
	case 10, 11:
		n := 1 + g.r.IntN(6)
		var ns []string
		seen := map[string]bool{}
		for len(ns) < n {
			s := g.number()
			c, _ := ddbserial.CanonicalNumber(s)
			if !seen[c] {
				seen[c] = true
				ns = append(ns, s)
			}
		}
		return &types.AttributeValueMemberNS{Value: ns}
	case 12, 13:
		n := 1 + g.r.IntN(6)
		var bs [][]byte
		seen := map[string]bool{}
		for len(bs) < n {
			b := g.bytes(0, 4)
			if g.r.IntN(2) == 0 && len(b) > 0 {
				b[0] |= 0x80 // members differing in the high bit
			}
			if !seen[string(b)] {
				seen[string(b)] = true
				bs = append(bs, b)
			}
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case 14:
		return &types.AttributeValueMemberNULL{Value: true}
	case 15:
		return &types.AttributeValueMemberBOOL{Value: g.r.IntN(2) == 0}
	case 16, 17:
		n := g.r.IntN(6)
		l := make([]types.AttributeValue, n)
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return &types.AttributeValueMemberL{Value: l}
	default:
		n := g.r.IntN(6)
		m := map[string]types.AttributeValue{}
		for _, k := range g.names(n, nil) {
			m[k] = g.value(depth + 1)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
}

// deep returns lists and maps nested n levels.
func (g *gen) deep(n int) types.AttributeValue {
	v := g.value(4)
	for range n {
		if g.r.IntN(2) == 0 {
			v = &types.AttributeValueMemberL{Value: []types.AttributeValue{v}}
		} else {
			v = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{g.str(1, 3): v}}
		}
	}
	return v
}

func (g *gen) keyValue() types.AttributeValue {
	switch g.r.IntN(3) {
	case 0:
		return &types.AttributeValueMemberS{Value: g.str(1, 10)}
	case 1:
		return &types.AttributeValueMemberN{Value: g.number()}
	default:
		return &types.AttributeValueMemberB{Value: g.bytes(1, 16)}
	}
}

// testCase is one random item with the policy it is written under.
type testCase struct {
	table  string
	pk, sk string // sk "" when the table has no sort key
	def    actions.Action
	over   map[string]actions.Action
	ghosts []string // SignOnly names the item does not hold (for added and renamed attributes)
	item   itemcrypto.Item
}

var actionChoices = []actions.Action{actions.EncryptAndSign, actions.SignOnly, actions.DoNothing}

func (g *gen) testCase() *testCase {
	tc := &testCase{over: map[string]actions.Action{}, item: itemcrypto.Item{}}
	const tableChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
	tn := 3 + g.r.IntN(20)
	for range tn {
		tc.table += string(tableChars[g.r.IntN(len(tableChars))])
	}
	var n int
	switch g.r.IntN(10) {
	case 0:
		n = 50 + g.r.IntN(51) // up to 100 attributes
	case 1:
		n = 0
	default:
		n = 1 + g.r.IntN(20)
	}
	names := g.names(n+4, nil)
	tc.pk, tc.ghosts = names[0], names[2:4]
	if g.r.IntN(3) != 0 {
		tc.sk = names[1]
	}
	tc.def = actionChoices[g.r.IntN(3)]
	for _, k := range []string{tc.pk, tc.sk} {
		if k == "" {
			continue
		}
		tc.item[k] = g.keyValue()
		if g.r.IntN(8) == 0 {
			tc.over[k] = actions.DoNothing
		} else {
			tc.over[k] = actions.SignOnly
		}
	}
	for _, gh := range tc.ghosts {
		tc.over[gh] = actions.SignOnly
	}
	for i, name := range names[4:] {
		if i == 0 && g.r.IntN(20) == 0 {
			tc.item[name] = g.deep(20 + g.r.IntN(10))
		} else {
			tc.item[name] = g.value(0)
		}
		if g.r.IntN(2) == 0 {
			tc.over[name] = actionChoices[g.r.IntN(3)]
		}
	}
	return tc
}

func (tc *testCase) policy() (*actions.Policy, error) {
	return actions.New(actions.Options{Default: tc.def, Overrides: tc.over, PartitionKey: tc.pk, SortKey: tc.sk})
}

func (tc *testCase) action(name string) actions.Action {
	if a, ok := tc.over[name]; ok {
		return a
	}
	return tc.def
}

// clone copies tc with a new item holding the same values.
func (tc *testCase) withItem(item itemcrypto.Item) *testCase {
	c := *tc
	c.item = item
	return &c
}

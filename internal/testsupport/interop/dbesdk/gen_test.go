package dbesdk

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// Item is a DynamoDB item in the SDK's form, as both sides take it.
type Item = map[string]types.AttributeValue

// Config is one table configuration, expressed once and built on both sides
// (ours in ours_test.go, the reference in ref_test.go).
type Config struct {
	Table    string
	PK, SK   string                    // SK "" means no sort key
	Actions  map[string]actions.Action // every configured attribute, the keys included
	Unsigned []string                  // allowedUnsignedAttributes
	Prefix   string                    // allowedUnsignedAttributePrefix, "" for none
	Suite    keyring.Suite
	Keyring  string // a name in keyrings()
}

// Version is the DB-ESDK format version the configuration writes.
func (c *Config) Version() int {
	for _, a := range c.Actions {
		if a == actions.SignAndIncludeInEncryptionContext {
			return 2
		}
	}
	return 1
}

func (c *Config) isUnsigned(name string) bool {
	return slices.Contains(c.Unsigned, name) || (c.Prefix != "" && strings.HasPrefix(name, c.Prefix))
}

func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table=%q pk=%q sk=%q suite=%s keyring=%s version=%d prefix=%q unsigned=%q\n", c.Table, c.PK, c.SK, c.Suite, c.Keyring, c.Version(), c.Prefix, c.Unsigned)
	for _, n := range slices.Sorted(mapsKeys(c.Actions)) {
		fmt.Fprintf(&b, "  %q: %s\n", n, c.Actions[n])
	}
	return b.String()
}

func mapsKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// gen draws everything from one seeded source, so that a seed names a case.
type gen struct {
	r *rand.Rand
	// big allows values up to the item limit; off in the fuzz target's
	// small mode and most items.
	big bool
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *gen) n(n int) int           { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// Names. The planes: ASCII, the rest of the BMP below the surrogates, the
// BMP above them (U+E000-U+FFFF sorts after every supplementary character in
// UTF-16 and before in UTF-8), and each supplementary plane 1-16.
func (g *gen) rune() rune {
	switch g.n(10) {
	case 0, 1, 2, 3:
		return rune(0x21 + g.n(0x7f-0x21))
	case 4:
		return rune(0x80 + g.n(0x800-0x80))
	case 5:
		return rune(0x800 + g.n(0xd800-0x800))
	case 6, 7:
		r := rune(0xe000 + g.n(0x10000-0xe000))
		return r
	default:
		plane := 1 + g.n(16)
		return rune(plane<<16 | g.n(0x10000))
	}
}

func (g *gen) name() string {
	var b strings.Builder
	switch g.n(6) {
	case 0: // short ASCII
		b.WriteString(string(rune('a' + g.n(26))))
		for range g.n(6) {
			const chars = "abcdefghijklmnopqrstuvwxyz0123456789_.-#:"
			b.WriteByte(chars[g.n(len(chars))])
		}
	case 1: // a pair that sorts differently in UTF-8 and UTF-16
		b.WriteString("k")
		if g.chance(0.5) {
			b.WriteRune(rune(0xe000 + g.n(0x2000)))
		} else {
			b.WriteRune(rune(0x10000 + g.n(0x100000)))
		}
	default:
		l := 1 + g.n(12)
		if g.chance(0.02) {
			l = 200 + g.n(300) // long names (DynamoDB allows 64 KB, keys 2 KB... we stay below 1 KB)
		}
		for range l {
			b.WriteRune(g.rune())
		}
	}
	s := b.String()
	if strings.HasPrefix(s, "aws_dbe_") || actions.IsReserved(s) {
		return "x" + s
	}
	return s
}

// Numbers: a value of 1-38 significant digits within DynamoDB's range
// (1E-130 to 9.99...E+125 in magnitude, or zero) spelled any way DynamoDB
// accepts: a sign (+ or -), leading zeros, a decimal point anywhere, trailing
// zeros, an exponent (e or E, signed, with leading zeros).
func (g *gen) number() string {
	// digits d1...dk (d1 != 0) and the decimal exponent of d1: value = 0.d1...dk * 10^(pos)
	var digits string
	var pos int
	switch g.n(12) {
	case 0: // zero
		return g.spell("0", 1, g.n(2) == 0)
	case 1: // range limits
		switch g.n(4) {
		case 0:
			digits, pos = "1", -129 // 1E-130
		case 1:
			digits, pos = strings.Repeat("9", 38), 126 // 9.99..E+125
		case 2:
			digits, pos = strings.Repeat("9", 1+g.n(38)), 126
		default:
			digits, pos = fmt.Sprint(1+g.n(9))+g.digits(g.n(38)), -129
		}
	case 2: // 38 digits
		digits, pos = fmt.Sprint(1+g.n(9))+g.digits(37), g.n(80)-40
	case 3, 4, 5: // small integers
		v := 1 + g.n(100000)
		digits = strings.TrimRight(fmt.Sprint(v), "0")
		pos = len(fmt.Sprint(v))
	default:
		digits, pos = fmt.Sprint(1+g.n(9))+g.digits(g.n(20)), g.n(256)-129
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "1"
	}
	return g.spell(digits, pos, g.chance(0.4))
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.n(10))
	}
	return string(b)
}

// spell writes 0.digits × 10^pos.
func (g *gen) spell(digits string, pos int, neg bool) string {
	var sign string
	switch {
	case neg:
		sign = "-"
	case g.chance(0.1):
		sign = "+"
	}
	// choose where the decimal point goes in the mantissa: mantissa = digits with point after p digits (p may be <0 or >len: zeros added), exponent = pos - p
	var p int
	switch g.n(4) {
	case 0:
		p = pos // plain notation, no exponent
	case 1:
		p = 1
	default:
		p = g.n(len(digits)+6) - 3
	}
	exp := pos - p
	if exp != 0 && (p < -40 || p > 60) {
		p = 1
		exp = pos - 1
	}
	if exp == 0 && (p < -150 || p > 150) { // no exponent would need > 150 zeros
		p, exp = 1, pos-1
	}
	var m string
	switch {
	case p <= 0:
		m = "0." + strings.Repeat("0", -p) + digits
		if g.chance(0.2) {
			m = m[1:] // ".0005"
		}
	case p >= len(digits):
		m = digits + strings.Repeat("0", p-len(digits))
		if g.chance(0.2) {
			m += "." + strings.Repeat("0", g.n(3))
		}
	default:
		m = digits[:p] + "." + digits[p:]
	}
	if g.chance(0.15) {
		m = strings.Repeat("0", 1+g.n(3)) + m
	}
	if strings.Contains(m, ".") && g.chance(0.15) {
		m += strings.Repeat("0", 1+g.n(3))
	}
	if exp == 0 && g.chance(0.7) {
		return sign + m
	}
	e := "e"
	if g.chance(0.5) {
		e = "E"
	}
	esign, ed := "", fmt.Sprint(exp)
	if exp < 0 {
		esign, ed = "-", ed[1:]
	} else if g.chance(0.3) {
		esign = "+"
	}
	if g.chance(0.15) {
		ed = strings.Repeat("0", 1+g.n(2)) + ed
	}
	es := esign + ed
	return sign + m + e + es
}

func (g *gen) str(max int) string {
	if g.chance(0.1) {
		return ""
	}
	l := g.n(max + 1)
	var b strings.Builder
	for b.Len() < l {
		if g.chance(0.7) {
			b.WriteByte(byte(0x20 + g.n(0x5f)))
		} else {
			b.WriteRune(g.rune())
		}
	}
	s := b.String()
	for !utf8.ValidString(s) || len(s) > max && max > 0 {
		s = s[:len(s)-1]
	}
	return s
}

func (g *gen) bytes(max int) []byte {
	b := make([]byte, g.n(max+1))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

// value draws a value of any of the ten types; depth bounds nesting.
func (g *gen) value(depth int) types.AttributeValue {
	k := g.n(10)
	if depth <= 0 && k >= 8 {
		k = g.n(8)
	}
	switch k {
	case 0:
		return &types.AttributeValueMemberS{Value: g.str(40)}
	case 1:
		return &types.AttributeValueMemberN{Value: g.number()}
	case 2:
		return &types.AttributeValueMemberB{Value: g.bytes(40)}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: g.chance(0.5)}
	case 4:
		return &types.AttributeValueMemberNULL{Value: true}
	case 5:
		var ss []string
		seen := map[string]bool{}
		for range 1 + g.n(6) {
			s := g.str(20)
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			ss = append(ss, s)
		}
		if len(ss) == 0 {
			ss = []string{"s"}
		}
		return &types.AttributeValueMemberSS{Value: ss}
	case 6:
		var ns []string
		seen := map[string]bool{}
		for range 1 + g.n(6) {
			n := g.number()
			c := canonNumber(n)
			if seen[c] {
				continue
			}
			seen[c] = true
			ns = append(ns, n)
		}
		return &types.AttributeValueMemberNS{Value: ns}
	case 7:
		var bs [][]byte
		seen := map[string]bool{}
		for range 1 + g.n(6) {
			b := g.bytes(20)
			if len(b) == 0 || seen[string(b)] {
				continue
			}
			seen[string(b)] = true
			bs = append(bs, b)
		}
		if len(bs) == 0 {
			bs = [][]byte{{0}}
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case 8:
		l := make([]types.AttributeValue, 0)
		for range g.n(5) {
			l = append(l, g.value(depth-1))
		}
		return &types.AttributeValueMemberL{Value: l}
	default:
		m := map[string]types.AttributeValue{}
		for range g.n(5) {
			m[g.mapKey()] = g.value(depth - 1)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
}

// mapKey is a key inside a map value: any string, the empty one included.
func (g *gen) mapKey() string {
	if g.chance(0.05) {
		return ""
	}
	return g.name()
}

// keyValue is a value a key attribute may hold: S, N or B, not empty.
func (g *gen) keyValue() types.AttributeValue {
	switch g.n(3) {
	case 0:
		s := g.str(30)
		if s == "" {
			s = "k"
		}
		return &types.AttributeValueMemberS{Value: s}
	case 1:
		return &types.AttributeValueMemberN{Value: g.number()}
	default:
		b := g.bytes(30)
		if len(b) == 0 {
			b = []byte{1}
		}
		return &types.AttributeValueMemberB{Value: b}
	}
}

var suites = []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384}

// config draws a table configuration over the given keyring names.
func (g *gen) config(keyrings []string) *Config {
	c := &Config{
		Table:   g.str(20),
		Actions: map[string]actions.Action{},
		Suite:   suites[g.n(2)],
		Keyring: keyrings[g.n(len(keyrings))],
	}
	if c.Table == "" {
		c.Table = "t"
	}
	if g.chance(0.6) {
		c.Prefix = []string{":", "unsigned_", "\U0001F600", "u"}[g.n(4)]
	}
	v2 := g.chance(0.5)
	taken := map[string]bool{}
	fresh := func() string {
		for {
			n := g.name()
			if !taken[n] && !(c.Prefix != "" && strings.HasPrefix(n, c.Prefix)) {
				taken[n] = true
				return n
			}
		}
	}
	c.PK = fresh()
	keyAction := actions.SignOnly
	if v2 {
		keyAction = actions.SignAndIncludeInEncryptionContext
	}
	c.Actions[c.PK] = keyAction
	if g.chance(0.6) {
		c.SK = fresh()
		c.Actions[c.SK] = keyAction
	}
	nattr := g.n(12)
	if g.chance(0.1) {
		nattr = 20 + g.n(80) // up to 100 attributes in all
	}
	for range nattr {
		var a actions.Action
		switch g.n(10) {
		case 0, 1, 2, 3:
			a = actions.EncryptAndSign
		case 4, 5:
			a = actions.SignOnly
		case 6, 7:
			if v2 {
				a = actions.SignAndIncludeInEncryptionContext
			} else {
				a = actions.SignOnly
			}
		default:
			a = actions.DoNothing
		}
		if a == actions.DoNothing {
			if c.Prefix != "" && g.chance(0.6) {
				n := c.Prefix + g.name()
				for taken[n] {
					n += "_"
				}
				taken[n] = true
				c.Actions[n] = a
				continue
			}
			n := fresh()
			c.Unsigned = append(c.Unsigned, n)
			c.Actions[n] = a
			continue
		}
		c.Actions[fresh()] = a
	}
	if v2 && c.Version() == 1 { // keys only: make one more attribute to carry it
		c.Actions[fresh()] = actions.SignAndIncludeInEncryptionContext
	}
	// An allowed-unsigned name that no attribute uses.
	if g.chance(0.2) {
		c.Unsigned = append(c.Unsigned, fresh())
	}
	return c
}

// item draws an item for c: the keys, and a random subset of the other
// configured attributes.
func (g *gen) item(c *Config) Item {
	it := Item{c.PK: g.keyValue()}
	if c.SK != "" {
		it[c.SK] = g.keyValue()
	}
	p := g.r.Float64()
	for _, name := range slices.Sorted(mapsKeys(c.Actions)) {
		if name == c.PK || name == c.SK {
			continue
		}
		// Both sides refuse an item without every
		// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute
		// (TestMissingContextAttribute): rarely left out, to check that.
		if c.Actions[name] == actions.SignAndIncludeInEncryptionContext {
			if g.chance(0.03) {
				continue
			}
		} else if g.r.Float64() > p {
			continue
		}
		it[name] = g.value(g.n(5))
	}
	if g.big && len(it) > 0 && g.chance(0.3) {
		// one value up to the 400 KB item limit (names and other values are
		// counted generously: stay 8 KB under).
		names := slices.Sorted(mapsKeys(it))
		name := names[g.n(len(names))]
		if name != c.PK && name != c.SK && c.Actions[name] != actions.SignAndIncludeInEncryptionContext {
			size := 1000 + g.n(380_000)
			if g.chance(0.5) {
				it[name] = &types.AttributeValueMemberB{Value: make([]byte, size)}
			} else {
				it[name] = &types.AttributeValueMemberS{Value: strings.Repeat("é", size/2)}
			}
		}
	}
	return it
}

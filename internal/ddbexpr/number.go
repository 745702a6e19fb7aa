package ddbexpr

import "strconv"

// decimal is a DynamoDB number, read exactly: its value is
// 0.(hi lo) × 10^exp, where hi+lo are the significant digits with no
// leading or trailing zero (both empty for zero). hi and lo are substrings
// of the text, so reading a number allocates nothing.
type decimal struct {
	neg    bool
	hi, lo string
	exp    int64
}

// maxExpDigits bounds the exponent we read (DynamoDB's own range is
// 1E-130 to 1E+126); beyond it the text is refused, not rounded.
const maxExpDigits = 9

// parseDecimal reads a number as DynamoDB writes it: an optional sign,
// digits with an optional decimal point, an optional exponent
// ([+-]?digits after e or E). Any precision is kept.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	ip := s[start:i]
	var fp string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fp = s[start:i]
	}
	if ip == "" && fp == "" {
		return decimal{}, false
	}
	var e10 int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && s[i] == '0' {
			i++
		}
		sig := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i-sig > maxExpDigits {
			return decimal{}, false
		}
		if i > sig {
			v, err := strconv.ParseInt(s[sig:i], 10, 64)
			if err != nil {
				return decimal{}, false
			}
			e10 = v
		}
		if eneg {
			e10 = -e10
		}
	}
	if i != len(s) {
		return decimal{}, false
	}
	d.exp = int64(len(ip)) + e10
	for ip != "" && ip[0] == '0' {
		ip = ip[1:]
		d.exp--
	}
	if ip == "" {
		for fp != "" && fp[0] == '0' {
			fp = fp[1:]
			d.exp--
		}
	}
	for fp != "" && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	if fp == "" {
		for ip != "" && ip[len(ip)-1] == '0' {
			ip = ip[:len(ip)-1]
		}
	}
	if ip == "" && fp == "" {
		return decimal{}, true // zero, whatever its sign and exponent
	}
	d.hi, d.lo = ip, fp
	return d, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func (d decimal) ndigits() int { return len(d.hi) + len(d.lo) }

func (d decimal) digit(i int) byte {
	if i < len(d.hi) {
		return d.hi[i]
	}
	return d.lo[i-len(d.hi)]
}

func (d decimal) sign() int {
	switch {
	case d.ndigits() == 0:
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpDecimal returns -1, 0 or +1 as a < b, a == b, a > b, exactly.
func cmpDecimal(a, b decimal) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	return sa * cmpMagnitude(a, b)
}

func cmpMagnitude(a, b decimal) int {
	if a.exp != b.exp {
		if a.exp < b.exp {
			return -1
		}
		return 1
	}
	na, nb := a.ndigits(), b.ndigits()
	for i := range min(na, nb) {
		if x, y := a.digit(i), b.digit(i); x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case na < nb:
		return -1
	case na > nb:
		return 1
	}
	return 0
}

// canonical returns a text equal for equal numbers (for set comparison).
func (d decimal) canonical() string {
	if d.sign() == 0 {
		return "0"
	}
	s := d.hi + d.lo + "e" + strconv.FormatInt(d.exp, 10)
	if d.neg {
		return "-" + s
	}
	return s
}

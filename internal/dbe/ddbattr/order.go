package ddbattr

import "unicode/utf8"

// LessUTF16 reports whether a sorts before b in UTF-16 binary order, the
// order of DynamoDB and the DB-ESDK for set members and map keys: as UTF-8
// byte order, except that U+E000..U+FFFF sort after every supplementary
// character (whose UTF-16 form starts with a surrogate, 0xD800..0xDBFF).
func LessUTF16(a, b string) bool { return CompareUTF16(a, b) < 0 }

// CompareUTF16 compares a and b in UTF-16 binary order.
func CompareUTF16(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if a[0] != b[0] {
				return int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ka, kb := utf16Key(ra), utf16Key(rb)
			if ka < kb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16Key maps a rune to a key whose order is the order of its UTF-16
// code units.
func utf16Key(r rune) rune {
	if r >= 0xE000 && r <= 0xFFFF {
		return r + 0x110000
	}
	return r
}

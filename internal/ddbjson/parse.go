package ddbjson

import (
	"encoding/base64"
	"errors"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// parser reads DynamoDB JSON in one pass over the input. It accepts a
// subset of what encoding/json accepts, and reads it to the same values:
// strings are unescaped as encoding/json unescapes them (invalid UTF-8 and
// lone surrogates become U+FFFD), binary is standard base64 with \r and \n
// ignored. Base64 without escapes, the bulk of a protected item, is decoded
// straight from the input. Its errors never quote the input.
//
// Memory: every slice and map of the result is allocated once, at its final
// size, never grown by append (growth allocates several times the final
// size: 5 times, summed over the steps, for Go's large slices). A set's
// members are counted by a scan of its bytes before they are read; the
// elements of a list and the entries of a map are pushed on a stack the
// parser keeps for the whole document, and copied out when the list or map
// ends. Work: a set's bytes are read twice, every other byte once, and each
// element and entry is copied once more, so parsing is linear in the input
// whatever the nesting.
type parser struct {
	data []byte
	pos  int
	attr string // the top-level attribute being read, for errors

	elems   scratch[types.AttributeValue] // of the lists being read
	entries scratch[entry]                // of the maps being read
}

// entry is a name and value of a map being read, and where the name ended,
// for the error that reports it twice.
type entry struct {
	name string
	v    types.AttributeValue
	pos  int
}

// scratch is a stack of the elements of the lists (or the entries of the
// maps) being read. It is kept in chunks that are never moved, so it
// allocates, over a whole document, its greatest depth plus at most one
// chunk: a list or map pushes its elements, then copies them into a slice
// or map made at its final size.
type scratch[T any] struct {
	chunks [][]T
	n      int
}

// Chunks are of firstChunk elements, doubling up to lastChunk: a small
// document takes little, and a large one wastes at most one chunk.
const (
	firstChunk = 16
	doublings  = 4
	lastChunk  = firstChunk << doublings
	doubled    = firstChunk * (1<<doublings - 1) // elements in the chunks before the first of lastChunk
)

// locate returns the chunk and the index in it of the k'th element.
func locate(k int) (c, i int) {
	if k < doubled {
		c = bits.Len(uint(k/firstChunk+1)) - 1
		return c, k - firstChunk*(1<<c-1)
	}
	k -= doubled
	return doublings + k/lastChunk, k % lastChunk
}

func (s *scratch[T]) push(v T) {
	c, i := locate(s.n)
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, firstChunk<<min(c, doublings)))
	}
	s.chunks[c][i] = v
	s.n++
}

// at returns the k'th element.
func (s *scratch[T]) at(k int) *T {
	c, i := locate(k)
	return &s.chunks[c][i]
}

// pop copies the elements from the mark'th on into a new slice, and drops
// them. For no elements, the slice is empty but not nil, as encoding/json
// makes it.
func (s *scratch[T]) pop(mark int) []T {
	out := make([]T, s.n-mark)
	for k := mark; k < s.n; {
		c, i := locate(k)
		k += copy(out[k-mark:], s.chunks[c][i:])
	}
	s.n = mark
	return out
}

var (
	errMalformed = errors.New("malformed JSON")
	errEOF       = errors.New("unexpected end of JSON")
)

func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// end checks that only white space follows what was read.
func (p *parser) end() error {
	if p.ws(); p.pos != len(p.data) {
		return errors.New("data after the value")
	}
	return nil
}

// fail makes err, a reason from this file, an *Error matching ErrSyntax.
func (p *parser) fail(err error) error {
	return &Error{Attribute: p.attr, Kind: ErrSyntax, Reason: err.Error(), Offset: min(p.pos, len(p.data)) + 1}
}

// next skips white space and returns the next byte, without consuming it.
func (p *parser) next() (byte, error) {
	p.ws()
	if p.pos >= len(p.data) {
		return 0, errEOF
	}
	return p.data[p.pos], nil
}

func (p *parser) expect(c byte) error {
	got, err := p.next()
	if err != nil {
		return err
	}
	if got != c {
		return errMalformed
	}
	p.pos++
	return nil
}

// rawString consumes a JSON string and returns its raw content, between
// the quotes, and whether it holds escapes. The escapes are checked as
// encoding/json's scanner checks them.
func (p *parser) rawString() (raw []byte, escaped bool, err error) {
	if err := p.expect('"'); err != nil {
		return nil, false, err
	}
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			raw = p.data[start:p.pos]
			p.pos++
			return raw, escaped, nil
		case c < 0x20:
			return nil, false, errMalformed
		case c == '\\':
			escaped = true
			p.pos++
			if p.pos >= len(p.data) {
				return nil, false, errEOF
			}
			switch p.data[p.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos++
			case 'u':
				if p.pos+5 > len(p.data) {
					return nil, false, errEOF
				}
				for _, h := range p.data[p.pos+1 : p.pos+5] {
					if !isHex(h) {
						return nil, false, errMalformed
					}
				}
				p.pos += 5
			default:
				return nil, false, errMalformed
			}
		default:
			p.pos++
		}
	}
	return nil, false, errEOF
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (p *parser) string() (string, error) {
	raw, escaped, err := p.rawString()
	if err != nil {
		return "", err
	}
	if !escaped && utf8.Valid(raw) {
		return string(raw), nil
	}
	return string(unquote(raw)), nil
}

func (p *parser) binary() ([]byte, error) {
	raw, escaped, err := p.rawString()
	if err != nil {
		return nil, err
	}
	if escaped {
		raw = unquote(raw)
	}
	// Bytes that are not base64 make Decode fail, as they make encoding/json
	// fail whether or not it first replaced invalid UTF-8.
	b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
	n, err := base64.StdEncoding.Decode(b, raw)
	if err != nil {
		return nil, errors.New("binary value is not base64")
	}
	return b[:n], nil
}

// literal consumes true or false (null is never a valid body here).
func (p *parser) boolean() (bool, error) {
	c, err := p.next()
	if err != nil {
		return false, err
	}
	for _, lit := range []string{"true", "false"} {
		if c == lit[0] {
			if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
				return false, errMalformed
			}
			p.pos += len(lit)
			if p.pos < len(p.data) && isIdentByte(p.data[p.pos]) {
				return false, errMalformed
			}
			return lit == "true", nil
		}
	}
	return false, errors.New("want a boolean")
}

func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// list calls elem for every element of a JSON array.
func (p *parser) list(elem func() error) error {
	if err := p.expect('['); err != nil {
		return err
	}
	if c, err := p.next(); err != nil {
		return err
	} else if c == ']' {
		p.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		c, err := p.next()
		if err != nil {
			return err
		}
		p.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return errMalformed
		}
	}
}

// item reads a JSON object of attribute values: its entries go on the
// stack, then into a map made for their number.
func (p *parser) item(depth int) (map[string]types.AttributeValue, error) {
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c == '}' {
		p.pos++
		return map[string]types.AttributeValue{}, nil
	}
	mark := p.entries.n
	for {
		name, err := p.string()
		if err != nil {
			return nil, err
		}
		if depth == 0 {
			p.attr = name
		}
		e := entry{name: name, pos: p.pos}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		if e.v, err = p.value(depth); err != nil {
			return nil, err
		}
		p.entries.push(e)
		c, err := p.next()
		if err != nil {
			return nil, err
		}
		p.pos++
		switch c {
		case ',':
		case '}':
			return p.popItem(mark, depth)
		default:
			return nil, errMalformed
		}
	}
}

// popItem makes the map of the entries from the mark'th on, and drops them.
func (p *parser) popItem(mark, depth int) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, p.entries.n-mark)
	for k := mark; k < p.entries.n; k++ {
		e := p.entries.at(k)
		if _, dup := item[e.name]; dup {
			p.pos = e.pos
			if depth == 0 {
				p.attr = e.name
			}
			return nil, errors.New("name appears twice")
		}
		item[e.name] = e.v
	}
	p.entries.n = mark
	return item, nil
}

// members counts the strings of the JSON array at p.pos, so that a set is
// allocated at its size: a scan of the set's bytes that allocates nothing.
// It stops at anything but strings, commas and white space; the parse that
// follows reports what is wrong.
func (p *parser) members() int {
	d, i := p.data, p.pos
	ws := func() {
		for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
			i++
		}
	}
	if ws(); i >= len(d) || d[i] != '[' {
		return 0
	}
	i++
	n := 0
	for {
		if ws(); i >= len(d) || d[i] != '"' {
			return n
		}
		for i++; i < len(d) && d[i] != '"'; i++ {
			if d[i] == '\\' {
				i++
			}
		}
		if i >= len(d) {
			return n
		}
		i++
		n++
		if ws(); i >= len(d) || d[i] != ',' {
			return n
		}
		i++
	}
}

func (p *parser) value(depth int) (types.AttributeValue, error) {
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c != '{' {
		return nil, plainJSON(c)
	}
	p.pos++
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c == '}' {
		return nil, errors.New("no type key")
	}
	tagPos := p.pos // p.next skipped the white space before the tag
	tag, err := p.string()
	if err != nil {
		return nil, err
	}
	if err := p.expect(':'); err != nil {
		return nil, err
	}
	var v types.AttributeValue
	switch tag {
	case "S", "N":
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		if tag == "S" {
			v = &types.AttributeValueMemberS{Value: s}
		} else {
			v = &types.AttributeValueMemberN{Value: s}
		}
	case "B":
		b, err := p.binary()
		if err != nil {
			return nil, err
		}
		v = &types.AttributeValueMemberB{Value: b}
	case "BOOL", "NULL":
		b, err := p.boolean()
		if err != nil {
			return nil, err
		}
		if tag == "BOOL" {
			v = &types.AttributeValueMemberBOOL{Value: b}
		} else {
			v = &types.AttributeValueMemberNULL{Value: b}
		}
	case "SS", "NS":
		ss := make([]string, 0, p.members())
		err := p.list(func() error {
			s, err := p.string()
			ss = append(ss, s)
			return err
		})
		if err != nil {
			return nil, err
		}
		if tag == "SS" {
			v = &types.AttributeValueMemberSS{Value: ss}
		} else {
			v = &types.AttributeValueMemberNS{Value: ss}
		}
	case "BS":
		bs := make([][]byte, 0, p.members())
		err := p.list(func() error {
			b, err := p.binary()
			bs = append(bs, b)
			return err
		})
		if err != nil {
			return nil, err
		}
		v = &types.AttributeValueMemberBS{Value: bs}
	case "L":
		if depth >= maxDepth {
			return nil, errors.New("nested too deeply")
		}
		mark := p.elems.n
		err := p.list(func() error {
			e, err := p.value(depth + 1)
			if err == nil {
				p.elems.push(e)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		v = &types.AttributeValueMemberL{Value: p.elems.pop(mark)}
	case "M":
		if depth >= maxDepth {
			return nil, errors.New("nested too deeply")
		}
		m, err := p.item(depth + 1)
		if err != nil {
			return nil, err
		}
		v = &types.AttributeValueMemberM{Value: m}
	default:
		p.pos = tagPos // report the tag's own position
		return nil, unknownTag(tag)
	}
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c != '}' {
		return nil, errors.New("want exactly one type key")
	}
	p.pos++
	return v, nil
}

// typeKeys lists the type keys, for messages.
const typeKeys = "S, N, B, BOOL, NULL, SS, NS, BS, L or M"

// plainJSON explains a JSON value where a DynamoDB attribute value (an
// object with one type key) belongs: the input is plain JSON.
func plainJSON(c byte) error {
	var what string
	switch {
	case c == '"':
		what = "a JSON string"
	case c == '-' || (c >= '0' && c <= '9'):
		what = "a JSON number"
	case c == 't' || c == 'f':
		what = "a JSON boolean"
	case c == 'n':
		what = "JSON null"
	case c == '[':
		what = "a JSON array"
	default:
		return errMalformed
	}
	return errors.New("want a DynamoDB attribute value such as {\"S\": \"text\"}, not " + what + " (is this plain JSON?)")
}

// unknownTag names a type key that is none of DynamoDB's, when it looks
// like one (short, letters and digits): a long or odd key could be data.
func unknownTag(tag string) error {
	ok := len(tag) > 0 && len(tag) <= 16
	for i := 0; ok && i < len(tag); i++ {
		c := tag[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if !ok {
		return errors.New("unknown type key (want " + typeKeys + ")")
	}
	return errors.New("unknown type key \"" + tag + "\" (want " + typeKeys + ")")
}

// unquote unescapes the raw content of a JSON string that rawString
// checked, exactly as encoding/json does (its unquoteBytes): invalid UTF-8
// and unpaired surrogates become U+FFFD.
func unquote(s []byte) []byte {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						r += 6
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

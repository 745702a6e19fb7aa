// Package avfuzz builds attribute values from fuzz input: every shape a
// caller of the library can build, valid or not, including typed nil
// members, nil maps, sets and slices, empty sets, unknown union members,
// nesting beyond DynamoDB's 32 levels, numbers far outside DynamoDB's range
// and sets of many members. Fuzz targets of several packages share it.
package avfuzz

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Budget bounds the size of what one call builds (members, elements and
// bytes, roughly), so a fuzz input cannot ask for gigabytes.
const Budget = 1 << 16

type builder struct {
	data   []byte
	budget int
}

func (b *builder) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	c := b.data[0]
	b.data = b.data[1:]
	return c
}

func (b *builder) bytes() []byte {
	n := min(int(b.byte()), len(b.data))
	out := b.data[:n:n]
	b.data = b.data[n:]
	b.budget -= n
	return out
}

// count reads a count; a high bit asks for many (up to 4096).
func (b *builder) count() int {
	c := b.byte()
	n := int(c & 0x7f)
	if c&0x80 != 0 {
		n *= 32
	}
	n = min(n, max(b.budget, 0))
	b.budget -= n
	return n
}

// typedNil is a nil pointer of one of the ten member types.
func typedNil(k byte) types.AttributeValue {
	switch k % 10 {
	case 0:
		return (*types.AttributeValueMemberNULL)(nil)
	case 1:
		return (*types.AttributeValueMemberBOOL)(nil)
	case 2:
		return (*types.AttributeValueMemberS)(nil)
	case 3:
		return (*types.AttributeValueMemberN)(nil)
	case 4:
		return (*types.AttributeValueMemberB)(nil)
	case 5:
		return (*types.AttributeValueMemberSS)(nil)
	case 6:
		return (*types.AttributeValueMemberNS)(nil)
	case 7:
		return (*types.AttributeValueMemberBS)(nil)
	case 8:
		return (*types.AttributeValueMemberL)(nil)
	}
	return (*types.AttributeValueMemberM)(nil)
}

// number makes a literal: the fuzz bytes themselves, or an exponent form
// that would expand enormously, or many digits.
func (b *builder) number() string {
	switch k := b.byte(); k % 4 {
	case 0:
		return string(b.bytes())
	case 1:
		return "1e" + strconv.Itoa(int(b.byte())*300) // up to 1e76500
	case 2:
		return "-9.5e-" + strconv.Itoa(int(b.byte())*3)
	default:
		return "1" + strings.Repeat("0", int(b.byte())) + "." + string(b.bytes())
	}
}

func (b *builder) value(depth int) types.AttributeValue {
	if b.budget <= 0 || depth > 40 {
		return &types.AttributeValueMemberNULL{Value: true}
	}
	b.budget--
	switch op := b.byte(); op % 16 {
	case 0:
		return nil
	case 1:
		return typedNil(b.byte())
	case 2:
		return &types.AttributeValueMemberNULL{Value: b.byte()%2 == 0}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: b.byte()%2 == 0}
	case 4:
		return &types.AttributeValueMemberS{Value: string(b.bytes())}
	case 5:
		return &types.AttributeValueMemberN{Value: b.number()}
	case 6:
		if b.byte()%4 == 0 {
			return &types.AttributeValueMemberB{}
		}
		return &types.AttributeValueMemberB{Value: b.bytes()}
	case 7:
		n := b.count()
		if n == 0 {
			return &types.AttributeValueMemberSS{}
		}
		ss := make([]string, n)
		for i := range ss {
			ss[i] = string(b.bytes()) + strconv.Itoa(i)
		}
		return &types.AttributeValueMemberSS{Value: ss}
	case 8:
		n := b.count()
		if n == 0 {
			return &types.AttributeValueMemberNS{}
		}
		ns := make([]string, n)
		proto := b.number()
		for i := range ns {
			if i%2 == 0 {
				ns[i] = proto
			} else {
				ns[i] = b.number()
			}
		}
		return &types.AttributeValueMemberNS{Value: ns}
	case 9:
		n := b.count()
		if n == 0 {
			return &types.AttributeValueMemberBS{}
		}
		bs := make([][]byte, n)
		for i := range bs {
			if b.byte()%8 != 0 {
				bs[i] = b.bytes()
			}
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case 10:
		n := b.count()
		if n == 0 && b.byte()%2 == 0 {
			return &types.AttributeValueMemberL{}
		}
		l := make([]types.AttributeValue, n)
		for i := range l {
			l[i] = b.value(depth + 1)
		}
		return &types.AttributeValueMemberL{Value: l}
	case 11:
		n := b.count()
		if n == 0 && b.byte()%2 == 0 {
			return &types.AttributeValueMemberM{} // nil map
		}
		m := make(map[string]types.AttributeValue, n)
		for range n {
			m[string(b.bytes())] = b.value(depth + 1)
		}
		return &types.AttributeValueMemberM{Value: m}
	case 12:
		// Deep nesting around one value, past DynamoDB's limit.
		n := int(b.byte()) % 48
		v := b.value(depth + 1)
		for i := range n {
			if i%2 == 0 {
				v = &types.AttributeValueMemberL{Value: []types.AttributeValue{v}}
			} else {
				v = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": v}}
			}
		}
		return v
	case 13:
		return &types.UnknownUnionMember{Tag: "X", Value: b.bytes()}
	case 14:
		// A set of many exponent-form numbers: the amplification case.
		n := b.count() * 4
		exp := int(b.byte()) * 300
		ns := make([]string, n)
		for i := range ns {
			ns[i] = strconv.Itoa(i+1) + "e" + strconv.Itoa(exp)
		}
		if n == 0 {
			ns = []string{"1e" + strconv.Itoa(exp)}
		}
		return &types.AttributeValueMemberNS{Value: ns}
	default:
		return &types.AttributeValueMemberS{Value: strings.Repeat("x", int(b.byte())*64)}
	}
}

// Value builds one attribute value from data.
func Value(data []byte) types.AttributeValue {
	b := &builder{data: data, budget: Budget}
	return b.value(0)
}

// Item builds an item from data: names and values read in turn, at most
// 64 attributes. Names may be empty or repeat (the later one wins).
func Item(data []byte) map[string]types.AttributeValue {
	b := &builder{data: data, budget: Budget}
	item := map[string]types.AttributeValue{}
	for range 64 {
		if len(b.data) == 0 {
			break
		}
		item[string(b.bytes())] = b.value(0)
	}
	return item
}

package search

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// termLoc is a parsed terminal location: a top-level name, then map keys
// and list indexes.
type termLoc struct {
	raw  string
	segs []locSeg
}

type locSeg struct {
	key     string
	index   int
	isIndex bool
}

// maxLocIndex bounds list indexes (DynamoDB items are at most 400 KB).
const maxLocIndex = 1 << 20

// parseLoc parses "a", "a.b", "a.b[3].c". Names are non-empty and hold no
// '.', '[' or ']'.
func parseLoc(s string) (termLoc, bool) {
	l := termLoc{raw: s}
	name := func(rest string) (string, string, bool) {
		i := strings.IndexAny(rest, ".[]")
		if i < 0 {
			i = len(rest)
		}
		if i == 0 {
			return "", rest, false
		}
		return rest[:i], rest[i:], true
	}
	key, rest, ok := name(s)
	if !ok {
		return l, false
	}
	l.segs = append(l.segs, locSeg{key: key})
	for rest != "" {
		switch rest[0] {
		case '.':
			if key, rest, ok = name(rest[1:]); !ok {
				return l, false
			}
			l.segs = append(l.segs, locSeg{key: key})
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 2 {
				return l, false
			}
			digits := rest[1:end]
			n, err := strconv.Atoi(digits)
			if err != nil || n < 0 || n > maxLocIndex || strings.TrimLeft(digits, "0123456789") != "" {
				return l, false
			}
			l.segs = append(l.segs, locSeg{index: n, isIndex: true})
			rest = rest[end+1:]
		default:
			return l, false
		}
	}
	return l, true
}

func (l termLoc) top() string { return l.segs[0].key }

func (l termLoc) single() bool { return len(l.segs) == 1 }

// lookup returns the value at l, and false when the item has none there (a
// missing attribute, key or index, or a path through a scalar).
func (l termLoc) lookup(item Item) (types.AttributeValue, bool) {
	v, ok := item[l.segs[0].key]
	if !ok || v == nil {
		return nil, false
	}
	for _, s := range l.segs[1:] {
		switch x := v.(type) {
		case *types.AttributeValueMemberM:
			if s.isIndex {
				return nil, false
			}
			if v, ok = x.Value[s.key]; !ok || v == nil {
				return nil, false
			}
		case *types.AttributeValueMemberL:
			if !s.isIndex || s.index >= len(x.Value) {
				return nil, false
			}
			if v = x.Value[s.index]; v == nil {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return v, true
}

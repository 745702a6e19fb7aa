package search

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
)

// avEqual compares attribute values by type and serialized value (set
// members in canonical order).
func avEqual(a, b types.AttributeValue) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ab, at, aerr := ddbattr.Append(nil, a)
	bb, bt, berr := ddbattr.Append(nil, b)
	return aerr == nil && berr == nil && at == bt && string(ab) == string(bb)
}

// avString shows a value of test data.
func avString(v types.AttributeValue) string {
	switch x := v.(type) {
	case nil:
		return "<none>"
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S(%q)", x.Value)
	case *types.AttributeValueMemberN:
		return "N(" + x.Value + ")"
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS%q", x.Value)
	}
	return fmt.Sprintf("%T", v)
}

// diffItems lists the attributes whose values differ ("" when none do).
func diffItems(want, got Item) string {
	var b strings.Builder
	names := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	for _, k := range names {
		if !avEqual(want[k], got[k]) {
			fmt.Fprintf(&b, "%s: want %s, got %s\n", k, avString(want[k]), avString(got[k]))
		}
	}
	return b.String()
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

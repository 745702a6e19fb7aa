package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbexpr"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// ResultFilter drops the items a rewritten query returns only because their
// beacons collide with the queried ones (truncation gives false positives):
// it evaluates the caller's original conditions on each decrypted item.
type ResultFilter struct {
	s           *Search
	exprs       []ddbexpr.Expr  // the original conditions, beacon paths renamed
	used        map[string]bool // the beacons the conditions name
	needed      bool            // the query has beaconed values
	branchKeyID string          // multi-tenant: the expected branch key
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (r ResultFilter) String() string                { return r.redacted().String() }
func (r ResultFilter) GoString() string              { return r.redacted().GoString() }
func (r ResultFilter) Format(f fmt.State, verb rune) { r.redacted().Format(f, verb) }
func (r ResultFilter) LogValue() slog.Value          { return r.redacted().LogValue() }
func (r ResultFilter) MarshalJSON() ([]byte, error)  { return r.redacted().MarshalJSON() }
func (r ResultFilter) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("search.ResultFilter{%d conditions, keys: [redacted]}", len(r.exprs)))
}

// Keep reports whether the decrypted item matches the original key
// condition and filter, as the server would have decided on plaintext
// values. An error means the item cannot be evaluated (the DB-ESDK fails the
// whole query then). A nil filter keeps everything.
func (f *ResultFilter) Keep(plaintext Item) (bool, error) {
	if f == nil || !f.needed {
		return true, nil
	}
	aug := maps.Clone(plaintext)
	for _, b := range f.s.stdOrder {
		if !f.used[b.name] {
			continue
		}
		v, ok, err := f.s.nakedStandard(b, plaintext)
		if err != nil {
			return false, err
		}
		delete(aug, BeaconPrefix+b.name)
		if ok {
			aug[BeaconPrefix+b.name] = v
		}
	}
	for _, c := range f.s.cmpOrder {
		if !f.used[c.name] {
			continue
		}
		v, ok, err := f.s.compoundValue(c, plaintext, nil, 0)
		if err != nil {
			return false, err
		}
		delete(aug, BeaconPrefix+c.name)
		if ok {
			aug[BeaconPrefix+c.name] = &types.AttributeValueMemberS{Value: v}
		}
	}
	for _, e := range f.exprs {
		ok, err := ddbexpr.Eval(e, aug)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// KeyMatches reports whether an encrypted item returned by a multi-tenant
// query was encrypted under the query's branch key (the DB-ESDK discards
// the others). It is always true for a single key source or a query
// without beaconed values.
func (f *ResultFilter) KeyMatches(encrypted Item) bool {
	if f == nil || f.branchKeyID == "" {
		return true
	}
	id, err := BeaconKeyIDFromHeader(encrypted)
	return err == nil && id == f.branchKeyID
}

// nakedStandard is the plaintext a standard beacon hashes: the value at its
// location, or its virtual field as a string.
func (s *Search) nakedStandard(b *standard, item Item) (types.AttributeValue, bool, error) {
	if vf, ok := s.virt[b.loc.raw]; ok && b.loc.single() {
		str, ok, err := vf.eval(item)
		if !ok || err != nil {
			return nil, false, err
		}
		return &types.AttributeValueMemberS{Value: str}, true, nil
	}
	v, ok := b.loc.lookup(item)
	return v, ok, nil
}

// TransformQuery is the DB-ESDK's QueryInputForBeacons: it returns a copy
// of in whose KeyConditionExpression and FilterExpression use the stored
// beacons (a beacon name NAME becomes aws_dbe_b_NAME, each value compared
// with a beacon becomes its beacon value), and the filter to apply to the
// decrypted results. in is not modified. A beacon compared (=, <, <=, >,
// >=) with a plaintext attribute becomes, for the server, a test that both
// exist; the comparison itself is made by the ResultFilter on the decrypted
// item.
//
// The partition queried is the N value of ":aws_dbe_partition" in
// ExpressionAttributeValues (removed from the copy), 0 when absent; query
// each of 0..NumberOfQueries-1 to see every item.
//
// Refused before anything is sent, with a *QueryError: a condition on an
// EncryptAndSign attribute that has no beacon (ErrNoBeacon; only
// attribute_exists and attribute_not_exists may name it), an operator the
// beacon cannot answer (ErrOperator: <, <=, >, >=, <>, BETWEEN and
// begins_with on a standard beacon; <> on any beacon; a beacon as the
// second argument of contains or begins_with; two beacons compared; an ordering on a
// compound beacon value that is not LessThanComparable), a PartOnly beacon
// named directly, a value used with two beacons (or with a beacon and
// elsewhere), the legacy KeyConditions, QueryFilter and ConditionalOperator.
func (s *Search) TransformQuery(ctx context.Context, in *dynamodb.QueryInput) (*dynamodb.QueryInput, *ResultFilter, error) {
	if in == nil {
		return nil, nil, &QueryError{Err: errors.New("nil QueryInput")}
	}
	if len(in.KeyConditions) > 0 || len(in.QueryFilter) > 0 || in.ConditionalOperator != "" {
		return nil, nil, &QueryError{Err: errors.New("the legacy KeyConditions, QueryFilter and ConditionalOperator are not supported with beacons; use KeyConditionExpression and FilterExpression")}
	}
	out := *in
	key, filter, names, values, f, err := s.transform(ctx, in.KeyConditionExpression, in.FilterExpression, in.ProjectionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, true)
	if err != nil {
		return nil, nil, err
	}
	out.KeyConditionExpression, out.FilterExpression = key, filter
	out.ExpressionAttributeNames, out.ExpressionAttributeValues = names, values
	return &out, f, nil
}

// TransformScan is the DB-ESDK's ScanInputForBeacons: TransformQuery for a
// Scan's FilterExpression. With beacon partitions the filter matches every
// partition (one scan sees every item).
func (s *Search) TransformScan(ctx context.Context, in *dynamodb.ScanInput) (*dynamodb.ScanInput, *ResultFilter, error) {
	if in == nil {
		return nil, nil, &QueryError{Err: errors.New("nil ScanInput")}
	}
	if len(in.ScanFilter) > 0 || in.ConditionalOperator != "" {
		return nil, nil, &QueryError{Err: errors.New("the legacy ScanFilter and ConditionalOperator are not supported with beacons; use FilterExpression")}
	}
	out := *in
	_, filter, names, values, f, err := s.transform(ctx, nil, in.FilterExpression, in.ProjectionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, false)
	if err != nil {
		return nil, nil, err
	}
	out.FilterExpression = filter
	out.ExpressionAttributeNames, out.ExpressionAttributeValues = names, values
	return &out, f, nil
}

// NumberOfQueries is the DB-ESDK's GetNumberOfQueries: how many queries,
// with ":aws_dbe_partition" set to 0, 1, ..., together return every item
// the query matches: the least common multiple of the partition counts of
// the standard beacons in the key condition (compound beacons' encrypted
// parts included), at most the maximum number of partitions. It is 1
// without partitions.
func (s *Search) NumberOfQueries(in *dynamodb.QueryInput) (int, error) {
	if s.maxPart == 1 || in == nil || in.KeyConditionExpression == nil {
		return 1, nil
	}
	values := maps.Clone(in.ExpressionAttributeValues)
	delete(values, PartitionPlaceholder)
	e, err := ddbexpr.ParseKeyCondition(*in.KeyConditionExpression, in.ExpressionAttributeNames, values)
	if err != nil {
		return 0, &QueryError{Err: err}
	}
	n := 1
	ddbexpr.Walk(e, func(nd ddbexpr.Node) bool {
		var p *ddbexpr.Path
		var v *ddbexpr.Value
		switch x := nd.(type) {
		case *ddbexpr.Compare:
			p, _ = x.Left.(*ddbexpr.Path)
			v, _ = x.Right.(*ddbexpr.Value)
		case *ddbexpr.Call:
			if len(x.Args) == 2 {
				p, _ = x.Args[0].(*ddbexpr.Path)
				v, _ = x.Args[1].(*ddbexpr.Value)
			}
		case *ddbexpr.Between:
			p, _ = x.X.(*ddbexpr.Path)
			v, _ = x.Low.(*ddbexpr.Value)
		}
		if p == nil {
			return true
		}
		if b, ok := s.std[p.Top()]; ok {
			n = lcm(n, b.partitions)
		} else if c, ok := s.cmp[p.Top()]; ok && v != nil {
			if sv, ok := v.V.(*types.AttributeValueMemberS); ok {
				for _, piece := range strings.Split(sv.Value, c.split) {
					if pt := c.partFromPrefix(piece); pt != nil && pt.encrypted() {
						n = lcm(n, pt.std.partitions)
					}
				}
			}
		}
		return true
	})
	return min(n, s.maxPart), nil
}

func lcm(a, b int) int {
	g, h := a, b
	for h != 0 {
		g, h = h, g%h
	}
	return a / g * b
}

var projectionNames = regexp.MustCompile(`#[A-Za-z0-9_]+`)

// transform rewrites a key condition (query) and a filter.
func (s *Search) transform(ctx context.Context, keyExpr, filterExpr, projection *string, names map[string]string, values map[string]types.AttributeValue, isQuery bool) (key, filter *string, outNames map[string]string, outValues map[string]types.AttributeValue, rf *ResultFilter, err error) {
	values = maps.Clone(values)
	partition := 0
	if pv, ok := values[PartitionPlaceholder]; ok {
		nv, isN := pv.(*types.AttributeValueMemberN)
		var perr error
		if isN {
			partition, perr = strconv.Atoi(nv.Value)
		}
		if !isN || perr != nil || partition < 0 || partition >= s.maxPart {
			return nil, nil, nil, nil, nil, &QueryError{Placeholder: PartitionPlaceholder, Err: fmt.Errorf("must be a number 0..%d", s.maxPart-1)}
		}
		delete(values, PartitionPlaceholder)
	}
	var trees []ddbexpr.Expr
	var keyTree, filterTree ddbexpr.Expr
	if keyExpr != nil {
		if keyTree, err = ddbexpr.ParseKeyCondition(*keyExpr, names, values); err != nil {
			return nil, nil, nil, nil, nil, &QueryError{Err: err}
		}
		trees = append(trees, keyTree)
	}
	if filterExpr != nil {
		if filterTree, err = ddbexpr.Parse(*filterExpr, names, values); err != nil {
			return nil, nil, nil, nil, nil, &QueryError{Err: err}
		}
		trees = append(trees, filterTree)
	}
	rw := &rewriter{s: s, ctx: ctx}
	if s.keyField != "" {
		if rw.keyID, err = s.queryKeyID(trees); err != nil {
			return nil, nil, nil, nil, nil, err
		}
	} else {
		rw.keyID = s.singleKeyID
	}

	// The names a ProjectionExpression uses keep their placeholders.
	keep := map[string]string{}
	if projection != nil {
		for _, ph := range projectionNames.FindAllString(*projection, -1) {
			if v, ok := names[ph]; ok {
				keep[ph] = v
			}
		}
	}
	pr := ddbexpr.NewPrinter(keep, nil)
	rf = &ResultFilter{s: s}
	if keyTree != nil {
		t, err := rw.rewrite(keyTree, partition, true)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		k := pr.Format(t)
		key = &k
		rf.exprs = append(rf.exprs, rw.plain(keyTree))
	}
	if filterTree != nil {
		// With partitions, a query's filter must match every partition that
		// maps to this query's, a scan's every partition.
		n := 1
		if isQuery {
			if n, err = s.NumberOfQueries(&dynamodb.QueryInput{KeyConditionExpression: keyExpr, ExpressionAttributeNames: names, ExpressionAttributeValues: values}); err != nil {
				return nil, nil, nil, nil, nil, err
			}
		}
		var combined ddbexpr.Expr
		var seen []ddbexpr.Expr
		for x := partition % n; x < s.maxPart; x += n {
			t, err := rw.rewrite(filterTree, x, false)
			if err != nil {
				return nil, nil, nil, nil, nil, err
			}
			if slices.ContainsFunc(seen, func(o ddbexpr.Expr) bool { return ddbexpr.Equal(o, t) }) {
				continue
			}
			seen = append(seen, t)
			if combined == nil {
				combined = t
			} else {
				combined = &ddbexpr.Or{Left: combined, Right: t}
			}
			if !rw.partitioned {
				break // no beacon value depends on the partition
			}
		}
		fs := pr.Format(combined)
		filter = &fs
		rf.exprs = append(rf.exprs, rw.plain(filterTree))
	}
	rf.needed = rw.beaconed
	rf.used = map[string]bool{}
	for _, e := range rf.exprs {
		ddbexpr.Walk(e, func(n ddbexpr.Node) bool {
			if p, ok := n.(*ddbexpr.Path); ok && strings.HasPrefix(p.Top(), BeaconPrefix) {
				rf.used[strings.TrimPrefix(p.Top(), BeaconPrefix)] = true
			}
			return true
		})
	}
	if rf.needed && s.keyField != "" {
		rf.branchKeyID = rw.keyID
	}
	return key, filter, pr.Names(), pr.Values(), rf, nil
}

// rewriter rewrites one request's conditions.
type rewriter struct {
	s           *Search
	ctx         context.Context
	keyID       string
	keys        *hmacKeys
	beaconed    bool // some value was replaced by a beacon value
	partitioned bool // some beacon value depends on the partition
}

func (rw *rewriter) hmacKeys() (*hmacKeys, error) {
	if rw.keys != nil {
		return rw.keys, nil
	}
	if rw.keyID == "" {
		return nil, &QueryError{Err: fmt.Errorf("%w: the query names no branch key: compare the key field %q (or a signed part located at it) with a value", ErrBeaconKey, rw.s.keyField)}
	}
	k, err := rw.s.keys.get(rw.ctx, rw.keyID)
	if err != nil {
		return nil, err
	}
	rw.keys = k
	return k, nil
}

// beaconOf classifies a path: a standard or compound beacon name, an
// encrypted attribute without a beacon, or neither.
func (rw *rewriter) beaconOf(p *ddbexpr.Path) (*standard, *compound, error) {
	top := p.Top()
	if b, ok := rw.s.std[top]; ok {
		if b.partOnly {
			return nil, nil, &QueryError{Attribute: top, Err: fmt.Errorf("%w: a PartOnly beacon can only be queried as part of a compound beacon", ErrOperator)}
		}
		if len(p.Elems) > 1 {
			return nil, nil, &QueryError{Attribute: top, Err: fmt.Errorf("%w: a beacon has no nested paths", ErrOperator)}
		}
		return b, nil, nil
	}
	if c, ok := rw.s.cmp[top]; ok {
		if len(p.Elems) > 1 {
			return nil, nil, &QueryError{Attribute: top, Err: fmt.Errorf("%w: a beacon has no nested paths", ErrOperator)}
		}
		return nil, c, nil
	}
	if _, ok := rw.s.virt[top]; ok {
		return nil, nil, &QueryError{Attribute: top, Err: fmt.Errorf("%w: a virtual field is never stored; query a beacon over it", ErrNoBeacon)}
	}
	if rw.s.policy.Action(top) == actions.EncryptAndSign {
		return nil, nil, &QueryError{Attribute: top, Err: ErrNoBeacon}
	}
	return nil, nil, nil
}

// renamed is p with its top-level name replaced by the stored beacon's
// (the placeholder, if any, is kept: Format then changes the
// ExpressionAttributeNames entry).
func renamed(p *ddbexpr.Path, stored string) *ddbexpr.Path {
	elems := slices.Clone(p.Elems)
	elems[0].Name = stored
	return &ddbexpr.Path{Elems: elems}
}

// plain is e with beacon paths renamed as for the server but values left
// alone, for ResultFilter: Keep evaluates it on the item augmented with the
// plaintext of each beacon under the beacon's stored name.
func (rw *rewriter) plain(e ddbexpr.Expr) ddbexpr.Expr {
	out, err := ddbexpr.Rewrite(e, func(n ddbexpr.Node) (ddbexpr.Node, error) {
		if c, ok := n.(*ddbexpr.Call); ok && (c.Func == ddbexpr.FuncAttributeExists || c.Func == ddbexpr.FuncAttributeNotExists) {
			return n, nil
		}
		switch x := n.(type) {
		case *ddbexpr.Compare:
			x.Left, x.Right = rw.plainOperand(x.Left), rw.plainOperand(x.Right)
		case *ddbexpr.Between:
			x.X = rw.plainOperand(x.X)
		case *ddbexpr.In:
			x.X = rw.plainOperand(x.X)
		case *ddbexpr.Call:
			if x.Func == ddbexpr.FuncBeginsWith || x.Func == ddbexpr.FuncContains {
				orig := x.Args[0]
				x.Args = slices.Clone(x.Args)
				x.Args[0] = rw.plainOperand(x.Args[0])
				if p, ok := orig.(*ddbexpr.Path); ok && x.Func == ddbexpr.FuncBeginsWith && len(p.Elems) == 1 {
					if c, ok := rw.s.cmp[p.Top()]; ok {
						return c.prefixCond(x.Args[0], x.Args[1]), nil
					}
				}
			}
		}
		return n, nil
	})
	if err != nil {
		panic("search: renaming a validated tree failed: " + err.Error())
	}
	return out
}

func (rw *rewriter) plainOperand(o ddbexpr.Operand) ddbexpr.Operand {
	p, ok := o.(*ddbexpr.Path)
	if !ok || len(p.Elems) != 1 {
		return o
	}
	if _, ok := rw.s.std[p.Top()]; ok {
		return renamed(p, BeaconPrefix+p.Top())
	}
	if _, ok := rw.s.cmp[p.Top()]; ok {
		return renamed(p, BeaconPrefix+p.Top())
	}
	return o
}

// rewrite returns a copy of e for the server, in partition partition.
func (rw *rewriter) rewrite(e ddbexpr.Expr, partition int, isKey bool) (ddbexpr.Expr, error) {
	out, err := ddbexpr.Rewrite(e, func(n ddbexpr.Node) (ddbexpr.Node, error) {
		switch x := n.(type) {
		case *ddbexpr.Compare:
			return rw.compare(x, partition)
		case *ddbexpr.Between:
			return rw.between(x, partition)
		case *ddbexpr.In:
			return rw.in(x, partition)
		case *ddbexpr.Call:
			return rw.call(x, partition)
		case *ddbexpr.Not:
			// NOT turns a beacon's false positives into false negatives,
			// which no filter after the fact can restore.
			var under string
			ddbexpr.Walk(x.X, func(n ddbexpr.Node) bool {
				if p, ok := n.(*ddbexpr.Path); ok && strings.HasPrefix(p.Top(), BeaconPrefix) && under == "" {
					under = strings.TrimPrefix(p.Top(), BeaconPrefix)
				}
				return true
			})
			if under != "" {
				return nil, &QueryError{Attribute: under, Err: fmt.Errorf("%w: NOT over a condition on a beacon (colliding beacons would hide matching items)", ErrOperator)}
			}
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	// One placeholder, one value: a value beaconed for two beacons, or
	// for a beacon and used elsewhere, is refused (it would link them).
	bound := map[string]types.AttributeValue{}
	var clash string
	ddbexpr.Walk(out, func(n ddbexpr.Node) bool {
		if v, ok := n.(*ddbexpr.Value); ok && v.Placeholder != "" {
			if prev, ok := bound[v.Placeholder]; ok && !sameValue(prev, v.V) && clash == "" {
				clash = v.Placeholder
			}
			bound[v.Placeholder] = v.V
		}
		return true
	})
	if clash != "" {
		return nil, &QueryError{Placeholder: clash, Err: fmt.Errorf("%w: the value is used in two contexts (two beacons, or a beacon and another attribute); give each its own placeholder", ErrOperator)}
	}
	return out, nil
}

func sameValue(a, b types.AttributeValue) bool {
	if a == b {
		return true
	}
	as, ok1 := a.(*types.AttributeValueMemberS)
	bs, ok2 := b.(*types.AttributeValueMemberS)
	if ok1 && ok2 {
		return as.Value == bs.Value
	}
	ass, ok1 := a.(*types.AttributeValueMemberSS)
	bss, ok2 := b.(*types.AttributeValueMemberSS)
	return ok1 && ok2 && slices.Equal(ass.Value, bss.Value)
}

// operandBeacon classifies an operand that is not a value.
func (rw *rewriter) operandBeacon(o ddbexpr.Operand) (*ddbexpr.Path, *standard, *compound, error) {
	switch x := o.(type) {
	case *ddbexpr.Path:
		b, c, err := rw.beaconOf(x)
		return x, b, c, err
	case *ddbexpr.Call: // size(path)
		if len(x.Args) == 1 {
			if p, ok := x.Args[0].(*ddbexpr.Path); ok {
				b, c, err := rw.beaconOf(p)
				if err != nil {
					return nil, nil, nil, err
				}
				if b != nil || c != nil {
					return nil, nil, nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: size() of a beacon", ErrOperator)}
				}
			}
		}
	}
	return nil, nil, nil, nil
}

func (rw *rewriter) compare(x *ddbexpr.Compare, partition int) (ddbexpr.Node, error) {
	lp, lb, lc, err := rw.operandBeacon(x.Left)
	if err != nil {
		return nil, err
	}
	rp, rb, rc, err := rw.operandBeacon(x.Right)
	if err != nil {
		return nil, err
	}
	lBeacon, rBeacon := lb != nil || lc != nil, rb != nil || rc != nil
	if !lBeacon && !rBeacon {
		return x, nil
	}
	path, b, c, other, op := lp, lb, lc, x.Right, x.Op
	if !lBeacon {
		path, b, c, other, op = rp, rb, rc, x.Left, flip(x.Op)
	}
	if op == ddbexpr.OpNe {
		return nil, &QueryError{Attribute: path.Top(), Err: fmt.Errorf("%w: <> on a beacon (colliding beacons would hide matching items)", ErrOperator)}
	}
	if op2, ok := other.(*ddbexpr.Path); ok && !(lBeacon && rBeacon) {
		// A beacon compared with a plaintext attribute (the DB-ESDK
		// vectors' "cmp1c < Comp1"): the server cannot compare a beacon
		// with a plaintext value, but the comparison is false unless both
		// exist, so the server gets that and the ResultFilter the
		// comparison itself, on the decrypted item.
		rw.beaconed = true
		return &ddbexpr.And{
			Left:  &ddbexpr.Call{Func: ddbexpr.FuncAttributeExists, Args: []ddbexpr.Operand{renamed(path, rw.storedName(b, c))}},
			Right: &ddbexpr.Call{Func: ddbexpr.FuncAttributeExists, Args: []ddbexpr.Operand{op2}},
		}, nil
	}
	v, ok := other.(*ddbexpr.Value)
	if !ok || (lBeacon && rBeacon) {
		return nil, &QueryError{Attribute: path.Top(), Err: fmt.Errorf("%w: a beacon can only be compared with a value or a plaintext attribute", ErrOperator)}
	}
	var nv types.AttributeValue
	stored := ""
	if b != nil {
		if op != ddbexpr.OpEq {
			return nil, &QueryError{Attribute: path.Top(), Err: fmt.Errorf("%w: %s on a standard beacon (only =, IN and contains on sets)", ErrOperator, op)}
		}
		if nv, err = rw.standardValue(b, v, false, partition); err != nil {
			return nil, err
		}
		stored = BeaconPrefix + b.name
	} else {
		str, err := compoundString(c, v)
		if err != nil {
			return nil, err
		}
		if op != ddbexpr.OpEq {
			if ok, err := c.lessThanComparable(strings.Split(str, c.split)); err != nil || !ok {
				return nil, &QueryError{Attribute: c.name, Placeholder: v.Placeholder, Err: fmt.Errorf("%w: %s on a compound beacon needs a value of signed parts, optionally ending with an encrypted part's bare prefix", ErrOperator, op)}
			}
		}
		if nv, err = rw.compoundValue(c, v, op == ddbexpr.OpEq, partition); err != nil {
			return nil, err
		}
		stored = c.storedName()
	}
	np, nval := renamed(path, stored), &ddbexpr.Value{Placeholder: v.Placeholder, V: nv}
	if lBeacon {
		return &ddbexpr.Compare{Op: x.Op, Left: np, Right: nval}, nil
	}
	return &ddbexpr.Compare{Op: x.Op, Left: nval, Right: np}, nil
}

// storedName is the attribute a standard (b) or compound (c) beacon is
// stored as.
func (rw *rewriter) storedName(b *standard, c *compound) string {
	if b != nil {
		return BeaconPrefix + b.name
	}
	return c.storedName()
}

func flip(op ddbexpr.CompareOp) ddbexpr.CompareOp {
	switch op {
	case ddbexpr.OpLt:
		return ddbexpr.OpGt
	case ddbexpr.OpLe:
		return ddbexpr.OpGe
	case ddbexpr.OpGt:
		return ddbexpr.OpLt
	case ddbexpr.OpGe:
		return ddbexpr.OpLe
	}
	return op
}

func (rw *rewriter) between(x *ddbexpr.Between, partition int) (ddbexpr.Node, error) {
	p, b, c, err := rw.operandBeacon(x.X)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := rw.operandBeacon(x.Low); err != nil {
		return nil, err
	}
	if _, _, _, err := rw.operandBeacon(x.High); err != nil {
		return nil, err
	}
	if b == nil && c == nil {
		if lp, lb, lc, _ := rw.operandBeacon(x.Low); lb != nil || lc != nil {
			return nil, &QueryError{Attribute: lp.Top(), Err: fmt.Errorf("%w: a beacon as a BETWEEN bound", ErrOperator)}
		}
		if hp, hb, hc, _ := rw.operandBeacon(x.High); hb != nil || hc != nil {
			return nil, &QueryError{Attribute: hp.Top(), Err: fmt.Errorf("%w: a beacon as a BETWEEN bound", ErrOperator)}
		}
		return x, nil
	}
	if b != nil {
		return nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: BETWEEN on a standard beacon", ErrOperator)}
	}
	lo, ok1 := x.Low.(*ddbexpr.Value)
	hi, ok2 := x.High.(*ddbexpr.Value)
	if !ok1 || !ok2 {
		return nil, &QueryError{Attribute: c.name, Err: fmt.Errorf("%w: BETWEEN bounds of a beacon must be values", ErrOperator)}
	}
	ls, err := compoundString(c, lo)
	if err != nil {
		return nil, err
	}
	hs, err := compoundString(c, hi)
	if err != nil {
		return nil, err
	}
	l, h := strings.Split(ls, c.split), strings.Split(hs, c.split)
	i := 0
	for i < len(l) && i < len(h) && l[i] == h[i] {
		i++
	}
	okL, errL := c.lessThanComparable(l[i:])
	okH, errH := c.lessThanComparable(h[i:])
	if errL != nil || errH != nil || !okL || !okH {
		return nil, &QueryError{Attribute: c.name, Err: fmt.Errorf("%w: BETWEEN on a compound beacon needs bounds whose parts after a common start are LessThanComparable", ErrOperator)}
	}
	nlo, err := rw.compoundValue(c, lo, false, partition)
	if err != nil {
		return nil, err
	}
	nhi, err := rw.compoundValue(c, hi, false, partition)
	if err != nil {
		return nil, err
	}
	return &ddbexpr.Between{X: renamed(p, c.storedName()), Low: &ddbexpr.Value{Placeholder: lo.Placeholder, V: nlo}, High: &ddbexpr.Value{Placeholder: hi.Placeholder, V: nhi}}, nil
}

func (rw *rewriter) in(x *ddbexpr.In, partition int) (ddbexpr.Node, error) {
	p, b, c, err := rw.operandBeacon(x.X)
	if err != nil {
		return nil, err
	}
	for _, o := range x.List {
		if op, ob, oc, err := rw.operandBeacon(o); err != nil {
			return nil, err
		} else if ob != nil || oc != nil {
			return nil, &QueryError{Attribute: op.Top(), Err: fmt.Errorf("%w: a beacon in an IN list", ErrOperator)}
		}
	}
	if b == nil && c == nil {
		return x, nil
	}
	out := &ddbexpr.In{}
	for _, o := range x.List {
		v, ok := o.(*ddbexpr.Value)
		if !ok {
			return nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: IN on a beacon needs values", ErrOperator)}
		}
		var nv types.AttributeValue
		if b != nil {
			nv, err = rw.standardValue(b, v, false, partition)
		} else {
			nv, err = rw.compoundValue(c, v, true, partition)
		}
		if err != nil {
			return nil, err
		}
		out.List = append(out.List, &ddbexpr.Value{Placeholder: v.Placeholder, V: nv})
	}
	if b != nil {
		out.X = renamed(p, BeaconPrefix+b.name)
	} else {
		out.X = renamed(p, c.storedName())
	}
	return out, nil
}

func (rw *rewriter) call(x *ddbexpr.Call, partition int) (ddbexpr.Node, error) {
	switch x.Func {
	case ddbexpr.FuncAttributeExists, ddbexpr.FuncAttributeNotExists:
		return x, nil // the encrypted attribute itself exists or not
	case ddbexpr.FuncSize:
		if _, _, _, err := rw.operandBeacon(x); err != nil {
			return nil, err
		}
		return x, nil
	case ddbexpr.FuncAttributeType:
		if p, ok := x.Args[0].(*ddbexpr.Path); ok {
			b, c, err := rw.beaconOf(p)
			if err != nil {
				return nil, err
			}
			if b != nil || c != nil {
				return nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: attribute_type of a beacon", ErrOperator)}
			}
		}
		return x, nil
	}
	// begins_with, contains
	p, b, c, err := rw.operandBeacon(x.Args[0])
	if err != nil {
		return nil, err
	}
	if ap, ab, ac, err := rw.operandBeacon(x.Args[1]); err != nil {
		return nil, err
	} else if ab != nil || ac != nil {
		return nil, &QueryError{Attribute: ap.Top(), Err: fmt.Errorf("%w: a beacon as the second argument of %s", ErrOperator, x.Func)}
	}
	if b == nil && c == nil {
		return x, nil
	}
	v, ok := x.Args[1].(*ddbexpr.Value)
	if !ok {
		return nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: %s on a beacon needs a value", ErrOperator, x.Func)}
	}
	var nv types.AttributeValue
	stored := ""
	if b != nil {
		if x.Func == ddbexpr.FuncBeginsWith || !b.asSet {
			return nil, &QueryError{Attribute: p.Top(), Err: fmt.Errorf("%w: %s on a standard beacon (contains only on an AsSet beacon)", ErrOperator, x.Func)}
		}
		if nv, err = rw.standardValue(b, v, true, partition); err != nil {
			return nil, err
		}
		stored = BeaconPrefix + b.name
	} else {
		if nv, err = rw.compoundValue(c, v, false, partition); err != nil {
			return nil, err
		}
		stored = c.storedName()
	}
	return &ddbexpr.Call{Func: x.Func, Args: []ddbexpr.Operand{renamed(p, stored), &ddbexpr.Value{Placeholder: v.Placeholder, V: nv}}}, nil
}

// standardValue is the beacon value of a query value for a standard
// beacon (the DB-ESDK's GetBeaconValue).
func (rw *rewriter) standardValue(b *standard, v *ddbexpr.Value, forContains bool, partition int) (types.AttributeValue, error) {
	keys, err := rw.hmacKeys()
	if err != nil {
		return nil, err
	}
	rw.beaconed = true
	if b.partitions > 1 {
		rw.partitioned = true
	}
	isScalar := false
	switch v.V.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberN, *types.AttributeValueMemberB:
		isScalar = true
	}
	if (b.asSet && !isScalar) || (forContains && !isScalar) {
		set, err := b.setValue(v.V, keys, partition)
		if err != nil {
			return nil, &QueryError{Attribute: b.name, Placeholder: v.Placeholder, Err: err}
		}
		return set, nil
	}
	data, err := valueBytes(v.V)
	if err != nil {
		return nil, &QueryError{Attribute: b.name, Placeholder: v.Placeholder, Err: err}
	}
	return &types.AttributeValueMemberS{Value: b.hashBytes(keys, data, partition)}, nil
}

func compoundString(c *compound, v *ddbexpr.Value) (string, error) {
	sv, ok := v.V.(*types.AttributeValueMemberS)
	if !ok {
		return "", &QueryError{Attribute: c.name, Placeholder: v.Placeholder, Err: fmt.Errorf("%w: a compound beacon is compared with strings only", ErrOperator)}
	}
	return sv.Value, nil
}

// compoundValue is the beacon value of a query value for a compound beacon:
// each piece's part found by prefix, the order checked against the
// constructors, each encrypted piece replaced by its beacon; a last piece
// that is a bare prefix stays as is unless forEquality.
func (rw *rewriter) compoundValue(c *compound, v *ddbexpr.Value, forEquality bool, partition int) (types.AttributeValue, error) {
	str, err := compoundString(c, v)
	if err != nil {
		return nil, err
	}
	pieces := strings.Split(str, c.split)
	parts := make([]*part, len(pieces))
	for i, piece := range pieces {
		if parts[i] = c.partFromPrefix(piece); parts[i] == nil {
			return nil, &QueryError{Attribute: c.name, Placeholder: v.Placeholder, Err: fmt.Errorf("%w: piece %d matches the prefix of no part", ErrOperator, i+1)}
		}
	}
	if !c.canConstruct(parts) {
		return nil, &QueryError{Attribute: c.name, Placeholder: v.Placeholder, Err: fmt.Errorf("%w: the parts of the value are in an order no constructor builds", ErrOperator)}
	}
	var keys *hmacKeys
	var b strings.Builder
	for i, piece := range pieces {
		if i > 0 {
			b.WriteString(c.split)
		}
		p := parts[i]
		if !p.encrypted() || (i == len(pieces)-1 && !forEquality && piece == p.prefix) {
			b.WriteString(piece)
			continue
		}
		if keys == nil {
			if keys, err = rw.hmacKeys(); err != nil {
				return nil, err
			}
		}
		rw.beaconed = true
		if p.std.partitions > 1 {
			rw.partitioned = true
		}
		b.WriteString(p.value(piece[len(p.prefix):], keys, partition))
	}
	if c.signed {
		rw.beaconed = true // signed beacons are filtered too (the server compares them exactly, but cheaply)
	}
	return &types.AttributeValueMemberS{Value: b.String()}, nil
}

// prefixCond is the exact plaintext condition of begins_with(path, v) on
// compound beacon c. The server compares beacons, and an encrypted piece's
// beacon matches only the whole value it was made from: a value whose last
// piece is an encrypted part's prefix and plaintext matches a stored value
// equal to it or continuing with the split character, not one whose
// encrypted value merely begins alike (begins_with on "E-ann" must not
// keep "E-anna"). A last piece that is a signed value, or an encrypted
// part's bare prefix, is a plain begins_with.
func (c *compound) prefixCond(path, v ddbexpr.Operand) ddbexpr.Expr {
	plain := &ddbexpr.Call{Func: ddbexpr.FuncBeginsWith, Args: []ddbexpr.Operand{path, v}}
	val, ok := v.(*ddbexpr.Value)
	if !ok {
		return plain
	}
	sv, ok := val.V.(*types.AttributeValueMemberS)
	if !ok {
		return plain
	}
	last := sv.Value[strings.LastIndex(sv.Value, c.split)+1:]
	if p := c.partFromPrefix(last); p == nil || !p.encrypted() || last == p.prefix {
		return plain
	}
	more := &ddbexpr.Value{V: &types.AttributeValueMemberS{Value: sv.Value + c.split}}
	return &ddbexpr.Or{
		Left:  &ddbexpr.Compare{Op: ddbexpr.OpEq, Left: path, Right: v},
		Right: &ddbexpr.Call{Func: ddbexpr.FuncBeginsWith, Args: []ddbexpr.Operand{path, more}},
	}
}

// canConstruct reports whether some constructor builds parts in this order
// (the DB-ESDK's IsValidPartOrder: a value may start anywhere in a
// constructor, then skip only optional parts).
func (c *compound) canConstruct(parts []*part) bool {
	var can func(con []ctorPart, in []*part, matched bool) bool
	can = func(con []ctorPart, in []*part, matched bool) bool {
		switch {
		case len(in) == 0:
			return true
		case len(con) == 0:
			return false
		case con[0].p == in[0]:
			return can(con[1:], in[1:], true)
		case !con[0].required || !matched:
			return can(con[1:], in, matched)
		}
		return false
	}
	for _, ct := range c.ctors {
		if can(ct, parts, false) {
			return true
		}
	}
	return false
}

// lessThanComparable: zero or more signed pieces, optionally followed by a
// lone encrypted part's bare prefix.
func (c *compound) lessThanComparable(pieces []string) (bool, error) {
	i := 0
	for ; i < len(pieces); i++ {
		p := c.partFromPrefix(pieces[i])
		if p == nil {
			return false, errors.New("no part")
		}
		if p.encrypted() {
			break
		}
	}
	rest := pieces[i:]
	switch len(rest) {
	case 0:
		return true, nil
	case 1:
		return c.partFromPrefix(rest[0]).prefix == rest[0], nil
	}
	return false, nil
}

// queryKeyID finds the branch key a multi-tenant query names: the value
// compared with the key field, or the piece of a compound beacon value
// belonging to its one signed part located at the key field. Several
// different ids are an error; none is "" (a query that then needs a key
// fails).
func (s *Search) queryKeyID(trees []ddbexpr.Expr) (string, error) {
	var ids []string
	add := func(p ddbexpr.Operand, v ddbexpr.Operand) {
		path, ok1 := p.(*ddbexpr.Path)
		val, ok2 := v.(*ddbexpr.Value)
		if !ok1 || !ok2 {
			return
		}
		sv, ok := val.V.(*types.AttributeValueMemberS)
		if !ok {
			return
		}
		id := ""
		if path.Top() == s.keyField && len(path.Elems) == 1 {
			id = sv.Value
		} else if c, ok := s.cmp[path.Top()]; ok {
			var kp *part
			n := 0
			for _, pt := range c.parts {
				if !pt.encrypted() && pt.loc.top() == s.keyField {
					kp, n = pt, n+1
				}
			}
			if n != 1 {
				return
			}
			var found []string
			for _, piece := range strings.Split(sv.Value, c.split) {
				if strings.HasPrefix(piece, kp.prefix) {
					found = append(found, piece[len(kp.prefix):])
				}
			}
			if len(found) == 1 {
				id = found[0]
			}
		}
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, t := range trees {
		ddbexpr.Walk(t, func(n ddbexpr.Node) bool {
			switch x := n.(type) {
			case *ddbexpr.Compare:
				add(x.Left, x.Right)
				add(x.Right, x.Left)
			case *ddbexpr.Between:
				add(x.X, x.Low)
				add(x.X, x.High)
			case *ddbexpr.In:
				for _, o := range x.List {
					add(x.X, o)
				}
			case *ddbexpr.Call:
				if len(x.Args) == 2 && (x.Func == ddbexpr.FuncBeginsWith || x.Func == ddbexpr.FuncContains) {
					add(x.Args[0], x.Args[1])
				}
			}
			return true
		})
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", &QueryError{Attribute: s.keyField, Err: fmt.Errorf("%w: the query names %d different branch keys; a query reads one tenant", ErrBeaconKey, len(ids))}
}

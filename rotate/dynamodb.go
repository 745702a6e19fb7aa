package rotate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// dynamoStore is a DynamoDB table; its segments are those of a parallel
// Scan, which DynamoDB itself defines.
type dynamoStore struct {
	api      API
	table    string
	pageSize int32
	pk, sk   string
	segments int
	search   *search.Search        // Config.TargetSearch; nil keeps the beacons
	target   *itemcrypto.Encryptor // Config.Target
}

var _ store = (*dynamoStore)(nil)

func (d *dynamoStore) ident() string { return d.table }

func (d *dynamoStore) keyString(k Key) string { return k.String() }

func (d *dynamoStore) open(ctx context.Context, pk, sk string) (itemcrypto.Item, int64, error) {
	d.pk, d.sk = pk, sk
	out, err := d.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.table)})
	if err != nil {
		return nil, 0, fmt.Errorf("rotate: DescribeTable %s: %w", d.table, err)
	}
	probe, err := d.checkSchema(out.Table)
	if err != nil {
		return nil, 0, err
	}
	return probe, aws.ToInt64(out.Table.ItemCount), nil
}

// TableKeys returns the partition and sort key names of a table
// description ("" for a key it does not have).
func TableKeys(t *types.TableDescription) (partition, sort string) {
	for _, k := range t.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			partition = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			sort = aws.ToString(k.AttributeName)
		}
	}
	return partition, sort
}

// checkSchema checks that the policies name the table's keys and returns
// a probe item: key attributes of the right types.
func (d *dynamoStore) checkSchema(t *types.TableDescription) (itemcrypto.Item, error) {
	if t == nil {
		return nil, fmt.Errorf("rotate: DescribeTable %s returned no table", d.table)
	}
	hash, rng := TableKeys(t)
	if hash != d.pk || rng != d.sk {
		return nil, fmt.Errorf("rotate: table %s has partition key %q and sort key %q, but the policies name %q and %q",
			d.table, hash, rng, d.pk, d.sk)
	}
	probe := itemcrypto.Item{}
	for _, def := range t.AttributeDefinitions {
		name := aws.ToString(def.AttributeName)
		if name != d.pk && name != d.sk {
			continue
		}
		switch def.AttributeType {
		case types.ScalarAttributeTypeS:
			probe[name] = &types.AttributeValueMemberS{Value: "itemcrypto-rotate-probe"}
		case types.ScalarAttributeTypeN:
			probe[name] = &types.AttributeValueMemberN{Value: "0"}
		case types.ScalarAttributeTypeB:
			probe[name] = &types.AttributeValueMemberB{Value: []byte("itemcrypto-rotate-probe")}
		}
	}
	for _, k := range []string{d.pk, d.sk} {
		if _, ok := probe[k]; k != "" && !ok {
			return nil, fmt.Errorf("rotate: DescribeTable %s does not define the type of key %q", d.table, k)
		}
	}
	return probe, nil
}

// count counts the table's items with an eventually consistent
// Select=COUNT scan.
func (d *dynamoStore) count(ctx context.Context, wait func(context.Context) error) (int64, error) {
	p := dynamodb.NewScanPaginator(d.api, &dynamodb.ScanInput{
		TableName: aws.String(d.table),
		Select:    types.SelectCount,
	})
	var n int64
	for p.HasMorePages() {
		if err := wait(ctx); err != nil { // a count page reads up to 1 MB: one token
			return 0, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("rotate: counting the items of %s: %w", d.table, err)
		}
		n += int64(page.Count)
	}
	return n, nil
}

// plan needs nothing: DynamoDB splits a table into the segments of a
// parallel Scan the same way for every process.
func (d *dynamoStore) plan(_ context.Context, n int, _ string) error {
	d.segments = n
	return nil
}

type dynamoPager struct {
	d   *dynamoStore
	seg int
	p   *dynamodb.ScanPaginator
}

func (d *dynamoStore) pages(seg int, after Key) pager {
	in := &dynamodb.ScanInput{
		TableName:         aws.String(d.table),
		ConsistentRead:    aws.Bool(true),
		ExclusiveStartKey: after,
	}
	if d.segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(d.segments))
	}
	if d.pageSize > 0 {
		in.Limit = aws.Int32(d.pageSize)
	}
	return &dynamoPager{d: d, seg: seg, p: dynamodb.NewScanPaginator(d.api, in)}
}

func (p *dynamoPager) next(ctx context.Context) ([]record, Key, bool, error) {
	page, err := p.p.NextPage(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("rotate: Scan %s segment %d: %w", p.d.table, p.seg, err)
	}
	recs := make([]record, len(page.Items))
	for i, item := range page.Items {
		recs[i] = record{key: p.d.keyOf(item), item: item}
	}
	return recs, page.LastEvaluatedKey, len(page.LastEvaluatedKey) == 0, nil
}

func (d *dynamoStore) keyOf(item itemcrypto.Item) Key {
	k := Key{d.pk: item[d.pk]}
	if d.sk != "" {
		k[d.sk] = item[d.sk]
	}
	return k
}

// targetExtra is the target's beacons (Config.TargetSearch): a rotation to
// other beacons is another rotation. Without TargetSearch the beacons are
// kept as they are, whatever they are: "".
func (d *dynamoStore) targetExtra(ctx context.Context) (string, error) {
	if d.search == nil {
		return "", nil
	}
	id, err := d.search.BeaconIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate: %s: the target's beacons: %w", d.table, err)
	}
	return "dynamodb-beacons:" + id, nil
}

// frame: the item as the target encrypted it (with the beacons keepBeacons
// copied, or those Config.TargetSearch computed).
func (d *dynamoStore) frame(_ context.Context, _ record, _, next itemcrypto.Item) (written, error) {
	return written{item: next}, nil
}

// refresh: without Config.TargetSearch a current item is left as it is
// (its beacons are kept, not recomputed). With it, a current item whose
// stored beacons (aws_dbe_b_<name>, aws_dbe_v_1) differ from those the
// target computes for plain gets exactly the target's; one that lacks a
// signed beacon (a signed attribute) is encrypted anew.
func (d *dynamoStore) refresh(ctx context.Context, rec record, plain itemcrypto.Item) (written, bool, error) {
	if d.search == nil {
		return written{}, false, nil
	}
	signed, err := d.search.AddSignedBeacons(plain)
	if err != nil {
		return written{}, false, err
	}
	for _, name := range d.search.SignedBeacons() {
		if _, want := signed[name]; want && plain[name] == nil {
			next, err := d.search.Protect(ctx, plain, d.target.Encrypt)
			if err != nil {
				return written{}, false, err
			}
			return written{item: next}, true, nil
		}
	}
	next := make(itemcrypto.Item, len(rec.item))
	old := itemcrypto.Item{}
	for name, v := range rec.item {
		if isStoredBeacon(name) {
			old[name] = v
		} else {
			next[name] = v
		}
	}
	// In any partition the item may have been written in: without a
	// partition selector EncryptedBeacons picks one at random.
	if current, err := d.search.BeaconsCurrent(ctx, plain, next, old); err != nil || current {
		return written{}, false, err
	}
	beacons, err := d.search.EncryptedBeacons(ctx, plain, next)
	if err != nil {
		return written{}, false, err
	}
	maps.Copy(next, beacons)
	return written{item: next}, true, nil
}

// isStoredBeacon reports whether name is a beacon attribute outside the
// signature: aws_dbe_b_<name> or the version tag.
func isStoredBeacon(name string) bool {
	return strings.HasPrefix(name, search.BeaconPrefix) || name == search.VersionTag
}

// writeBack replaces the protected attributes of the stored item by those
// of next, on condition that the item still has the reserved attributes
// (signature and description, or DB-ESDK header and footer) it was read
// with.
//
// It is an UpdateItem that sets every attribute the rotation owns and
// leaves the others alone, so a concurrent change to a DoNothing attribute
// (which leaves the signature as it is) survives too. When the update
// expression would exceed DynamoDB's 4 KB limit (hundreds of protected
// attributes), it falls back to a conditional PutItem of the whole item,
// which can undo such a concurrent DoNothing change.
func (d *dynamoStore) writeBack(ctx context.Context, rec record, w written, reserved []string, protected func(string) bool) (outcome, *Issue, error) {
	old, key, next := rec.item, rec.key, w.item
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var conds []string
	for _, name := range reserved {
		if v, ok := old[name]; ok {
			n, vn := "#c"+strconv.Itoa(len(conds)), ":c"+strconv.Itoa(len(conds))
			names[n], values[vn] = name, v
			conds = append(conds, n+" = "+vn)
		}
	}
	if len(conds) == 0 { // Decrypt verified the item: cannot happen
		return 0, nil, errors.New("rotate: internal error: verified item without reserved attributes")
	}
	cond := strings.Join(conds, " AND ")
	condNames, condValues := maps.Clone(names), maps.Clone(values)
	var set, remove []string
	for _, name := range sortedKeys(next) {
		if name == d.pk || name == d.sk || !protected(name) {
			continue
		}
		n, v := "#"+strconv.Itoa(len(names)), ":"+strconv.Itoa(len(values))
		names[n], values[v] = name, next[name]
		set = append(set, n+"="+v)
	}
	for _, name := range sortedKeys(old) {
		if _, ok := next[name]; ok || !protected(name) {
			continue
		}
		n := "#" + strconv.Itoa(len(names))
		names[n] = name
		remove = append(remove, n)
	}
	expr := "SET " + strings.Join(set, ",")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ",")
	}
	var err error
	if len(expr) <= maxExpression {
		_, err = d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(d.table),
			Key:                       key,
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
	} else {
		_, err = d.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(d.table),
			Item:                      next,
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  condNames,
			ExpressionAttributeValues: condValues,
		})
	}
	if err == nil {
		return outRotated, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return outConflict, &Issue{Key: key, Reason: conflictReason}, nil
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		// This item cannot be written (too large under the target, say).
		return outFailed, &Issue{Key: key, Reason: "writing it back: " + api.ErrorMessage()}, nil
	}
	return 0, nil, fmt.Errorf("rotate: writing item %v back to %s: %w", key, d.table, err)
}

// conflictReason is the Issue.Reason of a conflict.
const conflictReason = "changed or deleted by another writer since it was read: left as that writer left it"

package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// API is the part of the DynamoDB client that Run uses, with the SDK's
// signatures: *dynamodb.Client satisfies it.
type API interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Config is one rotation.
type Config struct {
	// Table is the DynamoDB table to rotate. Required.
	Table string
	// Source reads the items as they are stored now. Required.
	Source *itemcrypto.Encryptor
	// Target writes them anew. Required. Source and Target must name the
	// table's key attributes; their policies may differ.
	Target *itemcrypto.Encryptor
	// IsCurrent, when set, decides which stored items are already written
	// under the target's current key, instead of comparing material
	// descriptions (see the package documentation). An item it accepts
	// must still verify under Target, or it is treated as any other item.
	IsCurrent func(stored itemcrypto.Item) bool
	// Checkpoint is the file that records progress, so that an interrupted
	// run resumes; "" keeps none.
	Checkpoint string
	// DryRun verifies every item (and encrypts those to rotate under the
	// target) but writes nothing, checkpoints aside.
	DryRun bool
	// RateLimit bounds the items processed per second over all segments;
	// 0 means no limit.
	RateLimit float64
	// Segments is the number of parallel Scan segments; 0 means
	// DefaultSegments.
	Segments int
	// PageSize is the Limit of each Scan request; 0 leaves it to DynamoDB
	// (1 MB pages).
	PageSize int32
	// NoCount skips counting the items with a Select=COUNT scan when
	// DescribeTable reports none (DynamoDB refreshes its count about every
	// six hours; dynalite always reports 0). Stats.Total is then 0 when
	// the count is unknown.
	NoCount bool
	// Progress, when set, is called after every item with the counts so
	// far (the key lists left out). Calls are never concurrent; keep it
	// fast, it holds up the segments.
	Progress func(Stats)
}

// DefaultSegments is the number of parallel Scan segments when
// Config.Segments is 0.
const DefaultSegments = 4

// MaxListed bounds the conflicts and the failures Stats lists with their
// keys; the counts stay exact.
const MaxListed = 1000

// ErrInterrupted is returned when ctx was cancelled before the table was
// done. The checkpoint (if any) has been written: rerun to resume.
var ErrInterrupted = errors.New("rotate: interrupted")

// Key is the primary key of an item: its partition key and, on tables that
// have one, its sort key.
type Key map[string]types.AttributeValue

// String renders the key as compact DynamoDB JSON.
func (k Key) String() string {
	b, err := ddbjson.MarshalItem(k)
	if err != nil {
		return "{?}"
	}
	return string(b)
}

// Issue is an item that was not rotated: its key and why.
type Issue struct {
	Key    Key
	Reason string
}

// Stats are the counts of a rotation. After a resumed run they include the
// runs before it.
type Stats struct {
	// Total is the number of items in the table as DescribeTable (or a
	// count) reported it when the run started: an estimate.
	Total int64
	// Scanned is the number of items processed: the sum of the four below.
	Scanned int64
	// Rotated items were re-encrypted under the target and written (with
	// DryRun: would have been).
	Rotated int64
	// Current items were already written under the target's current key.
	Current int64
	// Conflicts are items another writer changed or deleted between the
	// scan and the write-back: they were left as that writer left them.
	Conflicts int64
	// Failed items verify under neither source nor target, or could not be
	// encrypted or written under the target. They were left as they are.
	Failed int64
	// ConflictKeys and Failures list the first MaxListed of each.
	ConflictKeys []Issue
	Failures     []Issue
	// ScannedThisRun is the part of Scanned this run did, in Elapsed.
	ScannedThisRun int64
	Elapsed        time.Duration
	// DryRun and Resumed say what kind of run this was.
	DryRun, Resumed bool
}

// Rate returns this run's items per second.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.ScannedThisRun) / s.Elapsed.Seconds()
}

// outcome is what happened to one item.
type outcome int

const (
	outRotated outcome = iota
	outCurrent
	outConflict
	outFailed
)

// itemTimeout bounds the work on one item. That work ignores the run's
// cancellation, so that an interruption never leaves a write half done.
const itemTimeout = time.Minute

// checkpointInterval is how often a checkpoint is written within a page.
const checkpointInterval = 5 * time.Second

// maxExpression is DynamoDB's limit on the length of one expression.
const maxExpression = 4096

// Run rotates the table. It returns the counts and nil when every item has
// been processed, even when some conflicted or failed (see Stats); an error
// matching ErrInterrupted when ctx was cancelled first; and any other error
// when DynamoDB, the checkpoint file or the configuration failed. The
// checkpoint is written in both error cases.
func Run(ctx context.Context, api API, cfg Config) (Stats, error) {
	r, err := newRunner(ctx, api, cfg)
	if err != nil {
		return Stats{}, err
	}
	return r.run(ctx)
}

type runner struct {
	api      API
	cfg      Config
	pk, sk   string
	source   *itemcrypto.Encryptor
	target   *itemcrypto.Encryptor
	identity string // the target's key identity, when cfg.IsCurrent is nil
	limiter  *rate.Limiter
	cp       *checkpointer // nil without a checkpoint file
	started  time.Time

	mu        sync.Mutex // guards stats and segs
	stats     Stats
	segs      []segment
	lastWrite time.Time

	progressMu sync.Mutex
}

// segment is the position of one Scan segment.
type segment struct {
	after Key // the last item processed; nil before the first
	done  bool
}

func newRunner(ctx context.Context, api API, cfg Config) (*runner, error) {
	switch {
	case api == nil:
		return nil, errors.New("rotate: no DynamoDB client")
	case cfg.Table == "":
		return nil, errors.New("rotate: Config.Table is required")
	case cfg.Source == nil || cfg.Target == nil:
		return nil, errors.New("rotate: Config.Source and Config.Target are required")
	case cfg.Source.Policy().NoOp() || cfg.Target.Policy().NoOp():
		return nil, errors.New("rotate: a policy that does nothing to any attribute neither encrypts nor signs: nothing to rotate")
	case cfg.Segments < 0 || cfg.Segments > 1000000:
		return nil, errors.New("rotate: Config.Segments must be between 1 and 1000000")
	case cfg.RateLimit < 0:
		return nil, errors.New("rotate: Config.RateLimit must not be negative")
	case cfg.PageSize < 0:
		return nil, errors.New("rotate: Config.PageSize must not be negative")
	}
	if cfg.Segments == 0 {
		cfg.Segments = DefaultSegments
	}
	r := &runner{api: api, cfg: cfg, source: cfg.Source, target: cfg.Target, started: time.Now()}
	r.pk, r.sk = cfg.Source.Policy().Keys()
	if tpk, tsk := cfg.Target.Policy().Keys(); tpk != r.pk || tsk != r.sk {
		return nil, fmt.Errorf("rotate: the source policy's keys (%q, %q) differ from the target's (%q, %q)", r.pk, r.sk, tpk, tsk)
	}
	if cfg.RateLimit > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), 1)
	}

	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
	if err != nil {
		return nil, fmt.Errorf("rotate: DescribeTable %s: %w", cfg.Table, err)
	}
	probe, err := r.checkSchema(out.Table)
	if err != nil {
		return nil, err
	}
	if cfg.IsCurrent == nil {
		if r.identity, err = probeIdentity(ctx, cfg.Target, probe); err != nil {
			return nil, err
		}
	}
	r.stats.DryRun = cfg.DryRun
	r.segs = make([]segment, cfg.Segments)

	if cfg.Checkpoint != "" {
		r.cp = &checkpointer{path: cfg.Checkpoint, fingerprint: r.fingerprint(), table: cfg.Table}
		saved, err := r.cp.load()
		if err != nil {
			return nil, err
		}
		if saved != nil {
			r.segs, r.stats = saved.segs, saved.stats
			r.stats.DryRun, r.stats.Resumed = cfg.DryRun, true
		}
	}
	if !r.stats.Resumed {
		r.stats.Total = aws.ToInt64(out.Table.ItemCount)
		if r.stats.Total == 0 && !cfg.NoCount {
			if r.stats.Total, err = r.count(ctx); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
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
func (r *runner) checkSchema(t *types.TableDescription) (itemcrypto.Item, error) {
	if t == nil {
		return nil, fmt.Errorf("rotate: DescribeTable %s returned no table", r.cfg.Table)
	}
	hash, rng := TableKeys(t)
	if hash != r.pk || rng != r.sk {
		return nil, fmt.Errorf("rotate: table %s has partition key %q and sort key %q, but the policies name %q and %q",
			r.cfg.Table, hash, rng, r.pk, r.sk)
	}
	probe := itemcrypto.Item{}
	for _, d := range t.AttributeDefinitions {
		name := aws.ToString(d.AttributeName)
		if name != r.pk && name != r.sk {
			continue
		}
		switch d.AttributeType {
		case types.ScalarAttributeTypeS:
			probe[name] = &types.AttributeValueMemberS{Value: "itemcrypto-rotate-probe"}
		case types.ScalarAttributeTypeN:
			probe[name] = &types.AttributeValueMemberN{Value: "0"}
		case types.ScalarAttributeTypeB:
			probe[name] = &types.AttributeValueMemberB{Value: []byte("itemcrypto-rotate-probe")}
		}
	}
	for _, k := range []string{r.pk, r.sk} {
		if _, ok := probe[k]; k != "" && !ok {
			return nil, fmt.Errorf("rotate: DescribeTable %s does not define the type of key %q", r.cfg.Table, k)
		}
	}
	return probe, nil
}

// count counts the table's items with an eventually consistent
// Select=COUNT scan.
func (r *runner) count(ctx context.Context) (int64, error) {
	p := dynamodb.NewScanPaginator(r.api, &dynamodb.ScanInput{
		TableName: aws.String(r.cfg.Table),
		Select:    types.SelectCount,
	})
	var n int64
	for p.HasMorePages() {
		if r.limiter != nil { // a count page reads up to 1 MB: spend one token
			if err := r.limiter.Wait(ctx); err != nil {
				return 0, r.stopErr(ctx, err)
			}
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, r.stopErr(ctx, fmt.Errorf("rotate: counting the items of %s: %w", r.cfg.Table, err))
		}
		n += int64(page.Count)
	}
	return n, nil
}

func (r *runner) stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}
	return err
}

func (r *runner) run(ctx context.Context) (Stats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make([]error, len(r.segs))
	for i := range r.segs {
		r.mu.Lock()
		done := r.segs[i].done
		r.mu.Unlock()
		if done {
			continue
		}
		wg.Go(func() {
			if err := r.scanSegment(ctx, i); err != nil {
				errs[i] = err
				if !errors.Is(err, ErrInterrupted) {
					cancel(err) // stop the other segments too
				}
			}
		})
	}
	wg.Wait()

	var err error
	for _, e := range errs {
		if e != nil && (err == nil || errors.Is(err, ErrInterrupted)) {
			err = e // a real error wins over an interruption
		}
	}
	stats := r.snapshot(true)
	if r.cp != nil {
		var cpErr error
		if err != nil {
			cpErr = r.writeCheckpoint()
		} else {
			cpErr = r.cp.remove()
		}
		if cpErr != nil {
			err = errors.Join(err, cpErr)
		}
	}
	return stats, err
}

func (r *runner) scanSegment(ctx context.Context, seg int) error {
	r.mu.Lock()
	start := r.segs[seg].after
	r.mu.Unlock()
	in := &dynamodb.ScanInput{
		TableName:         aws.String(r.cfg.Table),
		ConsistentRead:    aws.Bool(true),
		ExclusiveStartKey: start,
	}
	if r.cfg.Segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(r.cfg.Segments))
	}
	if r.cfg.PageSize > 0 {
		in.Limit = aws.Int32(r.cfg.PageSize)
	}
	p := dynamodb.NewScanPaginator(r.api, in)
	for p.HasMorePages() {
		if ctx.Err() != nil {
			return r.stopErr(ctx, nil)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return r.stopErr(ctx, fmt.Errorf("rotate: Scan %s segment %d: %w", r.cfg.Table, seg, err))
		}
		for _, item := range page.Items {
			if ctx.Err() != nil {
				return r.stopErr(ctx, nil)
			}
			if r.limiter != nil {
				if err := r.limiter.Wait(ctx); err != nil {
					return r.stopErr(ctx, err)
				}
			}
			ictx, icancel := context.WithTimeout(context.WithoutCancel(ctx), itemTimeout)
			out, issue, err := r.process(ictx, item)
			icancel()
			if err != nil {
				return err
			}
			r.advance(seg, r.keyOf(item), out, issue)
		}
		r.pageDone(seg, page.LastEvaluatedKey)
		if err := r.maybeCheckpoint(true); err != nil {
			return err
		}
	}
	return nil
}

// pageDone records that seg has processed a whole page: its position is
// then the page's LastEvaluatedKey (the key of its last item, or further on
// when DynamoDB returned a page with fewer items), and none means the
// segment is done.
func (r *runner) pageDone(seg int, lastEvaluated map[string]types.AttributeValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(lastEvaluated) == 0 {
		r.segs[seg].done = true
	} else {
		r.segs[seg].after = lastEvaluated
	}
}

// advance records one processed item of seg.
func (r *runner) advance(seg int, key Key, out outcome, issue *Issue) {
	r.mu.Lock()
	r.segs[seg].after = key
	r.stats.Scanned++
	r.stats.ScannedThisRun++
	switch out {
	case outRotated:
		r.stats.Rotated++
	case outCurrent:
		r.stats.Current++
	case outConflict:
		r.stats.Conflicts++
		if len(r.stats.ConflictKeys) < MaxListed {
			r.stats.ConflictKeys = append(r.stats.ConflictKeys, *issue)
		}
	case outFailed:
		r.stats.Failed++
		if len(r.stats.Failures) < MaxListed {
			r.stats.Failures = append(r.stats.Failures, *issue)
		}
	}
	r.mu.Unlock()
	if r.cfg.Progress != nil {
		r.progressMu.Lock()
		r.cfg.Progress(r.snapshot(false))
		r.progressMu.Unlock()
	}
	r.maybeCheckpoint(false) // an error shows again at the end of the page
}

// snapshot returns the stats; with lists, a copy of the key lists.
func (r *runner) snapshot(lists bool) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Elapsed = time.Since(r.started)
	if lists {
		s.ConflictKeys = slices.Clone(s.ConflictKeys)
		s.Failures = slices.Clone(s.Failures)
	} else {
		s.ConflictKeys, s.Failures = nil, nil
	}
	return s
}

// maybeCheckpoint writes the checkpoint at the end of a page, or when the
// last one is older than checkpointInterval.
func (r *runner) maybeCheckpoint(pageEnd bool) error {
	if r.cp == nil {
		return nil
	}
	r.mu.Lock()
	due := pageEnd || time.Since(r.lastWrite) >= checkpointInterval
	if due {
		r.lastWrite = time.Now()
	}
	r.mu.Unlock()
	if !due {
		return nil
	}
	return r.writeCheckpoint()
}

func (r *runner) writeCheckpoint() error {
	r.cp.writeMu.Lock() // snapshots are written in the order they are taken
	defer r.cp.writeMu.Unlock()
	r.mu.Lock()
	segs := slices.Clone(r.segs)
	r.mu.Unlock()
	return r.cp.write(segs, r.snapshot(true))
}

func (r *runner) keyOf(item itemcrypto.Item) Key {
	k := Key{r.pk: item[r.pk]}
	if r.sk != "" {
		k[r.sk] = item[r.sk]
	}
	return k
}

// process rotates one item. A non-nil error stops the run; the item is
// then not counted, and a rerun processes it again.
func (r *runner) process(ctx context.Context, stored itemcrypto.Item) (outcome, *Issue, error) {
	key := r.keyOf(stored)
	triedTarget := false
	if r.isCurrent(stored) {
		triedTarget = true
		_, err := r.target.Decrypt(ctx, stored)
		if err == nil {
			return outCurrent, nil, nil
		}
		if ctxErr(err) {
			return 0, nil, err
		}
	}
	plain, srcErr := r.source.Decrypt(ctx, stored)
	if srcErr != nil {
		if ctxErr(srcErr) {
			return 0, nil, srcErr
		}
		if !triedTarget {
			_, tgtErr := r.target.Decrypt(ctx, stored)
			if tgtErr == nil {
				// Readable by the target though not written with its
				// current key (IsCurrent or the description said so).
				return outCurrent, nil, nil
			}
			if ctxErr(tgtErr) {
				return 0, nil, tgtErr
			}
		}
		return outFailed, &Issue{Key: key, Reason: "verifies under neither the source nor the target: " + srcErr.Error()}, nil
	}
	next, err := r.target.Encrypt(ctx, plain)
	clear(plain)
	if err != nil {
		if ctxErr(err) {
			return 0, nil, err
		}
		return outFailed, &Issue{Key: key, Reason: "encrypting under the target: " + err.Error()}, nil
	}
	if r.cfg.DryRun {
		return outRotated, nil, nil
	}
	return r.writeBack(ctx, key, stored, next)
}

func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isCurrent reports whether stored claims to be written with the target's
// current key.
func (r *runner) isCurrent(stored itemcrypto.Item) bool {
	if r.cfg.IsCurrent != nil {
		return r.cfg.IsCurrent(stored)
	}
	id, ok := keyIdentity(stored)
	return ok && id == r.identity
}

// writeBack replaces the protected attributes of old by those of next, on
// condition that the item still has the signature it was read with.
//
// It is an UpdateItem that sets every attribute either policy protects and
// leaves the others alone, so a concurrent change to a DoNothing attribute
// (which leaves the signature as it is) survives too. When the update
// expression would exceed DynamoDB's 4 KB limit (hundreds of protected
// attributes), it falls back to a conditional PutItem of the whole item,
// which can undo such a concurrent DoNothing change.
func (r *runner) writeBack(ctx context.Context, key Key, old, next itemcrypto.Item) (outcome, *Issue, error) {
	sig, ok := old[itemcrypto.SignatureAttribute]
	if !ok { // Decrypt verified a signature: cannot happen
		return 0, nil, errors.New("rotate: internal error: verified item without a signature")
	}
	protected := func(name string) bool {
		return actions.IsReserved(name) ||
			r.source.Policy().Action(name) != actions.DoNothing || r.target.Policy().Action(name) != actions.DoNothing
	}
	names := map[string]string{"#sig": itemcrypto.SignatureAttribute}
	values := map[string]types.AttributeValue{":sig": sig}
	var set, remove []string
	for _, name := range sortedKeys(next) {
		if name == r.pk || name == r.sk || !protected(name) {
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
	const cond = "#sig = :sig"
	var err error
	if len(expr) <= maxExpression {
		_, err = r.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(r.cfg.Table),
			Key:                       key,
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
	} else {
		_, err = r.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(r.cfg.Table),
			Item:                      next,
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#sig": itemcrypto.SignatureAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{":sig": sig},
		})
	}
	if err == nil {
		return outRotated, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return outConflict, &Issue{Key: key, Reason: "changed or deleted by another writer since it was read: left as that writer left it"}, nil
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		// This item cannot be written (too large under the target, say).
		return outFailed, &Issue{Key: key, Reason: "writing it back: " + api.ErrorMessage()}, nil
	}
	return 0, nil, fmt.Errorf("rotate: writing item %v back to %s: %w", key, r.cfg.Table, err)
}

func sortedKeys(item itemcrypto.Item) []string {
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

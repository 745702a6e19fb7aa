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

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
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
	// Segments is the number of segments the table is split into: those
	// of a parallel Scan (DynamoDB), or _id ranges (MongoDB). 0 means
	// DefaultSegments. A process works on all of them at once, or on
	// SegmentRange.
	Segments int
	// SegmentRange, when set, limits this process to some of the Segments,
	// so that several processes (on as many machines) share one rotation,
	// each with its own checkpoint file. Every process of a rotation must
	// use the same Segments, and together their ranges must cover them
	// all. A finished range keeps its checkpoint (every segment marked
	// done) for ReadStatus, rather than removing it.
	SegmentRange *SegmentRange
	// A rerun of a finished range does nothing, unless items conflicted or
	// failed: then it starts over.
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
	// TargetSearch, when set, is the table's search configuration under
	// the target (built as dynamodbenc builds TableConfig.Search: with
	// search.New over the target's policy, which makes each signed beacon
	// SignOnly). Run then gives every item exactly the target's beacons,
	// recomputed from its plaintext: a rotated item is encrypted through
	// TargetSearch.Protect (its signed beacons signed with it, its stored
	// beacons and version tag added, beacon attributes the target lacks
	// dropped), and an item already current whose stored beacon
	// attributes differ from what TargetSearch computes has them rewritten
	// by the same conditional write-back, and counts as rotated (one that
	// lacks a signed beacon, part of its signature, is re-encrypted).
	// The target's beacons are part of the rotation's identity
	// (Search.BeaconIdentity): a checkpoint of a rotation to other beacons
	// is refused. The target must write the DB-ESDK format without a
	// legacy or plaintext override (an error matching
	// itemcrypto.ErrOverrideWithBeacons otherwise): for a migration from
	// the DDBEC, the source reads the DDBEC items. Nil keeps the stored
	// beacons as they are (see the package documentation). DynamoDB only:
	// RunMongo takes the target collection's own Config.Search.
	TargetSearch *search.Search
}

// maxSegments bounds Config.Segments (DynamoDB's limit on TotalSegments).
const maxSegments = 1000000

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
	Key Key
	// ID is the key as people read it: Key.String() for a DynamoDB item,
	// the _id in MongoDB Extended JSON for a document.
	ID     string
	Reason string
}

// SegmentRange is the segments First..Last (0-based, inclusive).
type SegmentRange struct{ First, Last int }

func (s SegmentRange) String() string { return fmt.Sprintf("%d-%d", s.First, s.Last) }

// ParseSegmentRange reads "A-B" (segments A to B, inclusive) or "A" (one
// segment).
func ParseSegmentRange(s string) (SegmentRange, error) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	first, err1 := strconv.Atoi(a)
	last, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return SegmentRange{}, fmt.Errorf("rotate: segment range %q: want FIRST-LAST, 0-based, FIRST <= LAST (e.g. 0-3)", s)
	}
	return SegmentRange{first, last}, nil
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
	// DryRun: would have been); for MongoDB, they include the current
	// documents whose beacons alone were rewritten (see RunMongo).
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

// Run rotates the table. It returns the counts and nil when every item (of
// Config.SegmentRange, when set) has been processed, even when some
// conflicted or failed (see Stats); an error matching ErrInterrupted when
// ctx was cancelled first; and any other error when DynamoDB, the
// checkpoint file or the configuration failed. The checkpoint is written in
// both error cases.
func Run(ctx context.Context, api API, cfg Config) (Stats, error) {
	switch {
	case api == nil:
		return Stats{}, errors.New("rotate: no DynamoDB client")
	case cfg.Table == "":
		return Stats{}, errors.New("rotate: Config.Table is required")
	}
	if cfg.TargetSearch != nil && cfg.Target != nil {
		if err := checkTargetSearch(cfg.Target, cfg.TargetSearch); err != nil {
			return Stats{}, err
		}
	}
	return runStore(ctx, &dynamoStore{api: api, table: cfg.Table, pageSize: cfg.PageSize, search: cfg.TargetSearch, target: cfg.Target}, cfg)
}

// checkTargetSearch refuses beacons the target cannot write: a target
// that writes the DDBEC format or sets a legacy or plaintext override, or
// one whose policy does not sign a signed beacon.
func checkTargetSearch(target *itemcrypto.Encryptor, s *search.Search) error {
	if target.Format() != itemcrypto.FormatDBESDK {
		return errors.New("rotate: Config.TargetSearch (beacons) needs a target that writes the DB-ESDK format")
	}
	if err := target.CheckBeacons(); err != nil {
		return fmt.Errorf("rotate: Config.TargetSearch: %w", err)
	}
	for _, name := range s.SignedBeacons() {
		if target.Policy().Action(name) != actions.SignOnly {
			return fmt.Errorf("rotate: Config.TargetSearch: signed beacon %q is not SignOnly in the target's policy: build the policy with search.Config.SignOnlyOverrides", name)
		}
	}
	return nil
}

// store is where the items of a rotation live: a DynamoDB table
// (dynamoStore) or a MongoDB collection (mongoStore). The engine does the
// rest: segments, cryptography, counts, checkpoints, rate limit.
type store interface {
	// ident names the table or collection in messages and checkpoints.
	ident() string
	// open checks that the store's key schema is the policies' (pk, sk) and
	// returns a probe item (its key attributes, of the right types) and the
	// number of items when the store knows it (0: unknown).
	open(ctx context.Context, pk, sk string) (probe itemcrypto.Item, total int64, err error)
	// count counts the items; wait is called before each request.
	count(ctx context.Context, wait func(context.Context) error) (int64, error)
	// plan splits the store into n segments, the same for every process
	// of the rotation named by rotation.
	plan(ctx context.Context, n int, rotation string) error
	// pages reads segment seg, in key order, after the position after
	// (nil: from its start).
	pages(seg int, after Key) pager
	// frame returns what writeBack writes for rec: next, the item the
	// target encrypted from plain (rec's plaintext, which frame must not
	// keep), in the store's form. An error is why rec cannot be written
	// under the target.
	frame(ctx context.Context, rec record, plain, next itemcrypto.Item) (written, error)
	// refresh returns what writeBack writes for rec, which is already
	// current (plain is its plaintext, not to be kept), when its stored
	// form still differs from what the target writes outside the
	// signature (a MongoDB document's beacons); false when nothing is to
	// change. An error is why rec cannot be written under the target.
	refresh(ctx context.Context, rec record, plain itemcrypto.Item) (written, bool, error)
	// writeBack replaces rec by w on condition that it is still as it was
	// read (the reserved attributes in reserved that rec has are
	// unchanged). protected reports which attributes the rotation owns;
	// the others are left as they are now.
	writeBack(ctx context.Context, rec record, w written, reserved []string, protected func(string) bool) (outcome, *Issue, error)
	// keyString renders a key for people.
	keyString(Key) string
	// targetExtra identifies what the target writes besides its keys
	// (a MongoDB collection's beacons), for the rotation's identity; ""
	// when nothing.
	targetExtra(ctx context.Context) (string, error)
}

// written is what writeBack writes: the stored item (DynamoDB) or the
// stored document (MongoDB).
type written struct {
	item itemcrypto.Item
	doc  []byte
}

// pager reads one segment page by page.
type pager interface {
	// next returns the next page of records and the segment's position
	// after it; done when the segment has no more.
	next(ctx context.Context) (recs []record, after Key, done bool, err error)
}

// record is one stored item as a store read it.
type record struct {
	key  Key
	item itemcrypto.Item // the stored item, in the core's model
	doc  []byte          // the stored document (MongoDB)
	err  error           // why the document does not map onto an item
}

func runStore(ctx context.Context, st store, cfg Config) (Stats, error) {
	r, err := newRunner(ctx, st, cfg)
	if err != nil {
		return Stats{}, err
	}
	return r.run(ctx)
}

type runner struct {
	st       store
	cfg      Config
	pk, sk   string
	source   *itemcrypto.Encryptor
	target   *itemcrypto.Encryptor
	reserved []string // the reserved attributes of either side
	identity string   // the target's key identity, when cfg.IsCurrent is nil
	extra    string   // the store's targetExtra
	first    int      // the first segment of this process
	limiter  *rate.Limiter
	cp       *checkpointer // nil without a checkpoint file
	started  time.Time

	mu        sync.Mutex // guards stats and segs
	stats     Stats
	segs      []segment // segments first..first+len(segs)-1
	lastWrite time.Time

	progressMu sync.Mutex
}

// segment is the position of one segment.
type segment struct {
	after Key // the last item processed; nil before the first
	done  bool
}

func newRunner(ctx context.Context, st store, cfg Config) (*runner, error) {
	switch {
	case cfg.Source == nil || cfg.Target == nil:
		return nil, errors.New("rotate: Config.Source and Config.Target are required")
	case cfg.Source.Policy().NoOp() || cfg.Target.Policy().NoOp():
		return nil, errors.New("rotate: a policy that does nothing to any attribute neither encrypts nor signs: nothing to rotate")
	case cfg.Segments < 0 || cfg.Segments > maxSegments:
		return nil, errors.New("rotate: Config.Segments must be between 1 and 1000000")
	case cfg.RateLimit < 0:
		return nil, errors.New("rotate: Config.RateLimit must not be negative")
	case cfg.PageSize < 0:
		return nil, errors.New("rotate: Config.PageSize must not be negative")
	}
	if cfg.Segments == 0 {
		cfg.Segments = DefaultSegments
	}
	first, last := 0, cfg.Segments-1
	if sr := cfg.SegmentRange; sr != nil {
		if sr.First < 0 || sr.Last < sr.First || sr.Last >= cfg.Segments {
			return nil, fmt.Errorf("rotate: Config.SegmentRange %s is not within segments 0-%d", sr, cfg.Segments-1)
		}
		first, last = sr.First, sr.Last
	}
	r := &runner{st: st, cfg: cfg, source: cfg.Source, target: cfg.Target, first: first, started: time.Now()}
	r.pk, r.sk = cfg.Source.Policy().Keys()
	if tpk, tsk := cfg.Target.Policy().Keys(); tpk != r.pk || tsk != r.sk {
		return nil, fmt.Errorf("rotate: the source policy's keys (%q, %q) differ from the target's (%q, %q)", r.pk, r.sk, tpk, tsk)
	}
	for _, e := range []*itemcrypto.Encryptor{cfg.Source, cfg.Target} {
		for _, name := range e.ReservedAttributes() {
			if !slices.Contains(r.reserved, name) {
				r.reserved = append(r.reserved, name)
			}
		}
	}
	if cfg.RateLimit > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), 1)
	}

	probe, total, err := st.open(ctx, r.pk, r.sk)
	if err != nil {
		return nil, err
	}
	if cfg.IsCurrent == nil {
		if r.identity, err = probeIdentity(ctx, cfg.Target, probe); err != nil {
			return nil, err
		}
	}
	if r.extra, err = st.targetExtra(ctx); err != nil {
		return nil, err
	}
	rotation := r.rotationID()
	if err := st.plan(ctx, cfg.Segments, rotation); err != nil {
		return nil, r.stopErr(ctx, err)
	}
	r.stats.DryRun = cfg.DryRun
	r.segs = make([]segment, last-first+1)

	if cfg.Checkpoint != "" {
		r.cp = &checkpointer{path: cfg.Checkpoint, fingerprint: r.fingerprint(rotation), rotation: rotation,
			table: st.ident(), segments: cfg.Segments, first: first, keep: r.partial()}
		saved, err := r.cp.load()
		if err != nil {
			return nil, err
		}
		if saved != nil && saved.finished() && saved.stats.Conflicts+saved.stats.Failed > 0 {
			// A finished range whose items conflicted or failed: a rerun
			// starts over, as a run over all segments does (it removed
			// its checkpoint); the items done count as current.
			saved = nil
		}
		if saved != nil {
			if len(saved.segs) != len(r.segs) {
				return nil, fmt.Errorf("rotate: checkpoint %s: %d segments, want %d; remove it to start over", cfg.Checkpoint, len(saved.segs), len(r.segs))
			}
			r.segs, r.stats = saved.segs, saved.stats
			r.stats.DryRun, r.stats.Resumed = cfg.DryRun, true
		}
	}
	if !r.stats.Resumed {
		if total == 0 && !cfg.NoCount {
			if total, err = st.count(ctx, r.wait); err != nil {
				return nil, r.stopErr(ctx, err)
			}
		}
		// A range of segments holds about its share of the items.
		r.stats.Total = total * int64(len(r.segs)) / int64(cfg.Segments)
	}
	return r, nil
}

// partial reports whether this process runs only some of the segments.
func (r *runner) partial() bool { return len(r.segs) != r.cfg.Segments }

// wait spends one token of the rate limit, when there is one.
func (r *runner) wait(ctx context.Context) error {
	if r.limiter == nil {
		return nil
	}
	return r.limiter.Wait(ctx)
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
		if err != nil || r.cp.keep {
			// A range of segments keeps its finished checkpoint, so that
			// "rotate status" sees it done.
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

// scanSegment processes segment r.first+i from its recorded position.
func (r *runner) scanSegment(ctx context.Context, i int) error {
	r.mu.Lock()
	start := r.segs[i].after
	r.mu.Unlock()
	p := r.st.pages(r.first+i, start)
	for {
		if ctx.Err() != nil {
			return r.stopErr(ctx, nil)
		}
		recs, after, done, err := p.next(ctx)
		if err != nil {
			return r.stopErr(ctx, err)
		}
		for _, rec := range recs {
			if ctx.Err() != nil {
				return r.stopErr(ctx, nil)
			}
			if err := r.wait(ctx); err != nil {
				return r.stopErr(ctx, err)
			}
			ictx, icancel := context.WithTimeout(context.WithoutCancel(ctx), itemTimeout)
			out, issue, err := r.process(ictx, rec)
			icancel()
			if err != nil {
				return err
			}
			r.advance(i, rec.key, out, issue)
		}
		r.pageDone(i, after, done)
		if err := r.maybeCheckpoint(true); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// pageDone records that segment i has processed a whole page: its position
// is then the store's position after the page (the key of its last item,
// or further on when DynamoDB returned a page with fewer items).
func (r *runner) pageDone(i int, after Key, done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if done {
		r.segs[i].done = true
	} else if len(after) > 0 {
		r.segs[i].after = after
	}
}

// advance records one processed item of segment i.
func (r *runner) advance(i int, key Key, out outcome, issue *Issue) {
	r.mu.Lock()
	r.segs[i].after = key
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

// issue is the Issue of the item at key.
func (r *runner) issue(key Key, reason string) *Issue {
	return &Issue{Key: key, ID: r.st.keyString(key), Reason: reason}
}

// process rotates one item. A non-nil error stops the run; the item is
// then not counted, and a rerun processes it again.
func (r *runner) process(ctx context.Context, rec record) (outcome, *Issue, error) {
	if rec.err != nil {
		return outFailed, r.issue(rec.key, "verifies under neither the source nor the target: "+rec.err.Error()), nil
	}
	stored := rec.item
	triedTarget := false
	if r.isCurrent(stored) {
		triedTarget = true
		plain, err := r.target.Decrypt(ctx, stored)
		if err == nil {
			return r.current(ctx, rec, plain)
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
			plain, tgtErr := r.target.Decrypt(ctx, stored)
			if tgtErr == nil {
				// Readable by the target though not written with its
				// current key (IsCurrent or the description said so).
				return r.current(ctx, rec, plain)
			}
			if ctxErr(tgtErr) {
				return 0, nil, tgtErr
			}
		}
		return outFailed, r.issue(rec.key, "verifies under neither the source nor the target: "+srcErr.Error()), nil
	}
	next, err := r.encrypt(ctx, stored, plain)
	if err != nil {
		clear(plain)
		if ctxErr(err) {
			return 0, nil, err
		}
		return outFailed, r.issue(rec.key, "encrypting under the target: "+err.Error()), nil
	}
	w, err := r.st.frame(ctx, rec, plain, next)
	clear(plain)
	if err != nil {
		if ctxErr(err) {
			return 0, nil, err
		}
		return outFailed, r.issue(rec.key, "framing it under the target: "+err.Error()), nil
	}
	return r.write(ctx, rec, w)
}

// current finishes an item that is already current, with plain its
// plaintext: left alone, unless the store has something to change outside
// the signature (a MongoDB document's beacons), which is written back as a
// rotation is.
func (r *runner) current(ctx context.Context, rec record, plain itemcrypto.Item) (outcome, *Issue, error) {
	w, change, err := r.st.refresh(ctx, rec, plain)
	clear(plain)
	switch {
	case err != nil && ctxErr(err):
		return 0, nil, err
	case err != nil:
		return outFailed, r.issue(rec.key, "computing its beacons under the target: "+err.Error()), nil
	case !change:
		return outCurrent, nil, nil
	}
	return r.write(ctx, rec, w)
}

// write writes w back for rec, unless this is a dry run.
func (r *runner) write(ctx context.Context, rec record, w written) (outcome, *Issue, error) {
	if r.cfg.DryRun {
		return outRotated, nil, nil
	}
	out, issue, err := r.st.writeBack(ctx, rec, w, r.reserved, r.protected)
	if issue != nil {
		issue.ID = r.st.keyString(issue.Key)
	}
	return out, issue, err
}

// encrypt encrypts plain, the plaintext of stored, under the target: with
// Config.TargetSearch through its Protect (the target's beacons, computed
// from plain), without it keeping the beacons stored has (keepBeacons).
func (r *runner) encrypt(ctx context.Context, stored, plain itemcrypto.Item) (itemcrypto.Item, error) {
	if s := r.cfg.TargetSearch; s != nil {
		return s.Protect(ctx, plain, r.target.Encrypt)
	}
	next, err := r.target.Encrypt(ctx, plain)
	if err != nil {
		return nil, err
	}
	keepBeacons(stored, next, r.target.Format())
	return next, nil
}

// keepBeacons copies the searchable-encryption attributes of a stored
// DB-ESDK item (beacons aws_dbe_b_..., the version tag aws_dbe_v_1) into
// its rotated form when the target writes the DB-ESDK format. They are
// outside the signature and depend only on the plaintext and the table's
// beacon key, not on the item's data key, so a rotation of the data keys
// leaves them valid; Decrypt drops them from the plaintext, so without this
// the write-back would remove them and the item would vanish from every
// beacon query. A rollback to the DDBEC format drops them (the DDBEC has no
// beacons). It serves a rotation without Config.TargetSearch only: with it,
// the beacons are recomputed (a table moving from the DDBEC, or to another
// beacon key). (A MongoDB collection's store recomputes them: its
// documents never carry them in the stored item, see mongoStore.frame.)
func keepBeacons(stored, next itemcrypto.Item, target itemcrypto.Format) {
	if target != itemcrypto.FormatDBESDK {
		return
	}
	for name, v := range stored {
		// Encrypt refuses aws_dbe_ names, so next has none of these.
		if strings.HasPrefix(name, search.BeaconPrefix) || name == search.VersionTag {
			next[name] = v
		}
	}
}

// protected reports whether the rotation owns the attribute name: a
// reserved attribute of either side, or one either policy signs.
func (r *runner) protected(name string) bool {
	return r.source.IsReserved(name) || r.target.IsReserved(name) ||
		r.source.Policy().Action(name) != actions.DoNothing || r.target.Policy().Action(name) != actions.DoNothing
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

func sortedKeys(item itemcrypto.Item) []string {
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

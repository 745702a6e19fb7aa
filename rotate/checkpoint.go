package rotate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// checkpointFormat identifies checkpoint files.
const checkpointFormat = "itemcrypto-rotate-checkpoint-v1"

// maxCheckpointSize bounds what load reads: MaxListed keys of up to 3 KB
// twice over, and the segments' positions.
const maxCheckpointSize = 64 << 20

// checkpointer reads and writes one checkpoint file.
type checkpointer struct {
	path        string
	fingerprint string // what may resume it: the rotation and the range
	rotation    string // the rotation, whichever the range
	table       string
	segments    int  // the rotation's number of segments
	first       int  // the first segment of the checkpoint's range
	keep        bool // a range of segments: kept when done
	writeMu     sync.Mutex
}

// The JSON form. Keys are DynamoDB JSON.
type checkpointJSON struct {
	Format      string `json:"format"`
	Table       string `json:"table"`
	Fingerprint string `json:"fingerprint"`
	// Rotation identifies the rotation, whichever range of its segments
	// the checkpoint covers; TotalSegments is its number of segments and
	// FirstSegment the first one in Segments.
	Rotation      string        `json:"rotation,omitempty"`
	TotalSegments int           `json:"total_segments,omitempty"`
	FirstSegment  int           `json:"first_segment,omitempty"`
	Written       time.Time     `json:"written"`
	Segments      []segmentJSON `json:"segments"`
	Stats         statsJSON     `json:"stats"`
	Conflicts     []issueJSON   `json:"conflicts,omitempty"`
	Failures      []issueJSON   `json:"failures,omitempty"`
}

type segmentJSON struct {
	Done  bool            `json:"done,omitempty"`
	After json.RawMessage `json:"after,omitempty"`
}

type statsJSON struct {
	Total     int64 `json:"total"`
	Scanned   int64 `json:"scanned"`
	Rotated   int64 `json:"rotated"`
	Current   int64 `json:"current"`
	Conflicts int64 `json:"conflicts"`
	Failed    int64 `json:"failed"`
}

type issueJSON struct {
	Key    json.RawMessage `json:"key"`
	ID     string          `json:"id,omitempty"`
	Reason string          `json:"reason"`
}

// savedState is a checkpoint read back.
type savedState struct {
	segs  []segment
	stats Stats
}

// finished reports whether every segment is done.
func (s *savedState) finished() bool {
	for _, sg := range s.segs {
		if !sg.done {
			return false
		}
	}
	return true
}

// rotationID identifies a rotation: the table, its keys, the segmentation,
// the kind of run, the target's key identity and what else the target
// writes (a collection's beacons). Every process of one
// rotation has the same. Key material never enters it.
func (r *runner) rotationID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00%q\x00%q\x00%d\x00%t\x00%q\x00%t",
		checkpointFormat, r.st.ident(), r.pk, r.sk, r.target.TableName(), r.cfg.Segments, r.cfg.DryRun,
		r.identity, r.cfg.IsCurrent != nil)
	if r.extra != "" { // only then: earlier rotations keep their identity
		fmt.Fprintf(h, "\x00%q", r.extra)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprint identifies what a checkpoint may be resumed by: the rotation
// and, for a range of segments, the range.
func (r *runner) fingerprint(rotation string) string {
	if !r.partial() {
		return rotation
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d-%d", rotation, r.first, r.first+len(r.segs)-1)
	return hex.EncodeToString(h.Sum(nil))
}

// load reads the checkpoint: nil when there is none, an error when it is
// unreadable or belongs to another rotation.
func (c *checkpointer) load() (*savedState, error) {
	cj, err := readCheckpoint(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	bad := func(why string) error {
		return fmt.Errorf("rotate: checkpoint %s: %s; remove it to start over", c.path, why)
	}
	if cj.Fingerprint != c.fingerprint {
		return nil, bad(fmt.Sprintf("it belongs to another rotation (table %q, or other keys, segments, segment range, dry-run, target key or target beacons)", cj.Table))
	}
	return cj.state(bad)
}

// readCheckpoint reads and parses a checkpoint file; an error matching
// os.ErrNotExist when there is none.
func readCheckpoint(path string) (*checkpointJSON, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rotate: checkpoint: %w", err)
	}
	defer f.Close()
	// Read into a buffer of the file's size (a file over the limit is
	// refused unread): io.ReadAll's doubling would cost twice the file.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("rotate: checkpoint: %w", err)
	}
	if fi.Size() > maxCheckpointSize {
		return nil, fmt.Errorf("rotate: checkpoint %s: larger than %d bytes, not a checkpoint", path, maxCheckpointSize)
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, maxCheckpointSize+1)); err != nil {
		return nil, fmt.Errorf("rotate: checkpoint: %w", err)
	}
	b := buf.Bytes()
	if len(b) > maxCheckpointSize {
		return nil, fmt.Errorf("rotate: checkpoint %s: larger than %d bytes, not a checkpoint", path, maxCheckpointSize)
	}
	cj, err := decodeCheckpoint(b)
	if errors.Is(err, errCheckpointBounds) {
		return nil, fmt.Errorf("rotate: checkpoint %s: %w; remove it to start over", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("rotate: checkpoint %s: not a checkpoint of itemcrypto rotate; remove it to start over", path)
	}
	return cj, nil
}

// errCheckpointBounds: a checkpoint whose lists are longer than what it
// claims, or than a rotation can have.
var errCheckpointBounds = errors.New("lists more segments or keys than a rotation has")

// decodeCheckpoint parses a checkpoint, checking its bounds while it
// decodes: a first pass reads only the format and the segment counts (a
// scan that allocates nothing per list element), then the lists are decoded
// element by element and refused as soon as one is longer than the counts
// allow (segments: the claimed range, at most maxSegments; conflicts and
// failures: MaxListed each). Work is linear in len(b) and memory is bounded
// by the claimed counts, never by what the file lists.
func decodeCheckpoint(b []byte) (*checkpointJSON, error) {
	var head struct {
		Format        string `json:"format"`
		TotalSegments int    `json:"total_segments"`
		FirstSegment  int    `json:"first_segment"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.Format != checkpointFormat {
		return nil, errors.New("not a checkpoint")
	}
	limit := maxSegments
	if head.TotalSegments != 0 {
		if head.TotalSegments < 0 || head.TotalSegments > maxSegments || head.FirstSegment < 0 || head.FirstSegment >= head.TotalSegments {
			return nil, errCheckpointBounds
		}
		limit = head.TotalSegments - head.FirstSegment
	}
	var d struct {
		checkpointJSON
		Segments  boundedList[segmentJSON] `json:"segments"`
		Conflicts boundedList[issueJSON]   `json:"conflicts"`
		Failures  boundedList[issueJSON]   `json:"failures"`
	}
	d.Segments.limit, d.Conflicts.limit, d.Failures.limit = limit, MaxListed, MaxListed
	if err := json.Unmarshal(b, &d); err != nil {
		if errors.Is(err, errCheckpointBounds) {
			return nil, err
		}
		return nil, errors.New("not a checkpoint")
	}
	cj := d.checkpointJSON
	cj.Segments, cj.Conflicts, cj.Failures = d.Segments.items, d.Conflicts.items, d.Failures.items
	return &cj, nil
}

// boundedList is a JSON array decoded element by element, refused with
// errCheckpointBounds at its limit+1st element.
type boundedList[T any] struct {
	limit int
	items []T
}

func (l *boundedList[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return errors.New("not a list")
	}
	for dec.More() {
		if len(l.items) >= l.limit {
			return errCheckpointBounds
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		l.items = append(l.items, v)
	}
	_, err := dec.Token()
	return err
}

// state returns the positions and counts of a checkpoint.
func (cj *checkpointJSON) state(bad func(string) error) (*savedState, error) {
	s := &savedState{segs: make([]segment, len(cj.Segments))}
	for i, sj := range cj.Segments {
		s.segs[i].done = sj.Done
		if len(sj.After) > 0 {
			k, err := ddbjson.UnmarshalItem(sj.After)
			if err != nil {
				return nil, bad("a segment position does not parse")
			}
			s.segs[i].after = k
		}
	}
	st := cj.Stats
	s.stats = Stats{Total: st.Total, Scanned: st.Scanned, Rotated: st.Rotated, Current: st.Current, Conflicts: st.Conflicts, Failed: st.Failed}
	for _, l := range []struct {
		from []issueJSON
		to   *[]Issue
	}{{cj.Conflicts, &s.stats.ConflictKeys}, {cj.Failures, &s.stats.Failures}} {
		for _, ij := range l.from {
			k, err := ddbjson.UnmarshalItem(ij.Key)
			if err != nil {
				return nil, bad("a listed key does not parse")
			}
			id := ij.ID
			if id == "" {
				id = Key(k).String()
			}
			*l.to = append(*l.to, Issue{Key: k, ID: id, Reason: ij.Reason})
		}
	}
	return s, nil
}

// write replaces the checkpoint atomically (a new file renamed over it).
func (c *checkpointer) write(segs []segment, st Stats) error {
	cj := checkpointJSON{
		Format: checkpointFormat, Table: c.table, Fingerprint: c.fingerprint, Written: time.Now().UTC(),
		Rotation: c.rotation, TotalSegments: c.segments, FirstSegment: c.first,
		Stats: statsJSON{Total: st.Total, Scanned: st.Scanned, Rotated: st.Rotated, Current: st.Current, Conflicts: st.Conflicts, Failed: st.Failed},
	}
	for _, s := range segs {
		sj := segmentJSON{Done: s.done}
		if s.after != nil {
			b, err := ddbjson.MarshalItem(s.after)
			if err != nil {
				return fmt.Errorf("rotate: checkpoint: %w", err)
			}
			sj.After = b
		}
		cj.Segments = append(cj.Segments, sj)
	}
	for _, l := range []struct {
		from []Issue
		to   *[]issueJSON
	}{{st.ConflictKeys, &cj.Conflicts}, {st.Failures, &cj.Failures}} {
		for _, is := range l.from {
			b, err := ddbjson.MarshalItem(is.Key)
			if err != nil {
				return fmt.Errorf("rotate: checkpoint: %w", err)
			}
			*l.to = append(*l.to, issueJSON{Key: b, ID: is.ID, Reason: is.Reason})
		}
	}
	b, err := json.MarshalIndent(cj, "", " ")
	if err != nil {
		return fmt.Errorf("rotate: checkpoint: %w", err)
	}
	b = append(b, '\n')

	f, err := os.CreateTemp(filepath.Dir(c.path), "."+filepath.Base(c.path)+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("rotate: checkpoint: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("rotate: checkpoint: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rotate: checkpoint: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rotate: checkpoint: %w", err)
	}
	return nil
}

// remove deletes the checkpoint of a finished run.
func (c *checkpointer) remove() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate: removing the checkpoint of a finished run: %w", err)
	}
	return nil
}

// Status is the state of one rotation, merged from the checkpoint files of
// its processes (see Config.SegmentRange).
type Status struct {
	// Table is the table (or "mongodb:db.collection") being rotated.
	Table string
	// Segments is the rotation's number of segments.
	Segments int
	// Parts are the checkpoint files, in the order of their ranges.
	Parts []StatusPart
	// Done, Started and Missing list the segments that are done, that a
	// checkpoint has a position in, and that no checkpoint covers.
	Done, Started, Missing []int
	// Stats are the sums of the parts' counts (Total is the sum of their
	// estimates). Items a process processed again after it was killed
	// (since its last checkpoint) are counted again, as already current.
	Stats Stats
}

// StatusPart is one checkpoint file.
type StatusPart struct {
	Path    string
	Range   SegmentRange
	Done    int // segments of Range that are done
	Written time.Time
	Stats   Stats
}

// Complete reports whether every segment is done.
func (s *Status) Complete() bool { return len(s.Done) == s.Segments }

// ReadStatus reads the checkpoint files at paths (a directory stands for
// the *.checkpoint files in it) and merges them. They must belong to one
// rotation: the same table, segments, target keys and kind of run.
func ReadStatus(paths []string) (*Status, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rotate: status: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.checkpoint"))
		if err != nil {
			return nil, fmt.Errorf("rotate: status: %w", err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, errors.New("rotate: status: no checkpoint files (a finished run over all segments removes its checkpoint)")
	}
	var st Status
	var rotation string
	owner := map[int]string{} // segment → the file that covers it
	done := map[int]bool{}
	started := map[int]bool{}
	for _, path := range files {
		cj, err := readCheckpoint(path)
		if err != nil {
			return nil, err
		}
		bad := func(why string) error { return fmt.Errorf("rotate: status: checkpoint %s: %s", path, why) }
		rot, n := cj.Rotation, cj.TotalSegments
		if rot == "" { // written by a run over all segments before ranges existed
			rot, n = cj.Fingerprint, len(cj.Segments)
		}
		if rotation == "" {
			rotation, st.Table, st.Segments = rot, cj.Table, n
		} else if rot != rotation {
			return nil, bad(fmt.Sprintf("belongs to another rotation than %s (table %q; or other segments, target keys or dry run)", files[0], cj.Table))
		}
		if n < 1 || n > maxSegments || cj.FirstSegment < 0 || len(cj.Segments) == 0 || cj.FirstSegment+len(cj.Segments) > n {
			return nil, bad("its segments are not within the rotation's")
		}
		s, err := cj.state(func(why string) error { return bad(why) })
		if err != nil {
			return nil, err
		}
		part := StatusPart{Path: path, Range: SegmentRange{cj.FirstSegment, cj.FirstSegment + len(cj.Segments) - 1}, Written: cj.Written, Stats: s.stats}
		for i, sg := range s.segs {
			seg := cj.FirstSegment + i
			if other, dup := owner[seg]; dup {
				return nil, bad(fmt.Sprintf("segment %d is in %s too: give each process its own range", seg, other))
			}
			owner[seg] = path
			if sg.done {
				part.Done++
				done[seg] = true
			} else if sg.after != nil {
				started[seg] = true
			}
		}
		st.Parts = append(st.Parts, part)
		st.Stats = sumStats(st.Stats, s.stats)
	}
	slices.SortFunc(st.Parts, func(a, b StatusPart) int { return a.Range.First - b.Range.First })
	for seg := range st.Segments {
		switch {
		case done[seg]:
			st.Done = append(st.Done, seg)
		case started[seg]:
			st.Started = append(st.Started, seg)
		}
		if _, ok := owner[seg]; !ok {
			st.Missing = append(st.Missing, seg)
		}
	}
	return &st, nil
}

// sumStats adds b's counts and lists to a's.
func sumStats(a, b Stats) Stats {
	a.Total += b.Total
	a.Scanned += b.Scanned
	a.Rotated += b.Rotated
	a.Current += b.Current
	a.Conflicts += b.Conflicts
	a.Failed += b.Failed
	a.ConflictKeys = append(a.ConflictKeys, b.ConflictKeys[:min(len(b.ConflictKeys), MaxListed-len(a.ConflictKeys))]...)
	a.Failures = append(a.Failures, b.Failures[:min(len(b.Failures), MaxListed-len(a.Failures))]...)
	return a
}

// Ranges renders segment numbers as ranges: "0-3,6".
func Ranges(segs []int) string {
	var parts []string
	for i := 0; i < len(segs); {
		j := i
		for j+1 < len(segs) && segs[j+1] == segs[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(segs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", segs[i], segs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

package rotate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// the kind of run and the target's key identity. Every process of one
// rotation has the same. Key material never enters it.
func (r *runner) rotationID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00%q\x00%q\x00%d\x00%t\x00%q\x00%t",
		checkpointFormat, r.st.ident(), r.pk, r.sk, r.target.TableName(), r.cfg.Segments, r.cfg.DryRun,
		r.identity, r.cfg.IsCurrent != nil)
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
		return nil, bad(fmt.Sprintf("it belongs to another rotation (table %q, or other keys, segments, segment range, dry-run or target key)", cj.Table))
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
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpointSize+1))
	if err != nil {
		return nil, fmt.Errorf("rotate: checkpoint: %w", err)
	}
	if len(b) > maxCheckpointSize {
		return nil, fmt.Errorf("rotate: checkpoint %s: larger than %d bytes, not a checkpoint", path, maxCheckpointSize)
	}
	var cj checkpointJSON
	if err := json.Unmarshal(b, &cj); err != nil || cj.Format != checkpointFormat {
		return nil, fmt.Errorf("rotate: checkpoint %s: not a checkpoint of itemcrypto rotate; remove it to start over", path)
	}
	return &cj, nil
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

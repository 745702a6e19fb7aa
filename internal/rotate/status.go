package rotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

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

package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
)

// Open opens the Storage kept in dir, creating the directory if it does
// not exist, and recovers its state from the files there (the rules are
// in the package comment): it reads the newest snapshot and replays the
// segments. A torn record at the end of the last segment, left by a crash
// in the middle of a write that was never acknowledged, is cut away and
// logged. Damage that a crash cannot explain is refused with an error
// matching ErrCorrupt, and the files are left untouched.
//
// Open reads the whole log into memory, one segment after another: the
// Storage keeps the entries after the snapshot in memory anyway.
//
// Open takes an exclusive lock on dir, held until Close: if another
// Storage has it, Open returns an error matching ErrLocked.
func Open(dir string, opts ...Option) (*Storage, error) {
	o := newOptions(opts)
	if err := o.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	l, err := o.fs.Lock(dir)
	if errors.Is(err, vfs.ErrLocked) {
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	s := &Storage{dir: dir, fs: o.fs, log: o.logger, segmentSize: o.segmentSize, dirLock: l}
	if err := s.recover(); err != nil {
		l.Close()
		return nil, err
	}
	return s, nil
}

// dirFiles is what recovery finds in the directory.
type dirFiles struct {
	segs  []uint64 // segment sequence numbers, ascending
	snaps []uint64 // snapshot indexes, ascending
	temps []string // leftovers of an interrupted WriteFileAtomic
}

func (s *Storage) readDir() (dirFiles, error) {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return dirFiles{}, fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	var d dirFiles
	for _, name := range names {
		if n, ok := parseName(name, ".wal"); ok {
			d.segs = append(d.segs, n)
		} else if n, ok := parseName(name, ".snap"); ok {
			d.snaps = append(d.snaps, n)
		} else if strings.HasSuffix(name, ".snap.tmp") {
			d.temps = append(d.temps, name)
		}
	}
	slices.Sort(d.segs)
	slices.Sort(d.snaps)
	return d, nil
}

// recover rebuilds the Storage's state from its directory. It changes
// nothing on disk until every check has passed.
func (s *Storage) recover() error {
	d, err := s.readDir()
	if err != nil {
		return err
	}
	if len(d.segs) == 0 {
		if len(d.snaps) > 0 {
			return corrupt(s.path(snapshotName(d.snaps[0])), 0, errors.New("a snapshot file, but no segment"))
		}
		return s.create(d.temps)
	}
	for i := 1; i < len(d.segs); i++ {
		if d.segs[i] != d.segs[i-1]+1 {
			return corrupt(s.path(segmentName(d.segs[i-1]+1)), 0,
				fmt.Errorf("segment missing between %s and %s", segmentName(d.segs[i-1]), segmentName(d.segs[i])))
		}
	}

	recs, torn, err := s.readSegments(d.segs)
	if err != nil {
		return err
	}
	newest, err := newestMarker(recs)
	if err != nil {
		return err
	}
	if newest.index > 0 {
		if s.snap, err = s.loadSnapshot(newest); err != nil {
			return err
		}
		s.st.snapIndex, s.st.snapTerm = newest.index, newest.term
	}
	if err := replay(&s.st, recs); err != nil {
		return err
	}
	ownData(s.st.ents)

	// Every check passed: only now change the disk.
	tail := s.path(segmentName(d.segs[len(d.segs)-1]))
	if s.tail, err = s.fs.OpenFile(tail, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	if torn != nil {
		if err := s.cut(tail, torn); err != nil {
			s.tail.Close()
			return err
		}
	}
	return s.removeLeftovers(d, newest.index)
}

// readSegments reads and decodes the segments, oldest first, noting in
// s.segs what each holds and in s.tailSize the size of the last. It
// returns their records and the last segment's torn tail, if it has one.
func (s *Storage) readSegments(seqs []uint64) ([]rec, *tornTail, error) {
	var (
		recs []rec
		torn *tornTail
	)
	for i, seq := range seqs {
		name := s.path(segmentName(seq))
		b, err := s.fs.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("wal: open %s: %w", s.dir, err)
		}
		r, t, err := decodeSegment(name, b, i == len(seqs)-1)
		if err != nil {
			return nil, nil, err
		}
		seg := segment{seq: seq}
		for _, x := range r {
			if n := len(x.ents); n > 0 {
				seg.maxIndex = max(seg.maxIndex, x.ents[n-1].Index)
			}
		}
		s.segs = append(s.segs, seg)
		recs = append(recs, r...)
		torn, s.tailSize = t, int64(len(b))
	}
	return recs, torn, nil
}

// newestMarker returns the last snapshot record of the log (zero if there
// is none), checking that each is newer than the one before.
func newestMarker(recs []rec) (marker, error) {
	var newest marker
	for _, r := range recs {
		if r.typ != recSnapshot {
			continue
		}
		if r.mark.index <= newest.index {
			return marker{}, corrupt(r.file, int(r.off),
				fmt.Errorf("snapshot record at index %d after one at index %d", r.mark.index, newest.index))
		}
		newest = r.mark
	}
	return newest, nil
}

// replay applies the records to st, which starts out holding the newest
// snapshot's index and term and no entries. Entries that snapshot covers
// are skipped, so the entries the older, deleted segments held are never
// needed: the skipped records can only have discarded entries that the
// newest snapshot record, later in the log, discards again (it records
// the log's last index as it was then).
func replay(st *state, recs []rec) error {
	for _, r := range recs {
		switch r.typ {
		case recBatch:
			if err := st.append(r.ents); err != nil {
				return corrupt(r.file, int(r.off), err)
			}
			if !r.hs.IsEmpty() {
				st.hs = r.hs
			}
		case recSnapshot:
			st.compact(r.mark)
		}
	}
	return nil
}

// loadSnapshot reads the snapshot file that m refers to.
func (s *Storage) loadSnapshot(m marker) (raft.Snapshot, error) {
	name := s.path(snapshotName(m.index))
	b, err := s.fs.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return raft.Snapshot{}, corrupt(name, 0, errors.New("the log's newest snapshot record refers to this file, which is missing"))
	}
	if err != nil {
		return raft.Snapshot{}, fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	snap, err := decodeSnapshotFile(b)
	if err != nil {
		return raft.Snapshot{}, corrupt(name, 0, err)
	}
	if snap.Index != m.index || snap.Term != m.term {
		return raft.Snapshot{}, corrupt(name, 0, fmt.Errorf("snapshot of index %d term %d, but the log says index %d term %d",
			snap.Index, snap.Term, m.index, m.term))
	}
	snap.Data = append([]byte(nil), snap.Data...)
	return snap, nil
}

// cut truncates the torn tail away and fsyncs the file. The fsync comes
// before any new record is appended: were the cut lost in a crash after
// new records were written, the damaged bytes would come back with valid
// records after them, which Open must refuse.
func (s *Storage) cut(name string, t *tornTail) error {
	s.log.Warn("wal: cutting a torn record off the end of the log (a write interrupted by a crash, never acknowledged)",
		"file", name, "offset", t.off, "bytes", s.tailSize-t.off, "reason", t.reason)
	if err := s.tail.Truncate(t.off); err != nil {
		return fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	if err := s.tail.Sync(); err != nil {
		return fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	s.tailSize = t.off
	return nil
}

// removeLeftovers deletes what an interrupted SaveSnapshot can leave:
// temporary files, a snapshot file no record refers to yet (the crash came
// before the record), and older snapshot files (it came before they were
// deleted).
func (s *Storage) removeLeftovers(d dirFiles, keep uint64) error {
	var names []string
	names = append(names, d.temps...)
	for _, index := range d.snaps {
		if index != keep {
			names = append(names, snapshotName(index))
		}
	}
	for _, name := range names {
		s.log.Info("wal: removing a leftover file", "file", s.path(name))
		if err := s.fs.Remove(s.path(name)); err != nil {
			s.tail.Close()
			return fmt.Errorf("wal: open %s: %w", s.dir, err)
		}
	}
	if len(names) > 0 {
		if err := s.fs.SyncDir(s.dir); err != nil {
			s.tail.Close()
			return fmt.Errorf("wal: open %s: %w", s.dir, err)
		}
	}
	return nil
}

// create starts the log of a new Storage: its first, empty segment, whose
// name is made durable before a Save may write to it.
func (s *Storage) create(temps []string) error {
	f, err := s.fs.OpenFile(s.path(segmentName(1)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	s.tail = f
	s.segs = []segment{{seq: 1}}
	for _, name := range temps {
		if err := s.fs.Remove(s.path(name)); err != nil {
			f.Close()
			return fmt.Errorf("wal: open %s: %w", s.dir, err)
		}
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		f.Close()
		return fmt.Errorf("wal: open %s: %w", s.dir, err)
	}
	return nil
}

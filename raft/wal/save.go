package wal

import (
	"errors"
	"fmt"
	"os"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
)

// Save makes hs and entries durable, then returns: it appends them to the
// current segment as one record and fsyncs the file, once per call, so a
// driver that saves a whole Ready batch at a time pays for one fsync per
// batch. A crash keeps the whole Save or none of it, and none of it only
// if Save had not returned.
//
// entries must be consecutive, and the first must not be beyond
// LastIndex()+1. The first may replace entries already in the log at the
// same and later indexes, which are then discarded (§5.3). Entries the
// snapshot already covers are skipped. A zero hs, or one equal to the
// hard state saved last, leaves the hard state as it was; if nothing is
// left to write, Save writes nothing. The Storage keeps its own copy of
// the entries' Data.
//
// If writing or syncing fails, Save returns the error and the Storage
// fails for good: what reached the disk is unknown (after a failed fsync
// the kernel may have dropped the dirty pages), so every later Save and
// SaveSnapshot returns the same error. Reads still answer with the state
// before the failed call; Close and Open again to recover from the disk.
// After Close, Save returns ErrClosed.
func (s *Storage) Save(hs raft.HardState, entries []raft.Entry) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if hs == s.st.hs {
		hs = raft.HardState{}
	}
	entries = s.st.uncompacted(entries)
	if err := s.checkEntries(entries); err != nil {
		return err
	}
	if hs.IsEmpty() && len(entries) == 0 {
		return nil
	}
	if n := batchSize(entries); n > maxRecordLen {
		return fmt.Errorf("wal: save: a batch of %d bytes is more than the %d a record may hold", n, maxRecordLen)
	}
	if s.tailSize >= s.segmentSize {
		if err := s.roll(); err != nil {
			return s.fail(fmt.Errorf("wal: save: %w", err))
		}
	}
	s.payload = appendBatch(s.payload[:0], hs, entries)
	if err := s.appendRecord(recBatch, s.payload); err != nil {
		return s.fail(fmt.Errorf("wal: save: %w", err))
	}

	// Durable: now the memory may say so.
	if len(entries) > 0 {
		tail := &s.segs[len(s.segs)-1]
		tail.maxIndex = max(tail.maxIndex, entries[len(entries)-1].Index)
	}
	entries = append([]raft.Entry(nil), entries...)
	ownData(entries)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hs.IsEmpty() {
		s.st.hs = hs
	}
	_ = s.st.append(entries) // cannot fail: checkEntries passed
	return nil
}

// checkEntries returns an error if entries (uncompacted ones) are not
// consecutive or would leave a gap after the log's last entry.
func (s *Storage) checkEntries(entries []raft.Entry) error {
	for i, e := range entries {
		if i > 0 && e.Index != entries[i-1].Index+1 {
			return fmt.Errorf("wal: save: entry %d follows entry %d", e.Index, entries[i-1].Index)
		}
	}
	if len(entries) > 0 && entries[0].Index > s.st.lastIndex()+1 {
		return fmt.Errorf("wal: save: entry %d would leave a gap after the last entry, %d",
			entries[0].Index, s.st.lastIndex())
	}
	return nil
}

// SaveSnapshot makes snap durable and discards the log entries it stands
// for. Entries after snap.Index are kept if the log has an entry at
// snap.Index with term snap.Term (the snapshot is a prefix of this log);
// otherwise the whole log is discarded (Figure 13, rules 6 and 7). A
// snapshot not newer than the current one returns raft.ErrSnapshotOutOfDate
// and changes nothing.
//
// The order of the steps is what makes a crash at any point leave either
// the old state or the new one:
//
//  1. write the snapshot file whole (temporary file, fsync, rename,
//     directory fsync), under a name of its own that no record refers to
//     yet, so that until step 2 it is an orphan that Open deletes;
//  2. append a snapshot record to the log and fsync: from here on, Open
//     finds the snapshot through it;
//  3. only now delete the old snapshot file and the segments the snapshot
//     covers, oldest first, fsyncing the directory after each, so that
//     the segments left are always consecutive.
//
// Deleting before step 2 was durable could leave, after a crash, a log
// whose newest snapshot record names a deleted file, or whose entries have
// a hole. Errors are handled as for Save. After Close it returns ErrClosed.
func (s *Storage) SaveSnapshot(snap raft.Snapshot) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if snap.Index <= s.st.snapIndex {
		return raft.ErrSnapshotOutOfDate
	}
	m := marker{index: snap.Index, term: snap.Term, last: snap.Index}
	if t, ok := s.st.term(snap.Index); ok && t == snap.Term {
		m.last = s.st.lastIndex()
	}

	if err := vfs.WriteFileAtomic(s.fs, s.path(snapshotName(snap.Index)), encodeSnapshotFile(snap), 0o644); err != nil {
		return s.fail(fmt.Errorf("wal: save snapshot: %w", err))
	}
	s.payload = appendMarker(s.payload[:0], m)
	if err := s.appendRecord(recSnapshot, s.payload); err != nil {
		return s.fail(fmt.Errorf("wal: save snapshot: %w", err))
	}

	snap.Data = append([]byte(nil), snap.Data...)
	oldIndex := s.st.snapIndex
	s.mu.Lock()
	s.st.compact(m)
	s.snap = snap
	s.mu.Unlock()

	if err := s.removeCovered(oldIndex); err != nil {
		return s.fail(fmt.Errorf("wal: save snapshot: the snapshot is saved, but %w", err))
	}
	return nil
}

// removeCovered deletes the snapshot file of oldIndex (if there was one)
// and every segment but the last whose entries the snapshot covers. The
// caller has made the snapshot record durable.
func (s *Storage) removeCovered(oldIndex uint64) error {
	if oldIndex > 0 {
		if err := s.remove(snapshotName(oldIndex)); err != nil {
			return err
		}
	}
	for len(s.segs) > 1 && s.segs[0].maxIndex <= s.st.snapIndex {
		if err := s.remove(segmentName(s.segs[0].seq)); err != nil {
			return err
		}
		s.log.Debug("wal: deleted a segment the snapshot covers",
			"segment", segmentName(s.segs[0].seq), "snapshot", s.st.snapIndex)
		s.segs = s.segs[1:]
	}
	return nil
}

// remove deletes a file of the directory and fsyncs the directory, so the
// deletion is durable before the next one starts.
func (s *Storage) remove(name string) error {
	if err := s.fs.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return s.fs.SyncDir(s.dir)
}

// appendRecord writes one record at the end of the tail segment and
// fsyncs it.
func (s *Storage) appendRecord(typ recordType, payload []byte) error {
	s.buf = appendRecord(s.buf[:0], typ, payload)
	defer s.trimScratch()
	if _, err := s.tail.Write(s.buf); err != nil {
		return err
	}
	if err := s.tail.Sync(); err != nil {
		return err
	}
	s.tailSize += int64(len(s.buf))
	return nil
}

// maxScratch is the most scratch space the Storage keeps between calls:
// one huge batch should not pin its size in memory for good.
const maxScratch = 1 << 20

func (s *Storage) trimScratch() {
	if cap(s.buf) > maxScratch {
		s.buf, s.payload = nil, nil
	}
}

// roll starts a new segment and makes it the tail. The new segment starts
// with the current hard state, so that the older segments can be deleted
// without losing it. Its name is made durable (directory fsync) before
// anything is written to it that a caller will be told is saved.
func (s *Storage) roll() error {
	seq := s.segs[len(s.segs)-1].seq + 1
	f, err := s.fs.OpenFile(s.path(segmentName(seq)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var size int64
	if !s.st.hs.IsEmpty() {
		rec := appendRecord(nil, recBatch, appendBatch(nil, s.st.hs, nil))
		_, err = f.Write(rec)
		size = int64(len(rec))
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = s.fs.SyncDir(s.dir)
	}
	if err != nil {
		f.Close()
		return err
	}
	if err := s.tail.Close(); err != nil {
		f.Close()
		return err
	}
	s.log.Debug("wal: started a segment", "segment", segmentName(seq))
	s.tail, s.tailSize = f, size
	s.segs = append(s.segs, segment{seq: seq})
	return nil
}

// writable returns why the Storage may not be written, if it may not.
func (s *Storage) writable() error {
	if s.closed {
		return ErrClosed
	}
	return s.failed
}

// fail records err as the Storage's failure and returns it.
func (s *Storage) fail(err error) error {
	s.failed = err
	return err
}

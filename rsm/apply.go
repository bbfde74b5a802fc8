package rsm

import (
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/raft"
)

// entryOverhead is what an entry costs in the log beyond its command: its
// index, term, type and framing. It makes WithMaxRaftState count a log of
// many tiny commands honestly.
const entryOverhead = 24

// run is the apply loop: it takes what the node commits, in log order,
// and applies it to the state machine, until Close closes the node's
// Apply channel.
//
//	raft.Node ──Apply()──► run ──► session check ──► sm.Apply ──► waiter (Submit)
//	                        │
//	                        └──► every MaxRaftState bytes: sm.Snapshot ──► node.Snapshot
func (r *RSM) run() {
	defer close(r.stopped)
	for m := range r.node.Apply() {
		r.mu.Lock()
		if r.err == nil {
			if m.Snapshot.IsEmpty() {
				r.applyEntry(m)
			} else {
				r.restore(m.Snapshot)
			}
		}
		index, data := r.snapshotDue()
		r.mu.Unlock()
		if data != nil {
			r.saveSnapshot(index, data)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = ErrClosed
	}
	for _, w := range r.waiters {
		w.finish(nil, r.err)
	}
}

// applyEntry applies one committed command or query. The caller holds mu.
func (r *RSM) applyEntry(m raft.ApplyMsg) {
	defer r.advance(m.Index)
	r.sinceSnap += len(m.Command) + entryOverhead
	e, err := decodeEntry(m.Command)
	if err != nil {
		return // not an RSM's entry: nothing to apply, no one waits for it
	}
	var result []byte
	var rerr error
	switch s, seen := r.sessions[e.client]; {
	case e.kind == kindQuery:
		result = r.sm.Query(e.payload)
		r.stats.Queries++
	case e.client != 0 && seen && e.seq == s.seq:
		result = s.result // a retry of the latest: its first result
		r.stats.Duplicates++
	case e.client != 0 && seen && e.seq < s.seq:
		rerr = ErrStaleRequest
		r.stats.Duplicates++
	default:
		result = r.sm.Apply(e.payload)
		r.stats.Applied++
		if e.client != 0 {
			r.sessions[e.client] = session{seq: e.seq, result: result}
		}
	}
	if w, ok := r.waiters[e.proposal]; ok && e.nonce == r.nonce {
		w.finish(result, rerr)
	}
}

// advance records that the log is applied up to index, answers the
// waiters whose entries were at or before it and did not come out (their
// entries were replaced), and wakes the reads waiting for index. The
// caller holds mu.
func (r *RSM) advance(index uint64) {
	for i := r.applied + 1; i <= index && len(r.byIndex) > 0; i++ {
		for _, id := range r.byIndex[i] {
			if w := r.waiters[id]; w != nil {
				w.finish(nil, ErrNotApplied)
			}
		}
		delete(r.byIndex, i)
	}
	r.applied = index
	close(r.advanced)
	r.advanced = make(chan struct{})
}

// restore installs a snapshot in place of the state machine and the
// sessions. The waiters whose entries it covers learn their outcome
// from their sessions. The caller holds mu.
func (r *RSM) restore(snap raft.Snapshot) {
	sessions, data, err := decodeSnapshot(snap.Data)
	if err == nil {
		if err = r.sm.Restore(data); err != nil {
			err = fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		}
	}
	if err != nil {
		r.err = fmt.Errorf("snapshot at %d: %w", snap.Index, err)
		for _, w := range r.waiters {
			w.finish(nil, r.err)
		}
		return
	}
	r.sessions = sessions
	r.sinceSnap = 0
	r.restoredTo = snap.Index
	r.stats.Restores++
	for i, ids := range r.byIndex {
		if i <= snap.Index {
			for _, id := range ids {
				if w := r.waiters[id]; w != nil {
					w.finish(r.outcomeBySession(w))
				}
			}
			delete(r.byIndex, i)
		}
	}
	r.applied = snap.Index
	close(r.advanced)
	r.advanced = make(chan struct{})
}

// outcomeBySession tells a waiter whose entry a snapshot covers what
// became of its command: its session knows. The caller holds mu.
func (r *RSM) outcomeBySession(w *waiter) ([]byte, error) {
	s, ok := r.sessions[w.client]
	switch {
	case w.client == 0:
		return nil, ErrMaybeApplied // no session to ask
	case ok && s.seq == w.seq:
		return s.result, nil
	case ok && s.seq > w.seq:
		return nil, ErrStaleRequest
	default:
		return nil, ErrNotApplied
	}
}

// snapshotDue returns the state to snapshot and its index, if the log has
// grown past MaxRaftState since the last snapshot. The caller holds mu.
func (r *RSM) snapshotDue() (uint64, []byte) {
	if r.opts.maxRaftState <= 0 || r.sinceSnap < r.opts.maxRaftState || r.err != nil {
		return 0, nil
	}
	r.sinceSnap = 0
	r.stats.Snapshots++
	return r.applied, encodeSnapshot(r.sessions, r.sm.Snapshot())
}

// saveSnapshot hands a snapshot to the node, which saves it and discards
// the log it covers. A snapshot that a newer one (installed from the
// leader) already covers is not needed; a storage error stops the node,
// which Close reports.
func (r *RSM) saveSnapshot(index uint64, data []byte) {
	err := r.node.Snapshot(index, data)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil, errors.Is(err, raft.ErrSnapshotOutOfDate), errors.Is(err, raft.ErrClosed):
	case errors.Is(err, raft.ErrSnapshotIndex):
		// The node counts an entry as delivered only after the send on
		// Apply has completed, so a Snapshot made at once, from the
		// goroutine that received it, can be refused (a raft bug; see
		// TestRaftSnapshotOfTheEntryJustReceived). Try again after the
		// next entry.
		r.sinceSnap = r.opts.maxRaftState
		r.stats.Snapshots--
	default:
		r.err = fmt.Errorf("rsm: snapshot at %d: %w", index, err)
	}
}

package wal

import (
	"fmt"
	"slices"

	"github.com/distsys-kit/distsys/raft"
)

// state is the log as the Storage holds it in memory, and as recovery
// rebuilds it from the records: the hard state, the index and term the
// snapshot stands for, and the entries after it. Save and SaveSnapshot
// change it through the same two methods, append and compact, that replay
// applies to the records they wrote, so that replay cannot disagree with
// what the live Storage did.
type state struct {
	hs        raft.HardState
	snapIndex uint64
	snapTerm  uint64
	ents      []raft.Entry // ents[i].Index == snapIndex+1+i
}

func (st *state) firstIndex() uint64 { return st.snapIndex + 1 }
func (st *state) lastIndex() uint64  { return st.snapIndex + uint64(len(st.ents)) }

// term returns the term of the entry at index i, or of the snapshot if i
// is its index, and whether the log knows it.
func (st *state) term(i uint64) (uint64, bool) {
	switch {
	case i == st.snapIndex:
		return st.snapTerm, true
	case i < st.snapIndex || i > st.lastIndex():
		return 0, false
	}
	return st.ents[i-st.snapIndex-1].Term, true
}

// uncompacted returns the entries that append would act on: ents less
// those the snapshot already covers.
func (st *state) uncompacted(ents []raft.Entry) []raft.Entry {
	for len(ents) > 0 && ents[0].Index <= st.snapIndex {
		ents = ents[1:]
	}
	return ents
}

// append applies consecutive entries: those the snapshot covers are
// skipped (they are committed, so they cannot differ), and the rest
// replace the log from their first index on, which discards a conflicting
// suffix (§5.3). An entry record carries its index, so the discarding is
// written down and replay repeats it. It returns an error, and changes
// nothing, if the entries would leave a gap after the last one.
func (st *state) append(ents []raft.Entry) error {
	ents = st.uncompacted(ents)
	if len(ents) == 0 {
		return nil
	}
	if first, last := ents[0].Index, st.lastIndex(); first > last+1 {
		return fmt.Errorf("entry %d would leave a gap after the last entry, %d", first, last)
	}
	st.ents = append(st.ents[:ents[0].Index-st.firstIndex()], ents...)
	return nil
}

// compact applies a snapshot marker: entries after m.last are discarded,
// then those up to m.index, which the snapshot now stands for.
//
// During replay a marker can be older than the state's snapshot (recovery
// starts from the newest marker's snapshot and skips the entries it
// covers; see replay). Such a marker only discards what follows m.last,
// which is what it did when it was written.
func (st *state) compact(m marker) {
	if m.last < st.lastIndex() {
		st.ents = st.ents[:max(m.last, st.snapIndex)-st.snapIndex]
	}
	if m.index <= st.snapIndex {
		return
	}
	if m.index < st.lastIndex() {
		// Copy, so the discarded entries' memory is freed.
		st.ents = slices.Clone(st.ents[m.index-st.snapIndex:])
	} else {
		st.ents = nil
	}
	st.snapIndex, st.snapTerm = m.index, m.term
}

// ownData gives the entries Data of their own, in one allocation, so that
// the log holds on to no caller's buffer and no whole segment file. Empty
// Data becomes nil, as a round trip through a file would make it.
func ownData(ents []raft.Entry) {
	n := 0
	for _, e := range ents {
		n += len(e.Data)
	}
	arena := make([]byte, 0, n)
	for i, e := range ents {
		if len(e.Data) == 0 {
			ents[i].Data = nil
			continue
		}
		start := len(arena)
		arena = append(arena, e.Data...)
		ents[i].Data = arena[start:len(arena):len(arena)]
	}
}

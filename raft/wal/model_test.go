package wal_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

const dir = "/node"

// openMem opens the Storage in dir on m with small segments, and closes
// it at the end of the test.
func openMem(tb testing.TB, m *vfs.Mem, opts ...wal.Option) *wal.Storage {
	tb.Helper()
	s, err := wal.Open(dir, append([]wal.Option{wal.WithFS(m), wal.WithSegmentSize(256)}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// model is what a raft.Storage must hold, written as plainly as possible
// to check the real one against: the log as a slice, no files.
type model struct {
	hs   raft.HardState
	snap raft.Snapshot
	ents []raft.Entry // the entries after snap.Index
}

func (m model) clone() model {
	m.ents = slices.Clone(m.ents)
	return m
}

func (m model) last() uint64 { return m.snap.Index + uint64(len(m.ents)) }

func (m model) term(i uint64) (uint64, bool) {
	if i == m.snap.Index {
		return m.snap.Term, true
	}
	if i < m.snap.Index || i > m.last() {
		return 0, false
	}
	return m.ents[i-m.snap.Index-1].Term, true
}

func (m *model) save(hs raft.HardState, ents []raft.Entry) {
	if !hs.IsEmpty() {
		m.hs = hs
	}
	for _, e := range ents {
		if e.Index <= m.snap.Index {
			continue
		}
		if len(e.Data) == 0 {
			e.Data = nil
		}
		m.ents = append(m.ents[:e.Index-m.snap.Index-1], e)
	}
}

func (m *model) saveSnapshot(snap raft.Snapshot) {
	if t, ok := m.term(snap.Index); ok && t == snap.Term {
		m.ents = slices.Clone(m.ents[snap.Index-m.snap.Index:])
	} else {
		m.ents = nil
	}
	if len(snap.Data) == 0 {
		snap.Data = nil
	}
	m.snap = snap
}

// view is everything a Storage answers, for comparing two of them.
type view struct {
	HS          raft.HardState
	Snap        raft.Snapshot
	First, Last uint64
	SnapTerm    uint64 // Term(First-1)
	Ents        []raft.Entry
}

func (m model) view() view {
	v := view{HS: m.hs, Snap: m.snap, First: m.snap.Index + 1, Last: m.last(), SnapTerm: m.snap.Term}
	if len(m.ents) > 0 {
		v.Ents = m.ents
	}
	return v
}

func viewOf(tb testing.TB, s *wal.Storage) view {
	tb.Helper()
	var v view
	var err error
	v.HS, err = s.InitialState()
	require.NoError(tb, err)
	v.Snap, err = s.Snapshot()
	require.NoError(tb, err)
	v.First, err = s.FirstIndex()
	require.NoError(tb, err)
	v.Last, err = s.LastIndex()
	require.NoError(tb, err)
	v.SnapTerm, err = s.Term(v.First - 1)
	require.NoError(tb, err)
	if v.Last >= v.First {
		v.Ents, err = s.Entries(v.First, v.Last+1, 1<<62)
		require.NoError(tb, err)
	}
	return v
}

// equal compares views the way require.Equal would, for branching on.
func (v view) equal(w view) bool {
	if v.HS != w.HS || v.First != w.First || v.Last != w.Last || v.SnapTerm != w.SnapTerm ||
		v.Snap.Index != w.Snap.Index || v.Snap.Term != w.Snap.Term || !bytes.Equal(v.Snap.Data, w.Snap.Data) ||
		len(v.Ents) != len(w.Ents) {
		return false
	}
	for i := range v.Ents {
		a, b := v.Ents[i], w.Ents[i]
		if a.Index != b.Index || a.Term != b.Term || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
			return false
		}
	}
	return true
}

// ents returns entries lo…hi of term t, with data naming them.
func ents(lo, hi, t uint64) []raft.Entry {
	var es []raft.Entry
	for i := lo; i <= hi; i++ {
		es = append(es, raft.Entry{Index: i, Term: t, Data: []byte{byte(i), byte(t), 'x'}})
	}
	return es
}

package wal_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

// A scenario brings a Storage (segments of 256 bytes) to some state, then
// makes one call whose file operations a test looks at.
type scenario struct {
	name  string
	setup []op
	call  op
}

func big(lo, hi, t uint64) []raft.Entry {
	es := ents(lo, hi, t)
	for i := range es {
		es[i].Data = make([]byte, 200)
	}
	return es
}

var scenarios = []scenario{
	{
		name:  "save appending to the last segment",
		setup: []op{{hs: raft.HardState{Term: 1}, ents: ents(1, 3, 1)}},
		call:  op{hs: raft.HardState{Term: 1, Commit: 3}, ents: ents(4, 5, 1)},
	},
	{
		name:  "save starting a new segment",
		setup: []op{{hs: raft.HardState{Term: 1}, ents: big(1, 2, 1)}},
		call:  op{hs: raft.HardState{Term: 1, Commit: 2}, ents: ents(3, 4, 1)},
	},
	{
		name:  "save replacing a conflicting suffix",
		setup: []op{{hs: raft.HardState{Term: 1}, ents: ents(1, 6, 1)}},
		call:  op{hs: raft.HardState{Term: 2, VotedFor: 1}, ents: ents(4, 5, 2)},
	},
	{
		name: "snapshot keeping the log's tail, deleting segments and the old snapshot",
		setup: []op{
			{hs: raft.HardState{Term: 1, VotedFor: 2}, ents: big(1, 2, 1)},
			{ents: big(3, 4, 1)},
			{snapshot: true, snap: raft.Snapshot{Index: 1, Term: 1, Data: []byte("one")}},
			{ents: big(5, 6, 1)},
			{ents: ents(7, 9, 1)},
		},
		call: op{snapshot: true, snap: raft.Snapshot{Index: 7, Term: 1, Data: []byte("seven")}},
	},
	{
		name: "snapshot replacing the whole log",
		setup: []op{
			{hs: raft.HardState{Term: 1}, ents: big(1, 2, 1)},
			{ents: big(3, 4, 1)},
			{ents: ents(5, 6, 1)},
		},
		call: op{snapshot: true, snap: raft.Snapshot{Index: 5, Term: 3, Data: []byte("leader's")}},
	},
}

// prepare opens a Storage on m and runs sc's setup, returning the model.
func (sc scenario) prepare(t *testing.T, m *vfs.Mem) (*wal.Storage, model) {
	t.Helper()
	s := openMem(t, m)
	var mod model
	for _, o := range sc.setup {
		require.NoError(t, o.run(s), "setup: %s", o)
		o.apply(&mod)
	}
	return s, mod
}

// opsOf returns the file operations of sc's call.
func (sc scenario) opsOf(t *testing.T) []vfs.Op {
	m := vfs.NewMem()
	s, _ := sc.prepare(t, m)
	m.ResetOps()
	require.NoError(t, sc.call.run(s))
	return m.Ops()
}

// Before a call returns, every byte it wrote is fsynced after it was
// written, and every name it created, renamed or removed is made durable
// by an fsync of its directory.
func TestEverythingIsDurableBeforeACallReturns(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ops := sc.opsOf(t)
			for i, o := range ops {
				var want vfs.Op
				switch o.Kind {
				case vfs.OpWrite, vfs.OpTruncate:
					want = vfs.Op{Kind: vfs.OpSync, Path: o.Path}
				case vfs.OpCreate, vfs.OpRemove:
					want = vfs.Op{Kind: vfs.OpSyncDir, Path: filepath.Dir(o.Path)}
				case vfs.OpRename:
					want = vfs.Op{Kind: vfs.OpSyncDir, Path: filepath.Dir(o.To)}
				default:
					continue
				}
				assert.True(t, slices.ContainsFunc(ops[i+1:], func(p vfs.Op) bool { return p.Kind == want.Kind && p.Path == want.Path }),
					"%s is not followed by %s before the call returns:\n%s", o, want, opsString(ops))
			}
		})
	}
}

// A Save that does not start a segment costs one write and one fsync.
func TestASaveIsOneWriteAndOneSync(t *testing.T) {
	for _, sc := range []scenario{scenarios[0], scenarios[2]} {
		ops := sc.opsOf(t)
		require.Len(t, ops, 2, opsString(ops))
		assert.Equal(t, vfs.OpWrite, ops[0].Kind)
		assert.Equal(t, vfs.Op{Kind: vfs.OpSync, Path: ops[0].Path}, ops[1])
	}
}

// SaveSnapshot makes the snapshot file durable under its name, then the
// record naming it, and only then deletes what it replaces, fsyncing the
// directory after each deletion so the segments left stay consecutive.
func TestASnapshotIsDurableBeforeWhatItReplacesIsDeleted(t *testing.T) {
	ops := scenarios[3].opsOf(t)
	at := func(from int, kind vfs.OpKind, suffix string) int {
		t.Helper()
		for i := from; i < len(ops); i++ {
			if ops[i].Kind == kind && strings.HasSuffix(ops[i].Path, suffix) {
				return i
			}
		}
		require.Failf(t, "missing op", "no %s of a *%s after op %d:\n%s", kind, suffix, from, opsString(ops))
		return -1
	}
	tmpSync := at(0, vfs.OpSync, ".snap.tmp")
	rename := at(tmpSync, vfs.OpRename, ".snap.tmp")
	dirSync := at(rename, vfs.OpSyncDir, "")
	recordWrite := at(dirSync, vfs.OpWrite, ".wal")
	recordSync := at(recordWrite, vfs.OpSync, ".wal")
	removes := 0
	for i, o := range ops {
		if o.Kind != vfs.OpRemove {
			continue
		}
		removes++
		assert.Greater(t, i, recordSync, "%s before the snapshot record was synced:\n%s", o, opsString(ops))
		require.Less(t, i+1, len(ops))
		assert.Equal(t, vfs.OpSyncDir, ops[i+1].Kind, "%s is not followed at once by a directory sync:\n%s", o, opsString(ops))
	}
	assert.Equal(t, 4, removes, "the old snapshot and three segments:\n%s", opsString(ops))
}

// A crash at any point of a call, here made by failing the call's k-th
// file operation and every one after it and then crashing (losing what
// was not synced, or keeping a torn part of it), leaves either the state
// before the call or the state after it, and the state after it if the
// call returned nil; Open succeeds, and the Storage works on from there.
func TestACrashAtAnyOpOfACallLeavesTheStateBeforeOrAfter(t *testing.T) {
	crashes := []struct {
		name  string
		crash func(*vfs.Mem)
	}{
		{"crash", (*vfs.Mem).Crash},
		{"torn 1", func(m *vfs.Mem) { m.CrashTorn(1) }},
		{"torn 2", func(m *vfs.Mem) { m.CrashTorn(2) }},
		{"torn 3", func(m *vfs.Mem) { m.CrashTorn(3) }},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			n := len(sc.opsOf(t))
			for k := 0; k <= n; k++ {
				for _, c := range crashes {
					crashDuringCall(t, sc, k, c.crash, fmt.Sprintf("op %d of %d, %s", k, n, c.name))
				}
			}
		})
	}
}

func crashDuringCall(t *testing.T, sc scenario, k int, crash func(*vfs.Mem), where string) {
	m := vfs.NewMem()
	s, before := sc.prepare(t, m)
	after := before.clone()
	sc.call.apply(&after)
	count := 0
	m.SetFault(func(vfs.Op) error {
		if count++; count > k {
			return errFault
		}
		return nil
	})
	err := sc.call.run(s)
	m.SetFault(nil)
	if count > k {
		require.ErrorIs(t, err, errFault, "%s: a failed file operation must fail the call", where)
	}
	crash(m)
	s.Close()

	s, err2 := wal.Open(dir, wal.WithFS(m), wal.WithSegmentSize(256))
	require.NoError(t, err2, "%s: reopening", where)
	defer s.Close()
	got := viewOf(t, s)
	if err == nil || got.equal(after.view()) {
		require.Equal(t, after.view(), got, "%s: the call returned %v", where, err)
		before = after
	} else {
		require.Equal(t, before.view(), got, "%s: the call failed (%v)", where, err)
	}

	next := op{hs: raft.HardState{Term: 9}, ents: ents(before.last()+1, before.last()+2, 9)}
	require.NoError(t, next.run(s), "%s: a Save after recovery", where)
	next.apply(&before)
	require.NoError(t, s.Close())
	s, err = wal.Open(dir, wal.WithFS(m), wal.WithSegmentSize(256))
	require.NoError(t, err, "%s: reopening after a Save after recovery", where)
	assert.Equal(t, before.view(), viewOf(t, s), "%s: after a Save after recovery", where)
}

func opsString(ops []vfs.Op) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "%3d %s\n", i, o)
	}
	return b.String()
}

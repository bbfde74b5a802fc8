package wal_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

var (
	soak     = flag.Bool("soak", false, "run the crash-history test over many more seeds and longer histories")
	seedFlag = flag.Uint64("seed", 0, "replay the crash-history test with this seed")
)

// The crash-history test drives a Storage through a random history of
// appends, conflicting overwrites, hard-state changes and snapshots (which
// keep or discard the log and delete segments), beside a model. Between
// calls the machine crashes (losing every unsynced write, or keeping a
// random torn prefix of them), or a call is cut short: its k-th file
// operation and every one after it fail, then the machine crashes. After
// each reopening the Storage must hold exactly the model's state, or, for
// a call cut short, the state before it or after it, and the state after
// it if it returned nil.
func TestEverySavedStateSurvivesCrashes(t *testing.T) {
	seeds, steps := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 400
	switch {
	case *seedFlag != 0:
		seeds = []uint64{*seedFlag}
	case *soak:
		seeds, steps = nil, 3000
		for s := range uint64(200) {
			seeds = append(seeds, s+1)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runHistory(t, seed, steps) })
	}
}

var errFault = errors.New("injected fault")

func runHistory(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	m := vfs.NewMem()
	segmentSize := []int64{128, 512, 4096}[seed%3]
	open := func(step int) *wal.Storage {
		s, err := wal.Open(dir, wal.WithFS(m), wal.WithSegmentSize(segmentSize))
		require.NoError(t, err, "seed %d step %d: reopening", seed, step)
		return s
	}
	crash := func() {
		if rng.IntN(2) == 0 {
			m.Crash()
		} else {
			m.CrashTorn(rng.Int64())
		}
	}
	s := open(0)
	defer func() { s.Close() }()
	g := &generator{rng: rng}
	var mod model

	for step := range steps {
		o := g.next(mod)
		after := mod.clone()
		o.apply(&after)
		switch r := rng.IntN(100); {
		case r < 15: // the call is cut short by a failing disk, then the power goes
			k, n := rng.IntN(10), 0
			m.SetFault(func(vfs.Op) error {
				if n++; n > k {
					return errFault
				}
				return nil
			})
			err := o.run(s)
			m.SetFault(nil)
			crash()
			s.Close()
			s = open(step)
			got := viewOf(t, s)
			if err == nil || got.equal(after.view()) {
				require.Equal(t, after.view(), got, "seed %d step %d: %s (returned %v, k=%d)", seed, step, o, err, k)
				mod = after
			} else {
				require.Equal(t, mod.view(), got, "seed %d step %d: %s failed (k=%d), so the state before it", seed, step, o, k)
			}
		default:
			require.NoError(t, o.run(s), "seed %d step %d: %s", seed, step, o)
			mod = after
			switch r := rng.IntN(100); {
			case r < 10:
				crash()
				s.Close()
				s = open(step)
			case r < 13:
				require.NoError(t, s.Close())
				s = open(step)
			}
			require.Equal(t, mod.view(), viewOf(t, s), "seed %d step %d: after %s", seed, step, o)
		}
	}
}

// op is one call of a history: a Save or a SaveSnapshot.
type op struct {
	snapshot bool
	hs       raft.HardState
	ents     []raft.Entry
	snap     raft.Snapshot
}

func (o op) run(s *wal.Storage) error {
	if o.snapshot {
		return s.SaveSnapshot(o.snap)
	}
	return s.Save(o.hs, o.ents)
}

func (o op) apply(m *model) {
	if o.snapshot {
		m.saveSnapshot(o.snap)
	} else {
		m.save(o.hs, o.ents)
	}
}

func (o op) String() string {
	if o.snapshot {
		return fmt.Sprintf("SaveSnapshot(index %d, term %d, %d bytes)", o.snap.Index, o.snap.Term, len(o.snap.Data))
	}
	if len(o.ents) == 0 {
		return fmt.Sprintf("Save(%+v, no entries)", o.hs)
	}
	return fmt.Sprintf("Save(%+v, entries %d…%d of term %d)", o.hs, o.ents[0].Index, o.ents[len(o.ents)-1].Index, o.ents[0].Term)
}

// generator makes up the calls of a history. They need not make sense to
// raft (the Storage does not judge them), only to the Storage contract.
type generator struct {
	rng  *rand.Rand
	term uint64
}

func (g *generator) next(m model) op {
	first, last := m.snap.Index+1, m.last()
	switch r := g.rng.IntN(100); {
	case r < 40: // append
		return op{hs: g.hardState(m, 30), ents: g.entries(last+1, 1+g.rng.IntN(4), 40)}
	case r < 55 && last >= first: // a new leader's entries replace a suffix
		g.term++
		from := first + g.rng.Uint64N(last-first+1)
		return op{hs: raft.HardState{Term: g.term, VotedFor: g.rng.Uint64N(4)}, ents: g.entries(from, 1+g.rng.IntN(4), 40)}
	case r < 65: // the hard state alone
		return op{hs: g.hardState(m, 100)}
	case r < 70: // entries reaching back into the snapshot
		return op{ents: g.entries(max(m.snap.Index, 2)-1, 2+g.rng.IntN(4), 40)}
	case r < 80 && last >= first: // a snapshot of a prefix of the log
		i := first + g.rng.Uint64N(last-first+1)
		t, _ := m.term(i)
		return op{snapshot: true, snap: raft.Snapshot{Index: i, Term: t, Data: g.data(60)}}
	case r < 84: // a leader's snapshot that replaces the whole log
		g.term++
		return op{snapshot: true, snap: raft.Snapshot{Index: first + g.rng.Uint64N(4), Term: g.term, Data: g.data(60)}}
	default: // big entries, to start new segments
		return op{ents: g.entries(last+1, 1+g.rng.IntN(3), 300)}
	}
}

// hardState returns a new hard state with probability percent/100, and
// otherwise the zero one (unchanged).
func (g *generator) hardState(m model, percent int) raft.HardState {
	if g.rng.IntN(100) >= percent {
		return raft.HardState{}
	}
	if g.rng.IntN(3) == 0 {
		g.term++
	}
	return raft.HardState{Term: g.term, VotedFor: g.rng.Uint64N(4), Commit: g.rng.Uint64N(m.last() + 1)}
}

func (g *generator) entries(from uint64, n, maxData int) []raft.Entry {
	es := make([]raft.Entry, n)
	for i := range es {
		es[i] = raft.Entry{Index: from + uint64(i), Term: g.term, Type: raft.EntryType(g.rng.IntN(2)), Data: g.data(maxData)}
	}
	return es
}

func (g *generator) data(maxLen int) []byte {
	b := make([]byte, g.rng.IntN(maxLen+1))
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Figure 3's guarantees, checked after every step of random runs: lost
// messages, partitions, crashes and restarts, compaction, with PreVote
// and CheckQuorum on and off. Election Safety: at most one leader per
// term. State Machine Safety: no two servers apply different commands at
// the same index. Then, healed, every server applies the same commands
// (liveness), and the leader's log holds every one (Leader Completeness).
func TestSafetyUnderRandomFaults(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runRandomFaults(t, seed, 600)
		})
	}
}

func runRandomFaults(t *testing.T, seed uint64, steps int) {
	configure := func(c *Config) {
		c.Seed = int64(seed)
		c.PreVote = seed%2 == 0
		c.CheckQuorum = seed%3 == 0
		c.MaxMsgBytes = 64
		c.MaxInflight = 4
	}
	nw := newNetwork(t, 5, configure)
	nw.rand = rand.New(rand.NewPCG(seed, 99))
	nw.dropRate = 0.05
	rnd := rand.New(rand.NewPCG(seed, 7))
	h := newHistory(t, nw)
	crashed := map[uint64]bool{}
	next := 0

	for step := range steps {
		switch p := rnd.IntN(100); {
		case p < 40:
			if l := nw.leader(); l != None {
				next++
				_, _, _ = nw.rafts[l].Propose(fmt.Appendf(nil, "c%d", next))
			}
		case p < 43:
			nw.isolate(nw.peers[rnd.IntN(len(nw.peers))])
		case p < 46:
			nw.recover()
		case p < 48 && len(crashed) < 2:
			id := nw.peers[rnd.IntN(len(nw.peers))]
			if !crashed[id] {
				nw.crash(id)
				crashed[id] = true
			}
		case p < 52:
			for id := range crashed {
				nw.start(id, configure)
				nw.applied[id] = decodeApplied(nw.storage[id])
				delete(crashed, id)
			}
		case p < 55:
			id := nw.peers[rnd.IntN(len(nw.peers))]
			if r := nw.rafts[id]; r != nil {
				compact(t, nw, id)
			}
		}
		nw.tickAll(1)
		h.check(step)
	}

	// Heal everything, let a leader settle, and commit one more command.
	nw.recover()
	nw.dropRate = 0
	for id := range crashed {
		nw.start(id, configure)
		nw.applied[id] = decodeApplied(nw.storage[id])
	}
	nw.tickAll(50)
	l := nw.leader()
	require.NotEqual(t, None, l, "no leader after healing")
	nw.propose(l, "last")
	nw.tickAll(5)
	h.check(steps)
	want := nw.commands(l)
	require.Equal(t, "last", want[len(want)-1])
	for _, id := range nw.peers {
		require.Equal(t, want, nw.commands(id), "server %d applied something else", id)
	}
	r := nw.rafts[l]
	for i, e := range h.applied {
		if i >= r.log.firstIndex() {
			term, err := r.log.term(i)
			require.NoError(t, err)
			require.Equal(t, e.Term, term, "the leader's log lacks committed entry %d", i)
		}
	}
}

// history remembers what every server applied and every leader's term.
type history struct {
	t       *testing.T
	nw      *network
	applied map[uint64]Entry  // index -> the command applied there
	leaders map[uint64]uint64 // term -> leader
}

func newHistory(t *testing.T, nw *network) *history {
	return &history{t: t, nw: nw, applied: map[uint64]Entry{}, leaders: map[uint64]uint64{}}
}

func (h *history) check(step int) {
	h.t.Helper()
	for _, id := range h.nw.peers {
		r := h.nw.rafts[id]
		if r == nil {
			continue
		}
		if r.State() == Leader {
			if l, ok := h.leaders[r.Term()]; ok && l != id {
				h.t.Fatalf("step %d: servers %d and %d both lead term %d", step, l, id, r.Term())
			}
			h.leaders[r.Term()] = id
		}
		for _, e := range h.nw.applied[id] {
			if prev, ok := h.applied[e.Index]; ok && (prev.Term != e.Term || string(prev.Data) != string(e.Data)) {
				h.t.Fatalf("step %d: server %d applied %d/%q at index %d, another applied %d/%q",
					step, id, e.Term, e.Data, e.Index, prev.Term, prev.Data)
			}
			h.applied[e.Index] = e
		}
	}
}

// compact snapshots server id at its applied index, the state machine's
// state being the list of commands applied.
func compact(t *testing.T, nw *network, id uint64) {
	r := nw.rafts[id]
	snap, err := r.NewSnapshot(r.log.applied, encodeApplied(nw.applied[id]))
	if err != nil {
		return // nothing new to snapshot
	}
	require.NoError(t, nw.storage[id].SaveSnapshot(snap))
}

// encodeApplied and decodeApplied turn a list of applied commands into a
// snapshot's data and back.
func encodeApplied(ents []Entry) []byte {
	var b []byte
	for _, e := range ents {
		b = fmt.Appendf(b, "%d %d %s\n", e.Index, e.Term, e.Data)
	}
	return b
}

func decodeApplied(s *MemoryStorage) []Entry {
	snap, _ := s.Snapshot()
	return decodeSnapshot(snap.Data)
}

func decodeSnapshot(data []byte) []Entry {
	var ents []Entry
	for _, line := range splitLines(data) {
		var e Entry
		var data string
		if _, err := fmt.Sscanf(line, "%d %d %s", &e.Index, &e.Term, &data); err == nil {
			e.Data = []byte(data)
			ents = append(ents, e)
		}
	}
	return ents
}

func splitLines(b []byte) []string {
	var lines []string
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			i = len(b)
		}
		lines = append(lines, string(b[:i]))
		b = b[min(i+1, len(b)):]
	}
	return lines
}

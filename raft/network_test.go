package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// network is a cluster of Raft values stepped by the test, with no
// goroutines: messages wait in a queue until the test delivers them, and
// can be dropped by link (cut, isolate) or at random (dropRate).
type network struct {
	t        testing.TB
	peers    []uint64
	rafts    map[uint64]*Raft
	storage  map[uint64]*MemoryStorage
	applied  map[uint64][]Entry // every committed command each server applied, in order
	reads    map[uint64][]ReadState
	queue    []Message
	cut      map[[2]uint64]bool
	dropRate float64
	rand     *rand.Rand
	filter   func(Message) bool // if set and false, the message is dropped
	sent     []Message          // every message delivered, for tests that count
}

// newNetwork returns n servers, IDs 1 to n, with configure applied to
// each one's Config.
func newNetwork(t testing.TB, n int, configure ...func(*Config)) *network {
	t.Helper()
	nw := &network{
		t:       t,
		rafts:   make(map[uint64]*Raft),
		storage: make(map[uint64]*MemoryStorage),
		applied: make(map[uint64][]Entry),
		reads:   make(map[uint64][]ReadState),
		cut:     make(map[[2]uint64]bool),
		rand:    rand.New(rand.NewPCG(1, 2)),
	}
	for id := uint64(1); id <= uint64(n); id++ {
		nw.peers = append(nw.peers, id)
	}
	for _, id := range nw.peers {
		nw.storage[id] = NewMemoryStorage()
		nw.start(id, configure...)
	}
	return nw
}

// config returns the Config of server id: the test defaults (10 ticks
// to an election, 1 to a heartbeat, seed 1), then configure.
func (nw *network) config(id uint64, configure ...func(*Config)) Config {
	cfg := Config{ID: id, Peers: nw.peers, Storage: nw.storage[id], ElectionTick: 10, HeartbeatTick: 1, Seed: 1}
	for _, f := range configure {
		f(&cfg)
	}
	return cfg
}

// start makes a Raft for id from its storage: a new server, or a restart.
func (nw *network) start(id uint64, configure ...func(*Config)) *Raft {
	nw.t.Helper()
	r, err := NewRaft(nw.config(id, configure...))
	require.NoError(nw.t, err)
	nw.rafts[id] = r
	nw.applied[id] = nil
	return r
}

// ready does what server id's Ready asks: save, queue the messages,
// apply, advance.
func (nw *network) ready(id uint64) {
	r, s := nw.rafts[id], nw.storage[id]
	for r != nil && r.HasReady() {
		rd := r.Ready()
		if !rd.Snapshot.IsEmpty() {
			require.NoError(nw.t, s.SaveSnapshot(rd.Snapshot))
			nw.applied[id] = decodeSnapshot(rd.Snapshot.Data) // the state machine is replaced
		}
		require.NoError(nw.t, s.Save(rd.HardState, rd.Entries))
		nw.queue = append(nw.queue, rd.Messages...)
		for _, e := range rd.CommittedEntries {
			if e.Type == EntryCommand {
				nw.applied[id] = append(nw.applied[id], e)
			}
		}
		nw.reads[id] = append(nw.reads[id], rd.ReadStates...)
		r.Advance(rd)
	}
}

// deliver delivers queued messages, and the messages they cause, until
// none are left.
func (nw *network) deliver() {
	nw.t.Helper()
	for _, id := range nw.peers {
		nw.ready(id)
	}
	for steps := 0; len(nw.queue) > 0; steps++ {
		require.Less(nw.t, steps, 1_000_000, "messages never stop")
		m := nw.queue[0]
		nw.queue = nw.queue[1:]
		if !nw.passes(m) {
			continue
		}
		nw.sent = append(nw.sent, m)
		_ = nw.rafts[m.To].Step(m)
		nw.ready(m.To)
	}
}

// passes decides whether m gets through.
func (nw *network) passes(m Message) bool {
	switch {
	case nw.rafts[m.To] == nil || nw.cut[[2]uint64{m.From, m.To}]:
		return false
	case nw.filter != nil && !nw.filter(m):
		return false
	case nw.dropRate > 0 && nw.rand.Float64() < nw.dropRate:
		return false
	}
	return true
}

// take returns the messages server id has queued, and removes them from
// the queue, for tests that inspect them rather than deliver them.
func (nw *network) take(id uint64) []Message {
	nw.ready(id)
	var mine, rest []Message
	for _, m := range nw.queue {
		if m.From == id {
			mine = append(mine, m)
		} else {
			rest = append(rest, m)
		}
	}
	nw.queue = rest
	return mine
}

// tick ticks server id n times, delivering after each tick.
func (nw *network) tick(id uint64, n int) {
	for range n {
		nw.rafts[id].Tick()
		nw.deliver()
	}
}

// tickAll ticks every server n times, delivering after each round.
func (nw *network) tickAll(n int) {
	for range n {
		for _, id := range nw.peers {
			if nw.rafts[id] != nil {
				nw.rafts[id].Tick()
			}
		}
		nw.deliver()
	}
}

// elect makes id campaign and delivers the election; id must win.
func (nw *network) elect(id uint64) {
	nw.t.Helper()
	nw.rafts[id].Campaign()
	nw.deliver()
	require.Equal(nw.t, Leader, nw.rafts[id].State(), "server %d did not win", id)
}

// propose proposes data at id and delivers; it must be accepted.
func (nw *network) propose(id uint64, data string) uint64 {
	nw.t.Helper()
	i, _, err := nw.rafts[id].Propose([]byte(data))
	require.NoError(nw.t, err)
	nw.deliver()
	return i
}

// isolate cuts id off from every other server; recover heals all cuts.
func (nw *network) isolate(id uint64) {
	for _, p := range nw.peers {
		if p != id {
			nw.cut[[2]uint64{id, p}], nw.cut[[2]uint64{p, id}] = true, true
		}
	}
}

func (nw *network) recover() { clear(nw.cut) }

// crash stops id: it receives nothing until restart.
func (nw *network) crash(id uint64) { nw.rafts[id] = nil }

// leader returns the leader of the highest term, or None.
func (nw *network) leader() uint64 {
	var best, term uint64
	for id, r := range nw.rafts {
		if r != nil && r.State() == Leader && r.Term() >= term {
			best, term = id, r.Term()
		}
	}
	return best
}

// commands returns the data of the commands id applied.
func (nw *network) commands(id uint64) []string {
	var out []string
	for _, e := range nw.applied[id] {
		out = append(out, string(e.Data))
	}
	return out
}

// logOf returns the terms of id's log entries from its first index on,
// read from its Raft's view of the log.
func logOf(r *Raft) []uint64 {
	var terms []uint64
	for i := r.log.firstIndex(); i <= r.log.lastIndex(); i++ {
		t, err := r.log.term(i)
		if err != nil {
			panic(fmt.Sprintf("term(%d): %v", i, err))
		}
		terms = append(terms, t)
	}
	return terms
}

// messagesOfType returns the messages of type t among msgs.
func messagesOfType(msgs []Message, t MessageType) []Message {
	return slices.DeleteFunc(slices.Clone(msgs), func(m Message) bool { return m.Type != t })
}

// noLimit is a byte limit that limits nothing.
const noLimit = ^uint64(0)

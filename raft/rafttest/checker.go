package rafttest

import (
	"bytes"
	"fmt"
)

// checker keeps what every server applied, and what is known to be
// committed, and finds the violations of Raft's safety properties (the
// paper's Figure 3) in them. The Cluster's mu protects it; it does no I/O.
type checker struct {
	logs        []map[uint64][]byte // per server: the commands its state machine holds, by index
	lastApplied []uint64            // per server
	committed   map[uint64]*committedEntry
	pending     [][]uint64         // per server: committed indexes whose commit term is not bounded yet
	leaders     map[uint64]int     // term -> the server seen leading it
	checked     map[[2]uint64]bool // (term, server) pairs checked for Leader Completeness
	violation   error              // the first one found
	installs    int                // snapshots installed
}

// committedEntry is an entry some server applied, so committed.
type committedEntry struct {
	cmd    []byte
	term   uint64 // the entry's term; 0 if only known from a snapshot
	server int    // the server that applied it first
	// bound is a term at least that of the leader that committed it: the
	// term of the server that applied it first, asked after it did (it
	// learnt the commit from a leader of that term or later). Leaders of
	// later terms must have the entry. 0 until known.
	bound uint64
}

func newChecker(n int) checker {
	return checker{
		logs:        make([]map[uint64][]byte, n),
		lastApplied: make([]uint64, n),
		committed:   make(map[uint64]*committedEntry),
		pending:     make([][]uint64, n),
		leaders:     make(map[uint64]int),
		checked:     make(map[[2]uint64]bool),
	}
}

// restart empties server i's state machine, as a crash does.
func (ch *checker) restart(i int) {
	ch.logs[i] = make(map[uint64][]byte)
	ch.lastApplied[i] = 0
}

// applyCommand checks and records that server i applied cmd, of term
// term, at index. It returns the violation, if any.
func (ch *checker) applyCommand(i int, index, term uint64, cmd []byte) error {
	if index != ch.lastApplied[i]+1 {
		return fmt.Errorf("server %d applied index %d out of order: its last applied index was %d", i, index, ch.lastApplied[i])
	}
	if e, ok := ch.committed[index]; ok {
		if !bytes.Equal(e.cmd, cmd) {
			return fmt.Errorf("State Machine Safety: server %d applied %q at index %d, but server %d applied %q there",
				i, cmd, index, e.server, e.cmd)
		}
		if e.term != 0 && e.term != term {
			return fmt.Errorf("Log Matching: server %d applied index %d from term %d, but server %d applied it from term %d",
				i, index, term, e.server, e.term)
		}
		e.term = term
	} else {
		ch.committed[index] = &committedEntry{cmd: bytes.Clone(cmd), term: term, server: i}
		ch.pending[i] = append(ch.pending[i], index)
	}
	ch.logs[i][index] = cmd
	ch.lastApplied[i] = index
	return nil
}

// installSnapshot checks and records that server i replaced its state
// machine with the snapshot data, said to be of index (0: whatever data
// says).
func (ch *checker) installSnapshot(i int, index uint64, data []byte) error {
	last, cmds, err := decodeSnapshot(data)
	switch {
	case err != nil:
		return fmt.Errorf("server %d installed a snapshot the harness did not make: %w", i, err)
	case index != 0 && index != last:
		return fmt.Errorf("server %d installed a snapshot of index %d as index %d", i, last, index)
	}
	log := make(map[uint64][]byte, len(cmds))
	for j, cmd := range cmds {
		idx := uint64(j + 1)
		if e, ok := ch.committed[idx]; ok && !bytes.Equal(e.cmd, cmd) {
			return fmt.Errorf("State Machine Safety: server %d installed a snapshot with %q at index %d, but server %d applied %q there",
				i, cmd, idx, e.server, e.cmd)
		} else if !ok {
			ch.committed[idx] = &committedEntry{cmd: cmd, server: i}
		}
		log[idx] = cmd
	}
	ch.logs[i], ch.lastApplied[i] = log, last
	ch.installs++
	return nil
}

// snapshot returns server i's state machine up to index, encoded.
func (ch *checker) snapshot(i int, index uint64) []byte {
	cmds := make([][]byte, index)
	for j := range index {
		cmds[j] = ch.logs[i][j+1]
	}
	return encodeSnapshot(index, cmds)
}

// bound records that server i's term is now term: an upper bound on the
// commit term of the entries it applied first.
func (ch *checker) bound(i int, term uint64) {
	for _, idx := range ch.pending[i] {
		ch.committed[idx].bound = term
	}
	ch.pending[i] = ch.pending[i][:0]
}

// leader records that server i leads term, and returns the violation of
// Election Safety, if any.
func (ch *checker) leader(i int, term uint64) error {
	if j, ok := ch.leaders[term]; ok && j != i {
		return fmt.Errorf("Election Safety: servers %d and %d were both leaders in term %d", j, i, term)
	}
	ch.leaders[term] = i
	return nil
}

// mustHave returns the committed entries the leader of term must hold
// (Leader Completeness), if that pair has not been checked yet: those
// committed in an earlier term, whose term is known.
func (ch *checker) mustHave(i int, term uint64) map[uint64]uint64 {
	key := [2]uint64{term, uint64(i)}
	if ch.checked[key] {
		return nil
	}
	ch.checked[key] = true
	want := make(map[uint64]uint64)
	for idx, e := range ch.committed {
		if e.bound != 0 && e.bound < term && e.term != 0 {
			want[idx] = e.term
		}
	}
	return want
}

// count returns how many servers applied index, and the command.
func (ch *checker) count(index uint64) (n int, cmd []byte) {
	for _, log := range ch.logs {
		if c, ok := log[index]; ok {
			n, cmd = n+1, c
		}
	}
	return n, cmd
}

package rafttest

import (
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// read is the application of server i's incarnation inc: it takes what
// the server applies, checks it, and snapshots every SnapshotInterval
// commands (WithSnapshots), calling the server from this goroutine as
// MIT's harness does.
func (c *Cluster) read(i int, inc *incarnation) {
	defer close(inc.done)
	for {
		var m ApplyMsg
		select {
		case m = <-inc.apply:
		case <-inc.stop:
			return
		}
		var (
			err  error
			snap []byte
		)
		c.mu.Lock()
		switch {
		case m.CommandValid:
			err = c.check.applyCommand(i, m.CommandIndex, m.CommandTerm, m.Command)
			if k := c.opts.snapshotInterval; err == nil && k > 0 && m.CommandIndex%k == 0 {
				snap = c.check.snapshot(i, m.CommandIndex)
			}
		case m.SnapshotValid:
			err = c.check.installSnapshot(i, m.SnapshotIndex, m.Snapshot)
		}
		c.mu.Unlock()
		if err != nil {
			c.violate(err)
		}
		if snap != nil {
			inc.srv.Snapshot(m.CommandIndex, snap)
		}
	}
}

// monitor asks every server for its state every checkEvery, until
// stopMonitor is closed.
func (c *Cluster) monitor() {
	tk := time.NewTicker(c.opts.checkEvery)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			c.watchLeaders()
		case <-c.stopMonitor:
			return
		}
	}
}

// watchLeaders asks every running server for its state, and checks
// Election Safety and, for each leader not seen before, Leader
// Completeness.
func (c *Cluster) watchLeaders() {
	type state struct {
		i      int
		srv    Server
		term   uint64
		leader bool
	}
	c.mu.Lock()
	servers := append([]Server(nil), c.servers...)
	c.mu.Unlock()
	var states []state
	for i, srv := range servers {
		if srv != nil {
			term, leader := srv.GetState()
			states = append(states, state{i, srv, term, leader})
		}
	}
	for _, s := range states {
		c.mu.Lock()
		c.check.bound(s.i, s.term)
		var err error
		var want map[uint64]uint64
		if s.leader {
			if err = c.check.leader(s.i, s.term); err == nil {
				want = c.check.mustHave(s.i, s.term)
			}
		}
		c.mu.Unlock()
		if err == nil && len(want) > 0 {
			err = checkCompleteness(s.i, s.srv, s.term, want)
		}
		if err != nil {
			c.violate(err)
		}
	}
}

// checkCompleteness checks that srv, leader of term, holds the entries
// of want (index -> term), if it lets the harness read its log. A leader
// never removes entries from its log in its term, so the check counts
// only if srv still leads term after reading it.
func checkCompleteness(i int, srv Server, term uint64, want map[uint64]uint64) error {
	lr, ok := srv.(LogReader)
	if !ok {
		return nil
	}
	var bad error
	for idx, wantTerm := range want {
		got, err := lr.EntryTerm(idx)
		switch {
		case errors.Is(err, raft.ErrCompacted):
		case err != nil:
			bad = fmt.Errorf("Leader Completeness: server %d leads term %d without the entry committed at index %d (term %d): %v",
				i, term, idx, wantTerm, err)
		case got != wantTerm:
			bad = fmt.Errorf("Leader Completeness: server %d leads term %d with an entry of term %d at index %d, where term %d's entry was committed",
				i, term, got, idx, wantTerm)
		}
		if bad != nil {
			break
		}
	}
	if t, leader := srv.GetState(); bad == nil || t != term || !leader {
		return nil
	}
	return bad
}

// violate records the first safety violation and fails the test at once
// (Errorf, which any goroutine may call); the test's goroutine stops at
// its next call of the harness.
func (c *Cluster) violate(err error) {
	c.mu.Lock()
	first := c.check.violation == nil
	if first {
		c.check.violation = err
	}
	c.mu.Unlock()
	if first {
		c.t.Errorf("rafttest: %v\n%s", err, c.Report())
	}
}

// Violation returns the first violation of a safety property the
// harness found, or nil.
func (c *Cluster) Violation() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.check.violation
}

// SnapshotsInstalled returns how many snapshots the servers have handed
// their applications to install in place of their state (after
// InstallSnapshot, or on a restart).
func (c *Cluster) SnapshotsInstalled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.check.installs
}

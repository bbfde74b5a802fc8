package rafttest

import (
	"bytes"
	"math"
	"slices"
	"time"
)

// ElectionTimeout is MIT's RaftElectionTimeout: the tests allow a Raft
// one second to elect a leader (far more than the paper's timeouts).
const ElectionTimeout = time.Second

// Fatalf fails the test with the message, the seed and the faults that
// hit. Call it from the test's goroutine only.
func (c *Cluster) Fatalf(format string, args ...any) {
	c.t.Helper()
	args = append(args, c.Report())
	c.t.Fatalf("rafttest: "+format+"\n%s", args...)
}

// stopIfViolated fails the test if a safety property was violated.
func (c *Cluster) stopIfViolated() {
	c.t.Helper()
	if err := c.Violation(); err != nil {
		c.t.Fatalf("rafttest: stopped after a safety violation (seed %d): %v", c.seed, err)
	}
}

// CheckOneLeader waits until exactly one connected server believes it is
// the leader in the latest term that has one, and returns it. It fails
// the test if two lead the same term, or if none leads after ten
// rounds of about half a second (as MIT's checkOneLeader).
func (c *Cluster) CheckOneLeader() int {
	c.t.Helper()
	for range 10 {
		time.Sleep(450*time.Millisecond + time.Duration(c.Rand(100))*time.Millisecond)
		c.stopIfViolated()
		leaders := make(map[uint64][]int)
		for i := range c.n {
			if srv := c.Server(i); srv != nil && c.Connected(i) {
				if term, leader := srv.GetState(); leader {
					leaders[term] = append(leaders[term], i)
				}
			}
		}
		last := uint64(0)
		for term, ids := range leaders {
			if len(ids) > 1 {
				c.Fatalf("term %d has %d (>1) leaders: %v", term, len(ids), ids)
			}
			last = max(last, term)
		}
		if len(leaders) > 0 {
			return leaders[last][0]
		}
	}
	c.Fatalf("expected one leader, got none")
	return -1
}

// CheckTerms checks that the connected servers agree on the term, and
// returns it.
func (c *Cluster) CheckTerms() uint64 {
	c.t.Helper()
	c.stopIfViolated()
	term := uint64(0)
	for i := range c.n {
		if srv := c.Server(i); srv != nil && c.Connected(i) {
			t, _ := srv.GetState()
			if term == 0 {
				term = t
			} else if t != term {
				c.Fatalf("servers disagree on the term: %d and %d", term, t)
			}
		}
	}
	return term
}

// CheckNoLeader checks that no connected server believes it is the
// leader.
func (c *Cluster) CheckNoLeader() {
	c.t.Helper()
	c.stopIfViolated()
	for i := range c.n {
		if srv := c.Server(i); srv != nil && c.Connected(i) {
			if _, leader := srv.GetState(); leader {
				c.Fatalf("expected no leader among the connected servers, but server %d claims to be one", i)
			}
		}
	}
}

// NCommitted returns how many servers have applied the entry at index,
// and its command. (The harness checks on every apply that they agree.)
func (c *Cluster) NCommitted(index uint64) (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.check.count(index)
}

// One proposes cmd until it is committed by at least expected servers,
// and returns its index, as MIT's one: it tries the connected servers in
// turn until one takes it as leader, then waits two seconds for the
// commitment; if that fails and retry is set, it proposes again, for up
// to ten seconds in all. It fails the test if cmd is not committed.
func (c *Cluster) One(cmd []byte, expected int, retry bool) uint64 {
	c.t.Helper()
	start := time.Now()
	next := 0
	for time.Since(start) < 10*time.Second {
		c.stopIfViolated()
		index := uint64(0)
		for range c.n {
			next = (next + 1) % c.n
			if srv := c.Server(next); srv != nil && c.Connected(next) {
				if i, _, ok := srv.Start(cmd); ok {
					index = i
					break
				}
			}
		}
		if index == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t1 := time.Now()
		for time.Since(t1) < 2*time.Second {
			if n, got := c.NCommitted(index); n > 0 && n >= expected && bytes.Equal(got, cmd) {
				return index
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !retry {
			c.Fatalf("one(%q) failed to reach agreement", cmd)
		}
	}
	c.Fatalf("one(%q) failed to reach agreement in 10s", cmd)
	return 0
}

// Wait waits, with growing pauses for about 30 rounds, until at least n
// servers have applied index, and returns the command there, as MIT's
// wait. If startTerm is not 0 and a server moves past it meanwhile, it
// returns ok false: the entry may never commit. It fails the test if
// fewer than n servers apply index.
func (c *Cluster) Wait(index uint64, n int, startTerm uint64) (cmd []byte, ok bool) {
	c.t.Helper()
	pause := 10 * time.Millisecond
	for range 30 {
		c.stopIfViolated()
		if got, _ := c.NCommitted(index); got >= n {
			break
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
		if startTerm != 0 {
			for i := range c.n {
				if srv := c.Server(i); srv != nil {
					if t, _ := srv.GetState(); t > startTerm {
						return nil, false
					}
				}
			}
		}
	}
	got, cmd := c.NCommitted(index)
	if got < n {
		c.Fatalf("only %d servers applied index %d; wanted %d", got, index, n)
	}
	return cmd, true
}

// LogSize returns the largest size, in bytes, of what a server keeps of
// its log: its Persister's Raft state, or for a raft.Storage the entries
// it holds (each counted with the 21 bytes raft/wal spends on its index,
// term and type).
func (c *Cluster) LogSize() int {
	c.mu.Lock()
	storage := slices.Clone(c.storage)
	persisters := slices.Clone(c.persisters)
	c.mu.Unlock()
	size := 0
	for i := range c.n {
		size = max(size, persisters[i].RaftStateSize())
		s := storage[i]
		if s == nil {
			continue
		}
		first, err1 := s.FirstIndex()
		last, err2 := s.LastIndex()
		if err1 != nil || err2 != nil || last < first {
			continue
		}
		ents, err := s.Entries(first, last+1, math.MaxUint64)
		if err != nil {
			continue
		}
		n := 0
		for _, e := range ents {
			n += 21 + len(e.Data)
		}
		size = max(size, n)
	}
	return size
}

// BytesTotal returns how many bytes the servers have sent one another.
func (c *Cluster) BytesTotal() int64 {
	var n int64
	for _, name := range c.names {
		n += c.net.NodeStats(name).Out.SentBytes
	}
	return n
}

// RPCCount returns how many RPCs the servers have sent one another, as
// labrpc counts them: a request and its reply are one RPC, so it is half
// the messages sent.
func (c *Cluster) RPCCount() int64 {
	var n int64
	for _, name := range c.names {
		n += c.net.NodeStats(name).Out.Sent
	}
	return n / 2
}

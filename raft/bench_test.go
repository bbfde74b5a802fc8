package raft

import (
	"fmt"
	"testing"
)

// benchCluster is the lightest way to run Raft: servers stepped directly
// in one goroutine, MemoryStorage, messages passed in a slice.
type benchCluster struct {
	rafts   []*Raft // rafts[id-1]
	storage []*MemoryStorage
	queue   []Message
	applied []uint64 // per server, the last index applied
}

func newBenchCluster(b *testing.B, n int) *benchCluster {
	c := &benchCluster{}
	var peers []uint64
	for id := 1; id <= n; id++ {
		peers = append(peers, uint64(id))
	}
	for _, id := range peers {
		s := NewMemoryStorage()
		r, err := NewRaft(Config{ID: id, Peers: peers, Storage: s})
		if err != nil {
			b.Fatal(err)
		}
		c.rafts, c.storage = append(c.rafts, r), append(c.storage, s)
	}
	c.applied = make([]uint64, n)
	c.rafts[0].Campaign()
	c.run()
	return c
}

// run does every Ready and delivers every message until there are none.
func (c *benchCluster) run() {
	for {
		for i, r := range c.rafts {
			for r.HasReady() {
				rd := r.Ready()
				if err := c.storage[i].Save(rd.HardState, rd.Entries); err != nil {
					panic(err)
				}
				c.queue = append(c.queue, rd.Messages...)
				if n := len(rd.CommittedEntries); n > 0 {
					c.applied[i] = rd.CommittedEntries[n-1].Index
				}
				r.Advance(rd)
			}
		}
		if len(c.queue) == 0 {
			return
		}
		msgs := c.queue
		c.queue = nil
		for _, m := range msgs {
			_ = c.rafts[m.To-1].Step(m)
		}
	}
}

// compact snapshots every server at its applied index, so that a long
// benchmark does not fill memory with its log.
func (c *benchCluster) compact() {
	for i, r := range c.rafts {
		if s, err := r.NewSnapshot(c.applied[i], nil); err == nil {
			_ = c.storage[i].SaveSnapshot(s)
		}
	}
}

// BenchmarkCoreProposals measures the protocol core alone: 100-byte
// commands proposed at the leader of three servers, in batches (the
// proposals made between two Readys), each batch run until every server
// has it committed. Nothing but the core and MemoryStorage: no
// goroutines, no encoding, no network.
func BenchmarkCoreProposals(b *testing.B) {
	cmd := make([]byte, 100)
	for _, batch := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			c := newBenchCluster(b, 3)
			leader := c.rafts[0]
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(batch, b.N-done)
				for range n {
					if _, _, err := leader.Propose(cmd); err != nil {
						b.Fatal(err)
					}
				}
				c.run()
				done += n
				if leader.log.committed%(64<<10) < uint64(n) {
					c.compact()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proposals/s")
		})
	}
}

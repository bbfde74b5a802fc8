package lock_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lin "github.com/distsys-kit/distsys/linearizability"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/transport"
)

// The history check of the replicated service: the same clients and
// checks as TestHistoryUnderChaos, against three RaftServers whose clocks
// disagree (by up to an hour, and running up to 3% fast or slow), while a
// chaos schedule crashes the leader (its disk loses what it had not
// synced), partitions the leader from its followers, and makes the
// network lossy. Checked, besides the four checks of the single server's
// history: the grants and the fenced writes are linearizable under
// linearizability.LockModel.
func TestReplicatedHistoryUnderChaos(t *testing.T) {
	seeds := []int64{1}
	clients, perClient := 6, 150
	switch {
	case *seedFlag != 0:
		seeds = []int64{*seedFlag}
	case *soak:
		seeds = []int64{1, 2, 3, 4, 5, 6, 7, 8}
		clients, perClient = 10, 500
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runReplicatedHistory(t, seed, clients, perClient) })
		})
	}
}

func runReplicatedHistory(t *testing.T, seed int64, clients, perClient int) {
	r := rand.New(rand.NewPCG(uint64(seed), 1<<33))
	var clocks []lock.Clock
	for range 3 {
		offset := time.Duration(r.Int64N(int64(2*time.Hour))) - time.Hour
		clocks = append(clocks, newSkewedClock(offset, 0.97+0.06*r.Float64()))
	}
	c := newCluster(t, seed, 3, lock.RaftConfig{TTL: chaosTTL, LockDelay: chaosLockDelay}, clocks...)
	rec := lin.NewLockRecorder()
	h := &history{grants: make(map[uint64]string), last: make(map[string]time.Time), finished: make(map[string]bool)}
	ctx, stopClients := context.WithCancel(t.Context())
	defer stopClients()
	var wg sync.WaitGroup
	for i := range clients {
		name := fmt.Sprint("c", i)
		caller := c.caller()
		wg.Go(func() {
			runClient(ctx, t, caller, h, rec, name, rand.New(rand.NewPCG(uint64(seed), uint64(i))), perClient, 50)
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()

	stats := leaderChaos(t, c, r, finished, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.count >= clients*perClient*3/4
	})
	healed := time.Now()
	check := time.NewTicker(10 * time.Second)
	defer check.Stop()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-check.C:
			if who, waited := h.starved(healed); waited > maxWaitAfterHeal {
				t.Errorf("(3) %s has waited %v for the lock since the faults healed; the leader's view: %+v",
					who, waited, c.servers[c.leader()].Locks())
				stopClients()
				<-finished
				break wait
			}
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.dupes) > 0 {
		t.Errorf("(2) %d tokens granted twice; the first: %v", len(h.dupes), h.dupes[:min(len(h.dupes), 5)])
	}
	for i := 1; i < len(h.accepted); i++ {
		if h.accepted[i] < h.accepted[i-1] {
			t.Errorf("(1) the store accepted token %d after token %d", h.accepted[i], h.accepted[i-1])
			break
		}
	}
	assert.Equal(t, clients*perClient, h.count, "(3) every Lock was granted")
	if len(h.broken) > 0 {
		t.Errorf("(4) %d writes refused under a live lease; the first: %v", len(h.broken), h.broken[:min(len(h.broken), 5)])
	}
	assert.Len(t, rec.History(), h.count+len(h.accepted)+h.refused, "the checker sees every grant and every write")
	assert.Equal(t, porcupine.Ok, rec.Check(t, seed, time.Minute), "grants and fenced writes are linearizable")
	t.Logf("seed %d: %d grants, %d writes accepted, %d refused (stale token), %d Locks lost with their session; "+
		"%s; finished %v after healing", seed, h.count, len(h.accepted), h.refused, h.expired, stats, time.Since(healed))
	assert.Positive(t, h.refused, "a paused holder was stopped by its token")
	assert.Positive(t, stats.crashes, "the chaos crashed a leader")
	assert.Positive(t, stats.partitions, "the chaos partitioned a leader")
}

// leaderChaos runs a random schedule of faults aimed at the leader, one
// at a time with healthy spells between them, until enough() holds; then
// it heals everything.
func leaderChaos(t *testing.T, c *cluster, r *rand.Rand, finished <-chan struct{}, enough func() bool) chaosStats {
	var stats chaosStats
	lossy := transport.Faults{Drop: 0.05, Duplicate: 0.05, Reorder: 0.05,
		Delay: time.Millisecond, Jitter: 3 * time.Millisecond}
	calm := transport.Faults{Delay: 500 * time.Microsecond, Jitter: time.Millisecond}
	require.NoError(t, c.net.SetDefaultFaults(calm))
	for !enough() && !closed(finished) {
		spell := time.Duration(1+r.IntN(4)) * chaosTTL / 2
		switch leader := c.leader(); r.IntN(3) {
		case 0:
			stats.crashes++
			c.crash(leader)
			time.Sleep(spell)
			c.restart(leader)
		case 1:
			stats.partitions++
			var rest []string
			for id, addr := range c.raftAddrs {
				if id != leader {
					rest = append(rest, addr)
				}
			}
			c.net.Partition([]string{c.raftAddrs[leader]}, rest) // clients still reach it
			time.Sleep(spell)
			c.net.Heal()
		case 2:
			stats.lossy++
			require.NoError(t, c.net.SetDefaultFaults(lossy))
			time.Sleep(spell)
			require.NoError(t, c.net.SetDefaultFaults(calm))
		}
		time.Sleep(time.Duration(1+r.IntN(4)) * chaosTTL / 2)
	}
	require.NoError(t, c.net.SetDefaultFaults(calm))
	c.net.Heal()
	return stats
}

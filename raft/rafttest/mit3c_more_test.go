package rafttest_test

// MIT 6.5840 Lab 3C, continued: unreliable networks and churn.

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

func TestUnreliableAgree3C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed, rafttest.WithUnreliable())
		// As in MIT's test, four commands a round are agreed on from
		// goroutines of their own (oneAsync: they must not FailNow).
		var wg sync.WaitGroup
		for iters := 1; iters < 50; iters++ {
			for j := range 4 {
				wg.Go(func() { oneAsync(t, c, cmd(100*iters+j)) })
			}
			c.One(cmd(iters), 1, true)
		}
		c.SetReliable(true)
		wg.Wait()
		c.One(cmd(100), servers, true)
	})
}

// oneAsync is One for a goroutine other than the test's: it proposes cmd
// until one server applies it, for up to ten seconds, and reports a
// failure with Errorf.
func oneAsync(t *testing.T, c *rafttest.Cluster, x []byte) {
	start := time.Now()
	for time.Since(start) < 10*time.Second && c.Violation() == nil {
		for i := range 5 {
			srv := c.Server(i)
			if srv == nil || !c.Connected(i) {
				continue
			}
			index, _, ok := srv.Start(x)
			if !ok {
				continue
			}
			for t1 := time.Now(); time.Since(t1) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
				if n, got := c.NCommitted(index); n >= 1 && string(got) == string(x) {
					return
				}
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("seed %d: one(%q) failed to reach agreement", c.Seed(), x)
}

func TestFigure8Unreliable3C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed, rafttest.WithUnreliable())
		c.One(cmd(c.Rand(10000)), 1, true)
		up := servers
		for iters := range 1000 {
			if iters == 200 {
				c.SetLongReordering(true)
			}
			leader := -1
			for i := range servers {
				if _, _, ok := c.Server(i).Start(cmd(c.Rand(10000))); ok && c.Connected(i) {
					leader = i
				}
			}
			time.Sleep(figure8Pause(c))
			if leader != -1 && c.Rand(1000) < int(rafttest.ElectionTimeout/time.Millisecond)/2 {
				c.Disconnect(leader)
				up--
			}
			if up < 3 {
				if s := c.Rand(servers); !c.Connected(s) {
					c.Connect(s)
					up++
				}
			}
		}
		for i := range servers {
			c.Connect(i)
		}
		c.One(cmd(c.Rand(10000)), servers, true)
	})
}

// churn: clients propose all along while servers are disconnected,
// crashed and restarted at random; every command a client saw committed
// must be in the final log.
func churn(t *testing.T, seed int64, unreliable bool) {
	const servers = 5
	var opts []rafttest.Option
	if unreliable {
		opts = append(opts, rafttest.WithUnreliable())
	}
	c := rafttest.New(t, servers, seed, opts...)
	var stop atomic.Bool
	const clients = 3
	results := make([][]string, clients)
	var wg sync.WaitGroup
	for me := range clients {
		wg.Go(func() { results[me] = churnClient(c, servers, me, &stop) })
	}
	for range 20 {
		if c.Rand(1000) < 200 {
			c.Disconnect(c.Rand(servers))
		}
		if c.Rand(1000) < 500 {
			i := c.Rand(servers)
			if !c.Up(i) {
				c.Start(i)
			}
			c.Connect(i)
		}
		if c.Rand(1000) < 200 {
			c.Crash(c.Rand(servers))
		}
		// Often enough that the cluster has not settled between
		// changes, rarely enough that it often keeps up.
		time.Sleep(rafttest.ElectionTimeout * 7 / 10)
	}
	time.Sleep(rafttest.ElectionTimeout)
	c.SetReliable(true)
	for i := range servers {
		if !c.Up(i) {
			c.Start(i)
		}
		c.Connect(i)
	}
	stop.Store(true)
	wg.Wait()
	time.Sleep(rafttest.ElectionTimeout)

	last := c.One(randCmd(c), servers, true)
	really := make(map[string]bool)
	for index := uint64(1); index <= last; index++ {
		got, _ := c.Wait(index, servers, 0)
		really[string(got)] = true
	}
	for _, values := range results {
		for _, v := range values {
			assert.True(t, really[v], "seed %d: %q was committed for a client but is not in the log", seed, v)
		}
	}
}

// churnClient proposes commands to every server until stop, and returns
// those it saw committed.
func churnClient(c *rafttest.Cluster, servers, me int, stop *atomic.Bool) []string {
	var values []string
	for !stop.Load() {
		x := randCmd(c)
		index, ok := uint64(0), false
		for i := range servers {
			if srv := c.Server(i); srv != nil {
				if i1, _, ok1 := srv.Start(x); ok1 {
					index, ok = i1, true
				}
			}
		}
		if !ok {
			time.Sleep(time.Duration(79+me*17) * time.Millisecond)
			continue
		}
		// The leader may commit x, or not; do not wait forever.
		for _, pause := range []time.Duration{10, 20, 50, 100, 200} {
			if n, got := c.NCommitted(index); n > 0 {
				if string(got) == string(x) {
					values = append(values, string(x))
				}
				break
			}
			time.Sleep(pause * time.Millisecond)
		}
	}
	return values
}

func TestReliableChurn3C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { churn(t, seed, false) })
}

func TestUnreliableChurn3C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { churn(t, seed, true) })
}

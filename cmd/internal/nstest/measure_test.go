//go:build linux && netns

package nstest

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/netns"
)

// linkDelay is each node's delay, each way: between two nodes a message
// takes 2 × 10 ms = 20 ms, a round trip 40 ms.
const linkDelay = 10 * time.Millisecond

const rounds = 3

func needMeasure(t *testing.T) {
	if !*measure {
		t.Skip("a measurement: run with -measure")
	}
}

// summary formats durations as "median (min–max)".
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
	return fmt.Sprintf("%s (%s–%s, %d runs)", r(s[len(s)/2]), r(s[0]), r(s[len(s)-1]), len(s))
}

// TestMeasureLockFailover times how long a waiting client waits for the
// lock when the server crashes and restarts, and when the holder's machine
// drops off the network, for the default TTL and lock-delay and for short
// ones.
func TestMeasureLockFailover(t *testing.T) {
	needMeasure(t)
	settings := []struct{ ttl, lockDelay time.Duration }{
		{10 * time.Second, 5 * time.Second}, // lock.DefaultTTL, lock.DefaultLockDelay
		{2 * time.Second, time.Second},
	}
	var report []string
	for _, s := range settings {
		var restart, cut []time.Duration
		for range rounds {
			restart = append(restart, lockRestartFailover(t, s.ttl, s.lockDelay))
			cut = append(cut, lockHolderCutFailover(t, s.ttl, s.lockDelay))
		}
		report = append(report,
			fmt.Sprintf("ttl %v, lock-delay %v: server killed and restarted: waiter granted after %s", s.ttl, s.lockDelay, summary(restart)),
			fmt.Sprintf("ttl %v, lock-delay %v: holder's link cut: waiter granted after %s", s.ttl, s.lockDelay, summary(cut)))
	}
	t.Logf("lock failover, 20 ms one way between machines:\n  %s", strings.Join(report, "\n  "))
}

// lockRestartFailover kills the server while a client holds the lock and
// another waits, restarts it at once, and returns how long after the kill
// the waiter got the lock.
func lockRestartFailover(t *testing.T, ttl, lockDelay time.Duration) (took time.Duration) {
	t.Run("restart", func(t *testing.T) {
		n := netns.New(t)
		c := startLockServerWith(t, n, ttl, lockDelay, netns.WithDelay(linkDelay))
		c.client(t, "holder", nil, netns.WithDelay(linkDelay))
		first := c.waitGrant(t, "holder", 0)
		c.client(t, "waiter", []string{"-hold", "10ms"}, netns.WithDelay(linkDelay))
		c.waitQueued(t, "waiter")
		c.srv.Kill()
		killed := time.Now()
		c.startServer(t)
		took = c.waitGrant(t, "waiter", first.token).at.Sub(killed)
	})
	return took
}

// lockHolderCutFailover cuts the holder's link while another client waits,
// and returns how long after the cut the waiter got the lock.
func lockHolderCutFailover(t *testing.T, ttl, lockDelay time.Duration) (took time.Duration) {
	t.Run("cut", func(t *testing.T) {
		n := netns.New(t)
		c := startLockServerWith(t, n, ttl, lockDelay, netns.WithDelay(linkDelay))
		c.client(t, "holder", nil, netns.WithDelay(linkDelay))
		first := c.waitGrant(t, "holder", 0)
		c.client(t, "waiter", []string{"-hold", "10ms"}, netns.WithDelay(linkDelay))
		c.waitQueued(t, "waiter")
		require.NoError(t, c.clients["holder"].Cut())
		cut := time.Now()
		took = c.waitGrant(t, "waiter", first.token).at.Sub(cut)
	})
	return took
}

// TestMeasureWorkerLoss times a word count of 32 MiB on three workers
// across a 20 ms network: whole (and, for comparison, with no delay
// added), and with a worker killed or its link cut early in the map phase
// (at the third map task done) or at its end (every map task done: the
// lost worker's map output is needed by every reducer), for the default
// failure timeout (10 s) and a short one.
func TestMeasureWorkerLoss(t *testing.T) {
	needMeasure(t)
	in := writeInputs(t, 8, 4<<20)
	kill := func(j *mrJob) { j.workers[0].Kill() }
	cut := func(j *mrJob) { require.NoError(t, j.nodes[0].Cut()) }
	var report []string
	measureJob := func(what string, timeout, delay time.Duration, at int, fault func(*mrJob)) {
		var took []time.Duration
		for range rounds {
			took = append(took, timeJob(t, in, timeout, delay, at, fault))
		}
		report = append(report, fmt.Sprintf("%-52s %s", what, summary(took)))
	}
	measureJob("no delay added: whole job", 10*time.Second, 0, 0, nil)
	measureJob("whole job", 10*time.Second, linkDelay, 0, nil)
	for _, timeout := range []time.Duration{10 * time.Second, 2 * time.Second} {
		measureJob(fmt.Sprintf("-timeout %v: worker killed at map 3", timeout), timeout, linkDelay, 3, kill)
		measureJob(fmt.Sprintf("-timeout %v: worker's link cut at map 3", timeout), timeout, linkDelay, 3, cut)
		measureJob(fmt.Sprintf("-timeout %v: worker killed when the maps are done", timeout), timeout, linkDelay, -1, kill)
		measureJob(fmt.Sprintf("-timeout %v: worker's link cut when the maps are done", timeout), timeout, linkDelay, -1, cut)
	}
	t.Logf("word count, 8 × 4 MiB in 256 KiB splits, 4 reduces, 3 workers, 20 ms one way between machines:\n  %s", strings.Join(report, "\n  "))
}

// timeJob runs the job on nodes with the given delay, does fault when at
// map tasks are done (-1: all of them), and returns how long the job took
// from the start of the coordinator.
func timeJob(t *testing.T, in []string, timeout, delay time.Duration, at int, fault func(*mrJob)) (took time.Duration) {
	t.Run("job", func(t *testing.T) {
		n := netns.New(t)
		started := time.Now()
		j := startJob(t, n, 3, timeout, in, netns.WithDelay(delay))
		if fault != nil {
			j.waitMaps(t, at)
			fault(j)
		}
		took = j.finish(t, started)
		j.checkOutput(t)
	})
	return took
}

// TestMeasureRaftFailover times how long after the leader's link is cut
// a raft cluster has a new leader and commits a line (raftnode), and how
// long a client's write takes to succeed (kvraftserver, with kvclient
// started on a fourth machine right after the cut): across a 20 ms
// network, and for comparison with no delay added.
func TestMeasureRaftFailover(t *testing.T) {
	needMeasure(t)
	var report []string
	settings := []struct {
		delay, tick time.Duration
	}{
		{0, 10 * time.Millisecond},
		{linkDelay, 10 * time.Millisecond}, // the default -tick
		{linkDelay, 20 * time.Millisecond},
	}
	for _, s := range settings {
		var elected, committed, written []time.Duration
		for range 5 { // more rounds than the others: an election is quick, and varies
			e, c := raftCutFailover(t, s.delay, s.tick)
			elected, committed = append(elected, e), append(committed, c)
			written = append(written, kvraftCutFailover(t, s.delay, s.tick))
		}
		what := fmt.Sprintf("20 ms one way, -tick %v", s.tick)
		if s.delay == 0 {
			what = fmt.Sprintf("no delay added, -tick %v", s.tick)
		}
		report = append(report,
			fmt.Sprintf("%s: raftnode: a new leader elected after %s", what, summary(elected)),
			fmt.Sprintf("%s: raftnode: a line committed by the new leader after %s", what, summary(committed)),
			fmt.Sprintf("%s: kvraftserver: a kvclient append started at the cut succeeded after %s", what, summary(written)))
	}
	t.Logf("raft failover, the leader's link cut (elections after 10-20 ticks of silence):\n  %s", strings.Join(report, "\n  "))
}

// raftCutFailover cuts the leader of three raftnodes on nodes with the
// given delay and tick, and returns how long after the cut another server said it
// led, and how long until a line proposed to it had committed.
func raftCutFailover(t *testing.T, delay, tick time.Duration) (elected, committed time.Duration) {
	t.Run("raftnode", func(t *testing.T) {
		n := netns.New(t)
		c := startRaftWith(t, n, "raftnode", []string{"-tick", tick.String()}, netns.WithDelay(delay))
		old, term := c.waitLeader(t, 0, -1)
		require.NoError(t, c.nodes[old].Cut())
		cut := time.Now()
		leader, newTerm := c.waitLeader(t, term, old)
		elected = time.Since(cut)
		t.Logf("term %d to %d: %d elections", term, newTerm, newTerm-term)
		code, p, err := c.propose(leader, "after the cut")
		require.NoError(t, err)
		require.Equal(t, 200, code, p.Error)
		committed = time.Since(cut)
	})
	return elected, committed
}

// kvraftCutFailover cuts the leader of three kvraftservers on nodes with
// the given delay and tick, and returns how long after the cut an append by a
// kvclient started then succeeded.
func kvraftCutFailover(t *testing.T, delay, tick time.Duration) (took time.Duration) {
	t.Run("kvraftserver", func(t *testing.T) {
		n := netns.New(t)
		c := startRaftWith(t, n, "kvraftserver", []string{"-tick", tick.String()}, netns.WithDelay(delay))
		client := n.AddNode("client", netns.WithDelay(delay))
		c.appendN(t, client, "log", 1, 2)
		old, _ := c.waitLeader(t, 0, -1)
		require.NoError(t, c.nodes[old].Cut())
		cut := time.Now()
		c.appendN(t, client, "log", 2, 3)
		took = time.Since(cut)
	})
	return took
}

// TestMeasureLockRaftFailover times, for the replicated lock service
// (lockraftserver, default -tick), how long after the leader's link is
// cut a waiting client is granted the lock: when the holder, on a machine
// of its own, lets go at the cut (what the failover costs a hand-off),
// and when the holder is on the leader's machine and is cut off with it
// (the new leader gives every session a full TTL, so the waiter waits
// the election, a TTL and the lock-delay), for the default TTL and
// lock-delay and for short ones. Compare TestMeasureLockFailover's single
// server.
func TestMeasureLockRaftFailover(t *testing.T) {
	needMeasure(t)
	settings := []struct{ ttl, lockDelay time.Duration }{
		{10 * time.Second, 5 * time.Second}, // lock.DefaultTTL, lock.DefaultLockDelay
		{2 * time.Second, time.Second},
	}
	var report []string
	for _, s := range settings {
		var handOff, withHolder []time.Duration
		for len(handOff) < 5 || len(withHolder) < 5 { // a run skipped (the leader changed early) returns 0
			if t.Failed() {
				t.FailNow()
			}
			if d := lockRaftCutFailover(t, s.ttl, s.lockDelay, false); d > 0 && len(handOff) < 5 {
				handOff = append(handOff, d)
			}
			if d := lockRaftCutFailover(t, s.ttl, s.lockDelay, true); d > 0 && len(withHolder) < 5 {
				withHolder = append(withHolder, d)
			}
		}
		report = append(report,
			fmt.Sprintf("ttl %v, lock-delay %v: leader's link cut, the holder lets go at the cut: waiter granted after %s", s.ttl, s.lockDelay, summary(handOff)),
			fmt.Sprintf("ttl %v, lock-delay %v: the link of the leader and the holder on it cut: waiter granted after %s", s.ttl, s.lockDelay, summary(withHolder)))
	}
	t.Logf("replicated lock failover, 20 ms one way between machines:\n  %s", strings.Join(report, "\n  "))
}

// lockRaftCutFailover starts three lockraftservers, a holder (on the
// leader's node if onLeader, else on its own) and a waiter, cuts the
// leader's link (and if the holder is elsewhere, interrupts it, so that
// it releases), and returns how long after the cut the waiter got the
// lock.
func lockRaftCutFailover(t *testing.T, ttl, lockDelay time.Duration, onLeader bool) (took time.Duration) {
	t.Run("lockraftserver", func(t *testing.T) {
		n := netns.New(t)
		c := startLockRaft(t, n, []string{"-ttl", ttl.String(), "-lock-delay", lockDelay.String()}, netns.WithDelay(linkDelay))
		old, _ := c.waitLeader(t, 0, -1)
		var at *netns.Node
		if onLeader {
			at = c.nodes[old]
		}
		holder := c.client(t, at, "holder", nil, netns.WithDelay(linkDelay))
		first := waitGrant(t, c.events, "holder", 0)
		c.client(t, nil, "waiter", []string{"-hold", "10ms"}, netns.WithDelay(linkDelay))
		c.waitQueued(t, "waiter")
		if l, _ := c.waitLeader(t, 0, -1); l != old {
			t.Skipf("the leader changed from replica %d to %d before the cut", old+1, l+1)
		}
		require.NoError(t, c.nodes[old].Cut())
		cut := time.Now()
		if !onLeader {
			require.NoError(t, holder.Signal(syscall.SIGTERM))
		}
		got := waitGrant(t, c.events, "waiter", first.token)
		took = got.at.Sub(cut)
		t.Logf("granted token %d after %v", got.token, took.Round(time.Millisecond))
	})
	return took
}

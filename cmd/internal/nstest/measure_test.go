//go:build linux && netns

package nstest

import (
	"fmt"
	"slices"
	"strings"
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

// TestMeasureWorkerLoss times a word count of 32 MB on three workers
// across a 20 ms network, whole, with a worker killed at the third
// finished map task, and with a worker's link cut then, for the default
// failure timeout (10 s) and a short one.
func TestMeasureWorkerLoss(t *testing.T) {
	needMeasure(t)
	in := writeInputs(t, 8, 4<<20)
	var report []string
	for _, timeout := range []time.Duration{10 * time.Second, 2 * time.Second} {
		var whole, killed, cut []time.Duration
		for range rounds {
			whole = append(whole, timeJob(t, in, timeout, nil))
			killed = append(killed, timeJob(t, in, timeout, func(j *mrJob) { j.workers[0].Kill() }))
			cut = append(cut, timeJob(t, in, timeout, func(j *mrJob) { require.NoError(t, j.nodes[0].Cut()) }))
		}
		report = append(report,
			fmt.Sprintf("-timeout %v: whole job %s", timeout, summary(whole)),
			fmt.Sprintf("-timeout %v: a worker killed mid-job %s", timeout, summary(killed)),
			fmt.Sprintf("-timeout %v: a worker's link cut mid-job %s", timeout, summary(cut)))
	}
	t.Logf("word count, 8 × 4 MiB, 3 workers, 20 ms one way between machines:\n  %s", strings.Join(report, "\n  "))
}

// timeJob runs the job, does fault after the third map task, and returns
// how long the job took from the moment its workers started.
func timeJob(t *testing.T, in []string, timeout time.Duration, fault func(*mrJob)) (took time.Duration) {
	t.Run("job", func(t *testing.T) {
		n := netns.New(t)
		started := time.Now()
		j := startJob(t, n, 3, timeout, in, netns.WithDelay(linkDelay))
		if fault != nil {
			j.waitMaps(t, 3)
			fault(j)
		}
		took = j.finish(t, started)
		j.checkOutput(t)
	})
	return took
}

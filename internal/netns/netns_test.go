//go:build linux && netns

package netns

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer serves UDP echo on nd's port 7 until the test ends.
func echoServer(t *testing.T, nd *Node) {
	t.Helper()
	var pc net.PacketConn
	require.NoError(t, nd.Do(func() (err error) {
		pc, err = net.ListenPacket("udp", nd.Addr(7))
		return err
	}))
	done := make(chan struct{})
	go func() { // exits when pc is closed
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
}

// echoes sends n UDP echo requests from one node to another, one at a time,
// each waiting up to timeout for its answer, and returns the round-trip
// times of those answered.
func echoes(t *testing.T, from, to *Node, n int, timeout time.Duration) []time.Duration {
	t.Helper()
	var c net.Conn
	require.NoError(t, from.Do(func() (err error) {
		c, err = net.Dial("udp", to.Addr(7))
		return err
	}))
	defer c.Close()
	var rtts []time.Duration
	buf := make([]byte, 64)
	for i := range n {
		msg := fmt.Appendf(nil, "probe %d", i)
		start := time.Now()
		_, err := c.Write(msg)
		require.NoError(t, err)
		for {
			require.NoError(t, c.SetReadDeadline(start.Add(timeout)))
			k, err := c.Read(buf)
			if err != nil {
				break // lost: a timeout (or a refusal while the link settles)
			}
			if bytes.Equal(buf[:k], msg) {
				rtts = append(rtts, time.Since(start))
				break
			}
		}
	}
	return rtts
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestNodesReachEachOtherThroughTheBridge(t *testing.T) {
	n := New(t)
	a, b := n.AddNode("a"), n.AddNode("b")
	echoServer(t, b)
	rtts := echoes(t, a, b, 20, time.Second)
	require.Len(t, rtts, 20)
	t.Logf("%s: RTT a-b median %v", n.Emulation(), median(rtts))
	assert.Less(t, median(rtts), 10*time.Millisecond)
	assert.Equal(t, "10.99.0.2:7", b.Addr(7))
}

func TestDelayAddsToTheRoundTrip(t *testing.T) {
	n := New(t)
	a := n.AddNode("a", WithDelay(10*time.Millisecond))
	b := n.AddNode("b", WithDelay(5*time.Millisecond))
	echoServer(t, b)
	rtts := echoes(t, a, b, 20, time.Second)
	require.Len(t, rtts, 20)
	m := median(rtts)
	t.Logf("%s: RTT a-b median %v (min %v, max %v), want 2×(10ms+5ms) = 30ms", n.Emulation(), m, slices.Min(rtts), slices.Max(rtts))
	assert.GreaterOrEqual(t, slices.Min(rtts), 30*time.Millisecond, "no frame beats the delay")
	assert.Less(t, m, 40*time.Millisecond)

	if _, err := exec.LookPath("ping"); err == nil { // the same, seen by ping
		out, err := a.Command("ping", "-c", "5", "-i", "0.2", b.IP).CombinedOutput()
		require.NoError(t, err, "%s", out)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Logf("ping: %s", lines[len(lines)-1])
	}
}

// TestTCPStreamCrossesTheDelayLineIntact sends 32 MiB over TCP through a
// delayed link: large segments (GSO) and partial checksums must survive
// the delay line.
func TestTCPStreamCrossesTheDelayLineIntact(t *testing.T) {
	n := New(t)
	a := n.AddNode("a", WithDelay(2*time.Millisecond))
	b := n.AddNode("b")
	var l net.Listener
	require.NoError(t, b.Do(func() (err error) {
		l, err = net.Listen("tcp", b.Addr(9000))
		return err
	}))
	defer l.Close()
	type result struct {
		sum [32]byte
		n   int64
		err error
	}
	got := make(chan result, 1)
	go func() { // exits when the sender closes its conn
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		h := sha256.New()
		k, err := io.Copy(h, c)
		got <- result{sum: [32]byte(h.Sum(nil)), n: k, err: err}
	}()

	data := make([]byte, 32<<20)
	_, _ = rand.Read(data)
	var c net.Conn
	require.NoError(t, a.Do(func() (err error) {
		c, err = net.Dial("tcp", b.Addr(9000))
		return err
	}))
	start := time.Now()
	_, err := c.Write(data)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	r := <-got
	require.NoError(t, r.err)
	elapsed := time.Since(start)
	t.Logf("%s: 32 MiB in %v (%.0f MB/s) across a 2 ms link", n.Emulation(), elapsed, 32/elapsed.Seconds())
	assert.Equal(t, int64(len(data)), r.n)
	assert.Equal(t, sha256.Sum256(data), r.sum)
}

func TestCutLinkLosesEverythingUntilHealed(t *testing.T) {
	n := New(t)
	a, b := n.AddNode("a"), n.AddNode("b")
	echoServer(t, b)
	require.NoError(t, b.Cut())
	assert.Empty(t, echoes(t, a, b, 3, 200*time.Millisecond))
	require.NoError(t, b.Heal())
	// The port comes back up in a moment: give the probes time.
	assert.NotEmpty(t, echoes(t, a, b, 10, time.Second))
}

func TestLossDropsAboutTheShare(t *testing.T) {
	n := New(t)
	a, b := n.AddNode("a"), n.AddNode("b")
	echoServer(t, b)
	// Resolve the addresses first: the loss drops ARP too, and a lost ARP
	// exchange silences a node for a second, which would skew the count.
	require.Len(t, echoes(t, a, b, 3, time.Second), 3)
	err := b.SetLoss(0.5)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	require.NoError(t, err)
	const sent = 400
	got := len(echoes(t, a, b, sent, 20*time.Millisecond))
	// Each probe crosses the lossy link twice: 25% come back. The band
	// is more than six standard deviations wide on each side.
	t.Logf("%s: 50%% loss each way: %d of %d answered", n.Emulation(), got, sent)
	assert.InDelta(t, sent/4, got, 60)

	require.NoError(t, b.SetLoss(0))
	assert.Len(t, echoes(t, a, b, 20, time.Second), 20, "loss 0 ends the loss")
	require.ErrorContains(t, b.SetLoss(1.5), "want a probability from 0 to 1")
}

func TestCleanupRemovesNamespacesAndPrograms(t *testing.T) {
	var prefix string
	var proc *Proc
	t.Run("net", func(t *testing.T) {
		n := New(t)
		prefix = n.prefix
		a := n.AddNode("a", WithDelay(time.Millisecond))
		proc = a.Start(a.Command("sleep", "600"))
	})
	<-proc.Done() // the end of the subtest killed it
	assert.Empty(t, namespaces(t, prefix))
}

func namespaces(t *testing.T, prefix string) []string {
	t.Helper()
	entries, err := os.ReadDir(netnsDir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestSweepRemovesWhatACrashedRunLeft(t *testing.T) {
	require.NoError(t, Available())
	// A pid that no process has: one that has just exited.
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	name := fmt.Sprintf("%s%d-1-stale", namePrefix, dead.Process.Pid)
	require.NoError(t, ip("netns", "add", name))
	sleeper := exec.Command("ip", "netns", "exec", name, "sleep", "600")
	require.NoError(t, sleeper.Start())
	waited := make(chan error, 1)
	go func() { waited <- sleeper.Wait() }() // exits when the sweep kills it

	mine := fmt.Sprintf("%s%d-99-mine", namePrefix, os.Getpid())
	require.NoError(t, ip("netns", "add", mine))
	defer ip("netns", "del", mine)

	require.NoError(t, Sweep())
	err := <-waited
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	assert.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
	assert.Empty(t, namespaces(t, name))
	assert.Equal(t, []string{mine}, namespaces(t, mine), "a live process's namespaces stay")
}

//go:build linux && netns

package nstest

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/internal/netns"
)

// event is a line of lockclient's output.
type event struct {
	kind   string // granted, work, lost, released, retry
	client string
	at     time.Time
	token  uint64 // 0 for retry
}

var eventRE = regexp.MustCompile(`^(\w+) lock=\S+ client=(\S+) at=(\S+)(?: token=(\d+))?`)

// parseEvents returns the events in out, in the order of their times.
func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := eventRE.FindStringSubmatch(line)
		require.NotNil(t, m, "line %q", line)
		at, err := time.Parse(time.RFC3339Nano, m[3])
		require.NoError(t, err)
		var tok uint64
		if m[4] != "" {
			tok, err = strconv.ParseUint(m[4], 10, 64)
			require.NoError(t, err)
		}
		evs = append(evs, event{m[1], m[2], at, tok})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	return evs
}

// checkHistory checks a merged history of the clients of one lock, all on
// this machine's clock: every grant has a token greater than every
// earlier grant's, and no client worked under a token older than one some
// client had already worked under. So a fenced resource, which refuses
// tokens older than the newest it has seen, would have refused no write:
// no client ever believed it held the lock while another did. It returns
// the grants.
func checkHistory(t *testing.T, evs []event) []event {
	t.Helper()
	var grants []event
	var newestWork event
	for _, e := range evs {
		switch e.kind {
		case "granted":
			if len(grants) > 0 {
				last := grants[len(grants)-1]
				assert.Greater(t, e.token, last.token, "grant to %s at %v after %s's token %d", e.client, e.at, last.client, last.token)
			}
			grants = append(grants, e)
		case "work":
			assert.GreaterOrEqual(t, e.token, newestWork.token,
				"fencing violation: %s worked under token %d at %v, after %s worked under token %d at %v",
				e.client, e.token, e.at, newestWork.client, newestWork.token, newestWork.at)
			newestWork = e
		}
	}
	return grants
}

// lockCluster is a lock server and its clients, each in a namespace.
type lockCluster struct {
	net     *netns.Net
	server  *netns.Node
	srv     *program
	dir     string
	clients map[string]*netns.Node
	events  *clitest.Output // every client's stdout

	ttl, lockDelay time.Duration
}

// startLockServer starts the server on a node of its own, with a short TTL
// and lock-delay so that tests see expiries within seconds.
func startLockServer(t *testing.T, n *netns.Net, opts ...netns.NodeOption) *lockCluster {
	t.Helper()
	return startLockServerWith(t, n, time.Second, 500*time.Millisecond, opts...)
}

// startLockServerWith starts the server with the TTL and lock-delay given,
// on a node made with opts.
func startLockServerWith(t *testing.T, n *netns.Net, ttl, lockDelay time.Duration, opts ...netns.NodeOption) *lockCluster {
	t.Helper()
	c := &lockCluster{net: n, server: n.AddNode("server", opts...), dir: t.TempDir(), clients: map[string]*netns.Node{},
		events: &clitest.Output{}, ttl: ttl, lockDelay: lockDelay}
	c.startServer(t)
	return c
}

func (c *lockCluster) startServer(t *testing.T) {
	t.Helper()
	c.srv = start(t, c.server, "lockserver", "-dir", c.dir, "-listen", c.server.Addr(7070), "-http", c.server.Addr(7071),
		"-ttl", c.ttl.String(), "-lock-delay", c.lockDelay.String())
	c.srv.stdout.WaitLine(t, "listening on")
}

// client starts a lockclient called name on a node of its own.
func (c *lockCluster) client(t *testing.T, name string, args []string, opts ...netns.NodeOption) *program {
	t.Helper()
	nd := c.net.AddNode(name, opts...)
	c.clients[name] = nd
	args = append([]string{"-server", c.server.Addr(7070), "-lock", "x", "-name", name, "-call-timeout", "300ms"}, args...)
	return startWith(t, nd, c.events, "lockclient", args...)
}

// waitGrant waits for a grant to client (any client if "") with a token
// above after, and returns it.
func (c *lockCluster) waitGrant(t *testing.T, client string, after uint64) event {
	t.Helper()
	return waitGrant(t, c.events, client, after)
}

// waitGrant waits for a line in events granting the lock to client (any
// client if "") with a token above after, and returns it.
func waitGrant(t *testing.T, events *clitest.Output, client string, after uint64) event {
	t.Helper()
	line := events.WaitMatch(t, fmt.Sprintf("a grant to %q above token %d", client, after), func(line string) bool {
		m := eventRE.FindStringSubmatch(line)
		if m == nil || m[1] != "granted" || (client != "" && m[2] != client) {
			return false
		}
		tok, _ := strconv.ParseUint(m[4], 10, 64)
		return tok > after
	})
	return parseEvents(t, line)[0]
}

// stopClients stops lock clients: one that holds the lock releases it
// and exits with status 0; one that waits exits with 130 (interrupted).
func stopClients(t *testing.T, clients []*program) {
	t.Helper()
	for _, p := range clients {
		err := p.stop(t)
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 130) {
			t.Errorf("lockclient: %v", err)
		}
	}
}

// waitQueued waits until the server's status shows client waiting for
// the lock.
func (c *lockCluster) waitQueued(t *testing.T, client string) {
	t.Helper()
	poll(t, client+" to queue", func() bool {
		var st struct{ Locks []struct{ Waiters []string } }
		err := getJSON(c.server, "http://"+c.server.Addr(7071)+"/status", &st)
		return err == nil && len(st.Locks) == 1 && slices.Contains(st.Locks[0].Waiters, client)
	})
}

var turns = []string{"-n", "0", "-hold", "150ms", "-work", "10ms"}

// TestLockPassesOnWhenTheHolderIsCutOff cuts a holder off the network
// while it holds the lock: its lease runs out, it stops working under its
// token, and only then does the lock pass to another client, with a larger
// token; healed, the first client gets the lock again.
func TestLockPassesOnWhenTheHolderIsCutOff(t *testing.T) {
	n := netns.New(t)
	c := startLockServer(t, n)
	long := []string{"-n", "0", "-hold", "5s", "-work", "10ms"} // longer than the TTL
	clients := []*program{c.client(t, "a", long), c.client(t, "b", turns), c.client(t, "c", turns)}

	held := c.waitGrant(t, "a", 0)
	require.NoError(t, c.clients["a"].Cut())
	next := c.waitGrant(t, "", held.token)
	assert.NotEqual(t, "a", next.client, "a is cut off")
	require.NoError(t, c.clients["a"].Heal())
	c.waitGrant(t, "a", next.token)

	stopClients(t, clients)
	evs := parseEvents(t, c.events.String())
	grants := checkHistory(t, evs)
	t.Logf("%d grants; a was cut at token %d, %s got token %d %v later", len(grants), held.token, next.client, next.token, next.at.Sub(held.at).Round(time.Millisecond))
	assert.Contains(t, c.events.String(), "lost lock=x client=a", "a learned it lost the lease")
}

// TestLockUnderLoss runs three clients with 20% loss each way on each of
// their links: requests are retried, and the history stays safe.
func TestLockUnderLoss(t *testing.T) {
	n := netns.New(t)
	c := startLockServer(t, n)
	var clients []*program
	for _, name := range []string{"a", "b", "c"} {
		clients = append(clients, c.client(t, name, turns))
		setLoss(t, c.clients[name], 0.2)
	}
	var last uint64
	for range 6 {
		last = c.waitGrant(t, "", last).token
	}
	stopClients(t, clients)
	grants := checkHistory(t, parseEvents(t, c.events.String()))
	assert.GreaterOrEqual(t, len(grants), 6)
}

// TestLockServerRestart kills the server while a client holds the lock and
// another waits, and restarts it on the same directory: the waiter gets
// the lock, with a token above the old holder's, and not before every
// lease of the old run could have expired (TTL 1s + lock-delay 500ms).
func TestLockServerRestart(t *testing.T) {
	n := netns.New(t)
	c := startLockServer(t, n)
	holder := c.client(t, "holder", nil) // holds until it loses the lease
	first := c.waitGrant(t, "holder", 0)
	waiter := c.client(t, "waiter", []string{"-hold", "10ms"})
	c.waitQueued(t, "waiter")

	c.srv.Kill()
	killed := time.Now()
	c.startServer(t)
	restarted := time.Now()
	got := c.waitGrant(t, "waiter", first.token)
	t.Logf("failover: the waiter got the lock %v after the kill (restart took %v)", got.at.Sub(killed).Round(time.Millisecond), restarted.Sub(killed).Round(time.Millisecond))
	// The restart comes after the kill, so its grace period ends later
	// than this.
	assert.GreaterOrEqual(t, got.at.Sub(killed), 1500*time.Millisecond, "the restarted server waits out the old leases")
	require.NoError(t, waiter.Wait(), "the waiter took the lock once and exited")
	require.NoError(t, holder.Wait(), "the holder lost its lease and exited")
	assert.Contains(t, c.events.String(), "lost lock=x client=holder")
	checkHistory(t, parseEvents(t, c.events.String()))
}

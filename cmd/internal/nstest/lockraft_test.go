//go:build linux && netns

package nstest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/internal/netns"
)

// lockRaft is a lockraftserver on each of three nodes and lockclient
// -raft clients of one lock, x, whose lines all go to events.
type lockRaft struct {
	*raftCluster
	net    *netns.Net
	events *clitest.Output
}

// startLockRaft starts the replicas with extra flags, on nodes made with
// opts.
func startLockRaft(t *testing.T, n *netns.Net, extra []string, opts ...netns.NodeOption) *lockRaft {
	t.Helper()
	return &lockRaft{raftCluster: startRaftWith(t, n, "lockraftserver", extra, opts...), net: n, events: &clitest.Output{}}
}

// client starts a lockclient -raft called name on node nd (a new node of
// its own if nil).
func (c *lockRaft) client(t *testing.T, nd *netns.Node, name string, args []string, opts ...netns.NodeOption) *program {
	t.Helper()
	if nd == nil {
		nd = c.net.AddNode(name, opts...)
	}
	args = append([]string{"-raft", "-server", c.clients, "-lock", "x", "-name", name, "-call-timeout", "300ms"}, args...)
	return startWith(t, nd, c.events, "lockclient", args...)
}

// lockTable is the part of lockraftserver's status that shows the lock
// table.
type lockTable struct {
	Role  string `json:"role"`
	Locks []struct {
		Name    string   `json:"name"`
		Holder  string   `json:"holder"`
		Waiters []string `json:"waiters"`
	} `json:"locks"`
}

// waitQueued waits until a leader's table shows client waiting for x.
func (c *lockRaft) waitQueued(t *testing.T, client string) {
	t.Helper()
	poll(t, client+" to queue at the leader", func() bool {
		for i, nd := range c.nodes {
			var st lockTable
			err := getJSON(nd, "http://"+c.nodes[i].Addr(statusPort)+"/status", &st)
			if err == nil && st.Role == "leader" && len(st.Locks) == 1 && slices.Contains(st.Locks[0].Waiters, client) {
				return true
			}
		}
		return false
	})
}

// TestLockRaftClientsCarryOnThroughTheLeaderCut runs the replicated lock
// service on three nodes and three clients taking turns at one lock on
// three others, then cuts the leader's link: the two other replicas elect
// a leader, the clients' turns go on through it, every grant's token is
// above the one before, across the failover too, and no client works
// under a token older than one already worked under (a fenced resource
// would have refused no write). Healed, the old leader follows and
// catches up, and the turns go on.
func TestLockRaftClientsCarryOnThroughTheLeaderCut(t *testing.T) {
	n := netns.New(t)
	c := startLockRaft(t, n, []string{"-ttl", "2s", "-lock-delay", "1s"})
	var clients []*program
	for _, name := range []string{"a", "b", "c"} {
		clients = append(clients, c.client(t, nil, name, turns))
	}
	var last uint64
	for range 3 {
		last = waitGrant(t, c.events, "", last).token
	}
	old, term := c.waitLeader(t, 0, -1)

	require.NoError(t, c.nodes[old].Cut())
	cut := time.Now()
	next := waitGrant(t, c.events, "", last)
	t.Logf("replica %d cut off at token %d: %s was granted token %d %v after the cut",
		old+1, last, next.client, next.token, next.at.Sub(cut).Round(time.Millisecond))
	leader, newTerm := c.waitLeader(t, term, old)
	last = next.token
	for range 3 {
		last = waitGrant(t, c.events, "", last).token
	}
	require.NoError(t, c.nodes[old].Heal())
	for range 3 {
		last = waitGrant(t, c.events, "", last).token
	}
	poll(t, "the old leader to catch up", func() bool {
		s, err := c.status(old)
		l, lerr := c.status(leader)
		return err == nil && lerr == nil && s.Role == "follower" && s.Applied >= l.Commit && s.Term == l.Term
	})

	stopClients(t, clients)
	grants := checkHistory(t, parseEvents(t, c.events.String()))
	assert.GreaterOrEqual(t, len(grants), 10)
	assert.Greater(t, newTerm, term)
	s, err := c.status(old)
	require.NoError(t, err)
	assert.Equal(t, uint64(leader+1), s.Leader, "the old leader follows the new one")
}

// TestLockRaftHolderKeepsItsLeaseThroughTheLeaderCut holds the lock on
// one client while another waits, and cuts the leader's link: the new
// leader gives every session a full TTL, so the holder keeps its lease,
// and the waiter is granted when the holder lets go, with a larger
// token.
func TestLockRaftHolderKeepsItsLeaseThroughTheLeaderCut(t *testing.T) {
	n := netns.New(t)
	c := startLockRaft(t, n, []string{"-ttl", "2s", "-lock-delay", "1s"})
	holder := c.client(t, nil, "holder", []string{"-work", "10ms"})
	first := waitGrant(t, c.events, "holder", 0)
	waiter := c.client(t, nil, "waiter", []string{"-hold", "10ms"})
	c.waitQueued(t, "waiter")
	old, term := c.waitLeader(t, 0, -1)

	require.NoError(t, c.nodes[old].Cut())
	cut := time.Now()
	c.waitLeader(t, term, old)
	// Two TTLs after the cut: had its renewals not reached the new leader,
	// the holder's lease would have expired by now.
	c.events.WaitMatch(t, "the holder working 4 s after the cut", func(line string) bool {
		m := eventRE.FindStringSubmatch(line)
		if m == nil || m[1] != "work" || m[2] != "holder" {
			return false
		}
		at, err := time.Parse(time.RFC3339Nano, m[3])
		return err == nil && at.Sub(cut) > 4*time.Second
	})
	require.NoError(t, holder.stop(t), "interrupted while holding: released")
	got := waitGrant(t, c.events, "waiter", first.token)
	require.NoError(t, waiter.Wait(), "the waiter took the lock once and exited")
	out := c.events.String()
	assert.NotContains(t, out, "lost lock=x client=holder", "the holder kept its lease")
	assert.NotContains(t, out, "retry", "no session ended")
	checkHistory(t, parseEvents(t, out))
	t.Logf("the waiter was granted token %d %v after the holder's", got.token, got.at.Sub(first.at).Round(time.Millisecond))
}

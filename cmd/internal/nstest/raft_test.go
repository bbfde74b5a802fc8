//go:build linux && netns

package nstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/netns"
)

// Ports of the raft programs on every node.
const (
	raftPort   = 7001
	clientPort = 7080 // kvraftserver's and lockraftserver's clients
	statusPort = 7002
)

// raftStatus is the part of the raft programs' status the tests read.
type raftStatus struct {
	Role    string `json:"role"`
	Term    uint64 `json:"term"`
	Leader  uint64 `json:"leader"`
	Commit  uint64 `json:"commit_index"`
	Applied uint64 `json:"applied_index"`
}

// raftCluster is a raftnode, kvraftserver or lockraftserver on each of
// three nodes.
type raftCluster struct {
	nodes   []*netns.Node
	procs   []*program
	args    [][]string // each program's, to restart it
	peers   string     // the -peers list
	clients string     // kvraftserver, lockraftserver: the replicas' client addresses, for -server
}

// startRaft starts program (raftnode, kvraftserver or lockraftserver)
// on three nodes made with opts, each its own server raftN (and kvN or
// lockN).
func startRaft(t *testing.T, n *netns.Net, program string, opts ...netns.NodeOption) *raftCluster {
	t.Helper()
	return startRaftWith(t, n, program, nil, opts...)
}

// startRaftWith is startRaft with extra flags for the program.
func startRaftWith(t *testing.T, n *netns.Net, program string, extra []string, opts ...netns.NodeOption) *raftCluster {
	t.Helper()
	c := &raftCluster{}
	service := "kv" // the clients' entries: kvN, or lockraftserver's lockN
	if program == "lockraftserver" {
		service = "lock"
	}
	var peers []string
	for i := range 3 {
		nd := n.AddNode(fmt.Sprintf("r%d", i+1), opts...)
		c.nodes = append(c.nodes, nd)
		peers = append(peers, fmt.Sprintf("raft%d=%s", i+1, nd.Addr(raftPort)), fmt.Sprintf("%s%d=%s", service, i+1, nd.Addr(clientPort)))
	}
	c.peers = strings.Join(peers, ",")
	for _, nd := range c.nodes {
		c.clients += nd.Addr(clientPort) + ","
	}
	c.clients = strings.TrimSuffix(c.clients, ",")
	dir := t.TempDir()
	for i, nd := range c.nodes {
		args := append([]string{"-id", fmt.Sprint(i + 1), "-data", fmt.Sprintf("%s/%d", dir, i+1),
			"-peers", c.peers, "-http", nd.Addr(statusPort)}, extra...)
		p := start(t, nd, program, args...)
		p.stdout.WaitLine(t, "status on")
		c.procs, c.args = append(c.procs, p), append(c.args, args)
	}
	return c
}

// status reads server i's status, from inside its own namespace (so that
// it answers even while its link is cut).
func (c *raftCluster) status(i int) (raftStatus, error) {
	var s raftStatus
	err := getJSON(c.nodes[i], "http://"+c.nodes[i].Addr(statusPort)+"/status", &s)
	return s, err
}

// waitLeader waits until one of the servers not in skip says it leads in
// a term above after, and returns its index and term.
func (c *raftCluster) waitLeader(t *testing.T, after uint64, skip int) (leader int, term uint64) {
	t.Helper()
	poll(t, fmt.Sprintf("a leader in a term above %d", after), func() bool {
		for i := range c.nodes {
			if s, err := c.status(i); i != skip && err == nil && s.Role == "leader" && s.Term > after {
				leader, term = i, s.Term
				return true
			}
		}
		return false
	})
	return leader, term
}

// proposal is raftnode's answer to POST /propose.
type proposal struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
	Error string `json:"error"`
}

// propose posts line to server i, from inside its namespace.
func (c *raftCluster) propose(i int, line string) (int, proposal, error) {
	hc := nsClient(c.nodes[i])
	resp, err := hc.Post("http://"+c.nodes[i].Addr(statusPort)+"/propose", "text/plain", strings.NewReader(line))
	if err != nil {
		return 0, proposal{}, err
	}
	defer resp.Body.Close()
	var p proposal
	err = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p, err
}

// nsClient returns an HTTP client whose connections are made in node
// from's namespace.
func nsClient(from *netns.Node) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
				err = from.Do(func() error {
					c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
}

// TestRaftElectsANewLeaderWhenTheLeaderIsCutOff cuts the leader's link:
// the two others elect a leader in a later term and commit new lines
// without it; the old leader steps down (CheckQuorum) and commits
// nothing; healed, it follows the new leader and applies what it missed.
func TestRaftElectsANewLeaderWhenTheLeaderIsCutOff(t *testing.T) {
	n := netns.New(t)
	c := startRaft(t, n, "raftnode")
	old, term := c.waitLeader(t, 0, -1)
	code, before, err := c.propose(old, "before the cut")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, before.Error)

	require.NoError(t, c.nodes[old].Cut())
	cut := time.Now()
	leader, newTerm := c.waitLeader(t, term, old)
	elected := time.Since(cut)
	code, during, err := c.propose(leader, "during the cut")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, during.Error)
	t.Logf("server %d cut off: server %d leads term %d after %v; a line committed %v after the cut",
		old+1, leader+1, newTerm, elected.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond))
	duringLine := fmt.Sprintf("applied index=%d term=%d %q", during.Index, during.Term, "during the cut")
	for i, p := range c.procs {
		if i != old {
			p.stdout.WaitLine(t, duringLine)
		}
	}
	poll(t, "the old leader to step down", func() bool {
		s, err := c.status(old)
		return err == nil && s.Role != "leader"
	})
	s, err := c.status(old)
	require.NoError(t, err)
	assert.Less(t, s.Commit, during.Index, "cut off, the old leader commits nothing new")
	assert.NotContains(t, c.procs[old].stdout.String(), "during the cut")

	require.NoError(t, c.nodes[old].Heal())
	c.procs[old].stdout.WaitLine(t, duringLine)
	s, err = c.status(old)
	require.NoError(t, err)
	assert.Equal(t, "follower", s.Role)
	assert.Equal(t, uint64(leader+1), s.Leader, "it follows the new leader")
}

// kvc runs kvclient -raft in node from, calling the replicas, and
// returns its output.
func (c *raftCluster) kvc(t *testing.T, from *netns.Node, args ...string) (string, error) {
	t.Helper()
	cmd := from.Command(bin(t, "kvclient"), append([]string{"-raft", "-server", c.clients, "-timeout", "30s"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// appendN appends "i;" to key for i in [from, to), one kvclient run
// each, from node nd; each must succeed and make version i.
func (c *raftCluster) appendN(t *testing.T, nd *netns.Node, key string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		out, err := c.kvc(t, nd, "append", key, fmt.Sprintf("%d;", i))
		require.NoError(t, err, out)
		require.Equal(t, fmt.Sprintf("%s version=%d\n", key, i), out)
	}
}

// wantLog is what appendN's appends from 1 to n make.
func wantLog(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d;", i)
	}
	return b.String()
}

// TestKVRaftClientWorksThroughTheLeaderCut runs the replicated key-value
// service on three nodes and a client on a fourth. The client appends
// while the leader's link is cut and after it is healed: every append
// succeeds, applies once and in order, and the old leader catches up.
func TestKVRaftClientWorksThroughTheLeaderCut(t *testing.T) {
	n := netns.New(t)
	c := startRaft(t, n, "kvraftserver")
	client := n.AddNode("client")
	c.appendN(t, client, "log", 1, 4)
	old, term := c.waitLeader(t, 0, -1)

	require.NoError(t, c.nodes[old].Cut())
	cut := time.Now()
	c.appendN(t, client, "log", 4, 5)
	t.Logf("replica %d cut off: the client's next append succeeded %v after the cut", old+1, time.Since(cut).Round(time.Millisecond))
	c.appendN(t, client, "log", 5, 9)
	_, newTerm := c.waitLeader(t, term, old)
	assert.Greater(t, newTerm, term)

	require.NoError(t, c.nodes[old].Heal())
	c.appendN(t, client, "log", 9, 12)
	out, err := c.kvc(t, client, "get", "log")
	require.NoError(t, err, out)
	assert.Equal(t, fmt.Sprintf("log version=11 value=%q\n", wantLog(11)), out, "each append applied once, in order")
	poll(t, "the old leader to catch up", func() bool {
		s, err := c.status(old)
		l, lerr := c.status((old + 1) % 3)
		return err == nil && lerr == nil && s.Role == "follower" && s.Applied >= l.Commit && s.Term == l.Term
	})
}

// TestKVRaftLeaderKilledAndRestarted kills the leader's process (kill -9,
// as a crash does) while a client appends from another node: the others
// elect a leader and the appends go on; the old leader, restarted on its
// data directory, rejoins and catches up. (That its log survived on disk
// is checked by kvraftserver's own tests, which restart every replica.)
func TestKVRaftLeaderKilledAndRestarted(t *testing.T) {
	n := netns.New(t)
	c := startRaft(t, n, "kvraftserver")
	client := n.AddNode("client")
	c.appendN(t, client, "log", 1, 4)
	old, term := c.waitLeader(t, 0, -1)

	c.procs[old].Kill()
	c.appendN(t, client, "log", 4, 8)
	c.waitLeader(t, term, old)
	c.procs[old] = start(t, c.nodes[old], "kvraftserver", c.args[old]...)
	c.procs[old].stdout.WaitLine(t, "status on")
	c.appendN(t, client, "log", 8, 10)
	poll(t, "the restarted replica to catch up", func() bool {
		s, err := c.status(old)
		l, lerr := c.status((old + 1) % 3)
		return err == nil && lerr == nil && s.Applied >= l.Commit && s.Term == l.Term
	})
	out, err := c.kvc(t, client, "get", "log")
	require.NoError(t, err, out)
	assert.Equal(t, fmt.Sprintf("log version=9 value=%q\n", wantLog(9)), out)
}

// TestKVRaftUnderLoss loses 10% of the frames each way on every link of
// the replicas and the client: raft and the clerk resend, and every
// append applies once, in order.
func TestKVRaftUnderLoss(t *testing.T) {
	n := netns.New(t)
	c := startRaft(t, n, "kvraftserver")
	client := n.AddNode("client")
	for _, nd := range append(c.nodes, client) {
		setLoss(t, nd, 0.1)
	}
	c.appendN(t, client, "log", 1, 7)
	out, err := c.kvc(t, client, "get", "log")
	require.NoError(t, err, out)
	assert.Equal(t, fmt.Sprintf("log version=6 value=%q\n", wantLog(6)), out)
}

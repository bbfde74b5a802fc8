package raft_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// realCluster starts n nodes on real sockets: listen makes each node's
// listener, dialer is how they reach each other. It returns the nodes
// and, per node, a channel of what it applies.
func realCluster(t *testing.T, n int, listen func() (transport.Listener, error), dialer transport.Dialer) []*raft.Node {
	t.Helper()
	addrs := map[uint64]string{}
	listeners := map[uint64]transport.Listener{}
	for id := uint64(1); id <= uint64(n); id++ {
		l, err := listen()
		require.NoError(t, err)
		listeners[id], addrs[id] = l, l.Addr().String()
	}
	var nodes []*raft.Node
	for id := uint64(1); id <= uint64(n); id++ {
		node, err := raft.NewNode(raft.NodeConfig{
			Config:   raft.Config{ID: id, Storage: raft.NewMemoryStorage(), Seed: 1},
			Addrs:    addrs,
			Listener: listeners[id],
			Dialer:   dialer,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = node.Close() })
		nodes = append(nodes, node)
	}
	return nodes
}

// proposeToLeader proposes cmd, following leader hints and pacing its
// tries while there is no leader, until ctx ends.
func proposeToLeader(ctx context.Context, nodes []*raft.Node, cmd string) (uint64, error) {
	pace := time.NewTicker(5 * time.Millisecond)
	defer pace.Stop()
	for i := 0; ; i++ {
		n := nodes[i%len(nodes)]
		index, _, err := n.Propose(ctx, []byte(cmd))
		var nle *raft.NotLeaderError
		switch {
		case err == nil:
			return index, nil
		case errors.As(err, &nle) && nle.Leader != raft.None:
			i = int(nle.Leader) - 2 // next try: the leader
			continue
		case ctx.Err() != nil:
			return 0, err
		}
		select {
		case <-pace.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// checkCommits commits commands and checks every node applies them in
// order.
func checkCommits(t *testing.T, nodes []*raft.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for k := range 3 {
		cmd := fmt.Sprintf("cmd %d", k)
		_, err := proposeToLeader(ctx, nodes, cmd)
		require.NoError(t, err)
		for _, n := range nodes {
			select {
			case m := <-n.Apply():
				assert.Equal(t, cmd, string(m.Command))
			case <-ctx.Done():
				t.Fatalf("node %d did not apply %q", n.ID(), cmd)
			}
		}
	}
}

func TestNodesOverTCP(t *testing.T) {
	nodes := realCluster(t, 3, func() (transport.Listener, error) { return transport.ListenTCP("127.0.0.1:0") },
		transport.NewTCPDialer())
	checkCommits(t, nodes)
}

func TestNodesOverReliableUDP(t *testing.T) {
	cfg := reliable.Config{Linger: -1}
	nodes := realCluster(t, 3, func() (transport.Listener, error) { return reliable.Listen("127.0.0.1:0", cfg) },
		reliable.NewDialer(cfg))
	checkCommits(t, nodes)
}

// stuckConn is a connection to a peer that reads nothing, whose buffers
// are full: every Send blocks until its context ends.
type stuckConn struct{ transport.Conn }

func (c stuckConn) Send(ctx context.Context, b []byte) error {
	<-ctx.Done()
	return ctx.Err()
}

// A stuck peer costs nothing but its own messages: the leader drops what
// does not fit in its outbox, counts it, and commits with the others.
func TestAStuckPeerDoesNotStallTheLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const stuck = 3
		c := newCluster(t, 3, func(cfg *raft.NodeConfig) {
			cfg.OutboxSize = 8
			cfg.PreVote = true // so that the cut-off node 3 does not disrupt the others
			inner := cfg.Dialer
			cfg.Dialer = transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
				conn, err := inner.Dial(ctx, addr)
				if err == nil && addr == "n3" {
					return stuckConn{conn}, nil
				}
				return conn, err
			})
		})
		// Node 3 hears from no one: leave it out of the waiting for an
		// agreed leader and for commands applied (but stop it at the end).
		n3 := c.nodes[stuck]
		delete(c.nodes, stuck)
		defer func() { c.nodes[stuck] = n3 }()
		for k := range 50 {
			c.commit(fmt.Sprint(k))
		}
		l := c.agreedLeader()
		s := c.nodes[l].Status()
		assert.Positive(t, s.Peers[stuck].Dropped)
		assert.Positive(t, s.Peers[stuck].SendErrors)
		other := 3 - l
		assert.Zero(t, s.Peers[other].Dropped)
		assert.Positive(t, s.Peers[other].Sent)
	})
}

// A connection that sends garbage, or nothing, is closed: a stranger
// cannot hold a slot.
func TestStrangersAreHungUpOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1)
		c.waitLeader()
		garbage, err := c.net.Dial(context.Background(), "stranger", c.addrs[1])
		require.NoError(t, err)
		defer garbage.Close()
		require.NoError(t, garbage.Send(context.Background(), []byte("hello")))
		_, err = garbage.Recv(context.Background())
		require.Error(t, err, "closed after a bad first message")
		assert.Equal(t, uint64(1), c.nodes[1].Status().BadMessages)

		silent, err := c.net.Dial(context.Background(), "stranger", c.addrs[1])
		require.NoError(t, err)
		defer silent.Close()
		start := time.Now()
		_, err = silent.Recv(context.Background())
		require.Error(t, err, "closed when no first message comes")
		assert.LessOrEqual(t, time.Since(start), electionTimeout)
	})
}

// An application that stops reading Apply does not stop the node: it
// keeps replicating and committing, and what it committed waits for the
// application, in order.
func TestASlowApplicationDoesNotStallReplication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, func(cfg *raft.NodeConfig) { cfg.ApplyBacklog = 4 })
		l := c.waitLeader()
		slow := l%3 + 1
		gate := make(chan struct{})
		c.gate(slow, gate)
		var last uint64
		for k := range 30 {
			i, _, err := c.nodes[l].Propose(context.Background(), []byte(fmt.Sprint(k)))
			require.NoError(t, err)
			last = i
		}
		for c.nodes[slow].Status().Commit < last {
			time.Sleep(tick)
		}
		assert.Less(t, len(c.commands(slow)), 10, "it committed everything and applied little")
		close(gate)
		c.commit("end")
		want := []string{}
		for k := range 30 {
			want = append(want, fmt.Sprint(k))
		}
		assert.Equal(t, append(want, "end"), c.commands(slow))
	})
}

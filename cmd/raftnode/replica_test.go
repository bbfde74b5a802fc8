package main

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// simCluster is three replicas on a simulated network, in a synctest
// bubble: the proposal logic tested in virtual time.
type simCluster struct {
	net      *netsim.Network
	replicas []*replica
	out      []*clitest.Output
}

func newSimCluster(t *testing.T) *simCluster {
	t.Helper()
	c := &simCluster{net: netsim.NewNetwork(1)}
	addrs := map[uint64]string{1: "n1", 2: "n2", 3: "n3"}
	for id := uint64(1); id <= 3; id++ {
		l, err := c.net.Listen(addrs[id])
		require.NoError(t, err)
		storage := raft.NewMemoryStorage()
		node, err := raft.NewNode(raft.NodeConfig{
			Config:   raft.Config{ID: id, Storage: storage, Seed: 1, PreVote: true, CheckQuorum: true},
			Addrs:    addrs,
			Listener: l,
			Dialer:   c.net.Dialer(addrs[id]),
		})
		require.NoError(t, err)
		out := &clitest.Output{}
		c.replicas = append(c.replicas, newReplica(node, storage, out))
		c.out = append(c.out, out)
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			_ = r.close()
		}
		c.net.Close()
	})
	return c
}

// leader waits, in virtual time, until a replica other than not (-1:
// any) leads, and returns its index.
func (c *simCluster) leader(not int) int {
	for {
		for i, r := range c.replicas {
			if i != not && r.node.Status().State == raft.Leader {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond) // virtual: lets the election run
	}
}

func TestProposalAnswersOnceCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t)
		l := c.leader(-1)
		index, term, err := c.replicas[l].propose(context.Background(), []byte("a"))
		require.NoError(t, err)
		synctest.Wait()
		for i, out := range c.out {
			assert.Contains(t, out.String(), fmt.Sprintf("applied index=%d term=%d \"a\"\n", index, term), "replica %d", i+1)
		}

		_, _, err = c.replicas[(l+1)%3].propose(context.Background(), []byte("b"))
		var nle *raft.NotLeaderError
		require.ErrorAs(t, err, &nle)
		assert.Equal(t, uint64(l+1), nle.Leader)
	})
}

// A leader cut off from the others takes a proposal it cannot commit;
// the others elect a new leader, whose entries replace it once the old
// leader is back: its proposer learns that the line was replaced, not
// that it committed, though the old leader has applied past its index.
func TestProposalReplacedByANewLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t)
		old := c.leader(-1)
		_, _, err := c.replicas[old].propose(context.Background(), []byte("a"))
		require.NoError(t, err)
		var others []string
		for i := range 3 {
			if i != old {
				others = append(others, fmt.Sprintf("n%d", i+1))
			}
		}
		c.net.Partition([]string{fmt.Sprintf("n%d", old+1)}, others)

		lost := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _, err := c.replicas[old].propose(ctx, []byte("lost"))
			lost <- err
		}()
		synctest.Wait()
		l := c.leader(old)
		for _, line := range []string{"b", "c"} {
			_, _, err := c.replicas[l].propose(context.Background(), []byte(line))
			require.NoError(t, err)
		}
		select {
		case err := <-lost:
			t.Fatalf("a proposal cut off from the majority ended with %v", err)
		default:
		}

		c.net.Heal()
		require.ErrorIs(t, <-lost, errReplaced)
		time.Sleep(time.Second) // virtual: the old leader catches up
		assert.Contains(t, c.out[old].String(), `"c"`)
		assert.NotContains(t, c.out[old].String(), `"lost"`)
	})
}

// A proposal whose fate is not known when its context ends says so.
func TestProposalWithoutOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t)
		l := c.leader(-1)
		c.net.Partition([]string{fmt.Sprintf("n%d", l+1)}, []string{fmt.Sprintf("n%d", (l+1)%3+1), fmt.Sprintf("n%d", (l+2)%3+1)})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err := c.replicas[l].propose(ctx, []byte("x"))
		require.ErrorIs(t, err, errNoOutcome)
	})
}

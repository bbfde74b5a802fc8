package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/raft"
)

// The live demo's client, in virtual time: a leader cut off in a minority
// takes a command and cannot commit it; the majority elects a new leader,
// which commits; after the heal the old leader's entry is overwritten,
// and the client is told so, with its index and term.
func TestACutOffLeadersCommandIsNotCommittedAndThenOverwritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tick = 10 * time.Millisecond
		ctx := context.Background()
		c, err := newCluster(5, 1, demo.NewTracer("", ""), timing{tick: tick, electionTick: liveElectionTick, heartbeatTick: liveHeartbeatTick, delay: liveDelay})
		require.NoError(t, err)
		defer c.close()
		var out bytes.Buffer
		cl := &client{c: c, out: &out, tick: tick, wait: commitTicks * tick}

		old, term, err := c.awaitLeader(ctx, c.ids(), 0)
		require.NoError(t, err)
		cl.send(ctx, "x=1")
		require.Contains(t, out.String(), fmt.Sprintf("The client sends x=1 to %s, leader of term %d: entry 2, committed", name(old), term))

		c.net.Partition([]string{name(old)})
		cl.send(ctx, "x=2")
		assert.Contains(t, out.String(), fmt.Sprintf("The client sends x=2 to %s, leader of term %d as far as it knows: entry 3 is NOT committed", name(old), term))
		require.Len(t, cl.pending, 1)
		cl.settle()
		assert.Len(t, cl.pending, 1, "not lost while the old leader is cut off")

		others := c.ids()[:0:0]
		for _, id := range c.ids() {
			if id != old {
				others = append(others, id)
			}
		}
		leader, newTerm, err := c.awaitLeader(ctx, others, term)
		require.NoError(t, err)
		out.Reset()
		cl.send(ctx, "x=3")
		// Index 3 holds the new leader's no-op; x=3 is at 4.
		require.Contains(t, out.String(), fmt.Sprintf("The client sends x=3 to %s, leader of term %d: entry 4, committed", name(leader), newTerm))

		c.net.Heal()
		require.NoError(t, await(ctx, func() bool { return c.hasApplied(c.ids(), 4) }))
		out.Reset()
		cl.settle()
		assert.Contains(t, out.String(), fmt.Sprintf("x=2 (entry 3 of term %d) is lost: %s's log holds an entry of term %d at index 3 now", term, name(old), newTerm))
		assert.Empty(t, cl.pending)
		assert.Equal(t, []string{"x=1", "x=3"}, c.commands(old), "the old leader applied the new leader's log")
		assert.Equal(t, raft.Follower, c.role(old))
		assert.Contains(t, c.summary(), "The applied logs agree")
	})
}

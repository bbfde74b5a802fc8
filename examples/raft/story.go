package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/distsys-kit/distsys/raft"
)

// outcome is what the servers did, in numbers: tell narrates it, and the
// tests check it (not the narration's wording).
type outcome struct {
	servers          int      // in the cluster
	term, newTerm    uint64   // the first leader's term; the term of the majority's leader
	minority         int      // servers on the old leader's side of the partition
	appliedMinority  int      // servers that applied the old leader's commands while it was cut off
	steppedDown      bool     // the old leader stopped leading before the heal
	had, replaced    []int    // per minority server: its entries of the old term, and how many were replaced
	applied          []string // the commands every server applied, in order
	appliedAfterHeal int      // servers that applied the old leader's commands in the end
}

// tell runs the three steps and narrates them from what the servers did.
func tell(ctx context.Context, out io.Writer, c *cluster) (outcome, error) {
	var o outcome
	all := c.ids()
	o.servers = len(all)
	fmt.Fprintf(out, "Raft on %d servers (%s); every message takes %v.\n", len(all), names(all), linkDelay)

	fmt.Fprintf(out, "\n1. An election\n")
	leader, term, err := c.awaitLeader(ctx, all, 0)
	if err != nil {
		return o, err
	}
	o.term = term
	fmt.Fprintf(out, "   %s timed out first, won the votes of a majority, and leads term %d.\n", name(leader), term)
	x, err := c.commit(ctx, leader, all, "x=1", "x=2", "x=3")
	if err != nil {
		return o, err
	}
	fmt.Fprintf(out, "   It committed 3 commands at indexes %d-%d; all %d servers applied them.\n", x[0], x[2], len(all))

	// The leader and as many followers as stay short of a majority.
	minority := []uint64{leader}
	for _, id := range all {
		if id != leader && len(minority) < (len(all)-1)/2 {
			minority = append(minority, id)
		}
	}
	majority := slices.DeleteFunc(slices.Clone(all), func(id uint64) bool { return slices.Contains(minority, id) })
	c.net.Partition(nodeNames(minority), nodeNames(majority))
	fmt.Fprintf(out, "\n2. A partition: {%s} | {%s}\n", names(minority), names(majority))
	var y []uint64
	for _, cmd := range []string{"y=1", "y=2"} {
		i, _, err := c.node(leader).Propose(ctx, []byte(cmd))
		if err != nil {
			return o, fmt.Errorf("propose %s at the old leader: %w", cmd, err)
		}
		y = append(y, i)
	}
	fmt.Fprintf(out, "   %s still leads term %d as far as it knows: it took 2 commands at indexes %d-%d,\n", name(leader), term, y[0], y[1])
	fmt.Fprintf(out, "   which reach %d of %d servers, not a majority: they cannot commit.\n", len(minority), len(all))
	o.minority = len(minority)
	newLeader, newTerm, err := c.awaitLeader(ctx, majority, term)
	if err != nil {
		return o, err
	}
	o.newTerm = newTerm
	fmt.Fprintf(out, "   On the other side, %s heard from no leader, and %s won the election of term %d.\n", names(majority), name(newLeader), newTerm)
	z, err := c.commit(ctx, newLeader, majority, "z=1", "z=2")
	if err != nil {
		return o, err
	}
	fmt.Fprintf(out, "   %s committed 2 commands at indexes %d-%d on the %d servers of the majority", name(newLeader), z[0], z[1], len(majority))
	if z[0] == x[2]+2 {
		fmt.Fprintf(out, "\n   (index %d holds the no-op entry a new leader starts its term with)", x[2]+1)
	}
	fmt.Fprintf(out, ".\n")
	if err := await(ctx, func() bool { return c.node(leader).Status().State != raft.Leader }); err != nil {
		return o, err
	}
	o.steppedDown = true
	o.appliedMinority = c.countApplied(all, "y=1", "y=2")
	fmt.Fprintf(out, "   %s stepped down: it had not heard from a majority for an election timeout (CheckQuorum).\n", name(leader))
	fmt.Fprintf(out, "   Servers that applied its commands: %d. %s's last applied index is still %d.\n",
		o.appliedMinority, name(leader), c.lastApplied(leader))

	before := make(map[uint64][]uint64)
	for _, id := range minority {
		before[id] = c.terms(id, y[0], y[1])
	}
	c.net.Heal()
	fmt.Fprintf(out, "\n3. The partition heals\n")
	if err := await(ctx, func() bool { return c.hasApplied(all, z[1]) }); err != nil {
		return o, err
	}
	fmt.Fprintf(out, "   %s learned of term %d and follow %s. Log repair:\n", names(minority), newTerm, name(newLeader))
	for _, id := range minority {
		replaced := 0
		after := c.terms(id, y[0], y[1])
		for i, t := range before[id] {
			if i < len(after) && after[i] != t {
				replaced++
			}
		}
		o.had = append(o.had, len(before[id]))
		o.replaced = append(o.replaced, replaced)
		fmt.Fprintf(out, "   - %s had %d entries of term %d at indexes %d-%d; %d were replaced by %s's.\n",
			name(id), len(before[id]), term, y[0], y[0]+uint64(len(before[id]))-1, replaced, name(newLeader))
	}
	want := c.commands(newLeader)
	for _, id := range all {
		if !slices.Equal(c.commands(id), want) {
			return o, fmt.Errorf("%s applied %v, %s applied %v", name(id), c.commands(id), name(newLeader), want)
		}
	}
	o.applied = want
	o.appliedAfterHeal = c.countApplied(all, "y=1", "y=2")
	fmt.Fprintf(out, "   All %d servers applied the same %d commands: %s.\n", len(all), len(want), strings.Join(want, " "))
	if o.appliedAfterHeal == 0 {
		fmt.Fprintf(out, "   y=1 and y=2 are in no log: a client that got no answer for them must send them again.\n")
	}
	return o, nil
}

// awaitLeader waits until the servers of ids agree on a leader among them
// in a term after `after`.
func (c *cluster) awaitLeader(ctx context.Context, ids []uint64, after uint64) (leader, term uint64, err error) {
	err = await(ctx, func() bool {
		leader, term = c.leaderOf(ids)
		return leader != 0 && term > after
	})
	return leader, term, err
}

// commit proposes cmds at leader and waits until every server of ids has
// applied them; it returns their indexes.
func (c *cluster) commit(ctx context.Context, leader uint64, ids []uint64, cmds ...string) ([]uint64, error) {
	var indexes []uint64
	for _, cmd := range cmds {
		i, _, err := c.node(leader).Propose(ctx, []byte(cmd))
		if err != nil {
			return nil, fmt.Errorf("propose %s: %w", cmd, err)
		}
		indexes = append(indexes, i)
	}
	return indexes, await(ctx, func() bool { return c.hasApplied(ids, indexes[len(indexes)-1]) })
}

func names(ids []uint64) string { return strings.Join(nodeNames(ids), " ") }

func nodeNames(ids []uint64) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = name(id)
	}
	return s
}

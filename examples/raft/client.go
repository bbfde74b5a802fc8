package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// client is the live demo's client. It is not on the simulated network:
// it reaches every server that runs, asks them who leads, and sends its
// command to the leader it used last while that server still says it
// leads, as a client that sticks to a server it knows does. So when the
// leader is cut off, its next commands go to a leader that cannot commit
// them.
type client struct {
	c       *cluster
	out     io.Writer
	tick    time.Duration // how often it looks whether its command committed
	wait    time.Duration // how long it waits for a commit before it gives up
	leader  uint64        // the server it sends to, or 0 to look for one
	pending []proposal    // commands taken by a leader and not known committed
}

// proposal is a command a leader took: where, and at which index and term.
type proposal struct {
	cmd         string
	at          uint64 // the server that took it
	index, term uint64
}

// send proposes cmd at the leader and waits until it commits or the
// client gives up on it.
func (cl *client) send(ctx context.Context, cmd string) {
	if cl.leader == 0 || cl.c.role(cl.leader) != raft.Leader {
		cl.leader = cl.c.claimedLeader()
	}
	if cl.leader == 0 {
		fmt.Fprintf(cl.out, "   No server says it leads (an election is under way): the client sends nothing this round.\n")
		return
	}
	node := cl.c.node(cl.leader)
	i, term, err := node.Propose(ctx, []byte(cmd))
	if err != nil {
		fmt.Fprintf(cl.out, "   The client sends %s to %s: refused (%v).\n", cmd, name(cl.leader), err)
		cl.leader = 0
		return
	}
	p := proposal{cmd: cmd, at: cl.leader, index: i, term: term}
	switch err := cl.await(ctx, p); {
	case err == nil:
		fmt.Fprintf(cl.out, "   The client sends %s to %s, leader of term %d: entry %d, committed once a majority had it.\n",
			cmd, name(p.at), term, i)
	case errors.Is(err, errGaveUp):
		fmt.Fprintf(cl.out, "   The client sends %s to %s, leader of term %d as far as it knows: entry %d is NOT committed after %v:\n",
			cmd, name(p.at), term, i, cl.wait)
		fmt.Fprintf(cl.out, "   %s cannot reach a majority. The client will ask the other servers who leads.\n", name(p.at))
		cl.pending = append(cl.pending, p)
		cl.leader = 0
	}
}

// errGaveUp is what await returns when the client stops waiting.
var errGaveUp = errors.New("not committed in time")

// await waits until the server that took p has applied it (committed),
// looking every tick, and returns nil; it returns errGaveUp after cl.wait,
// or ctx.Err().
func (cl *client) await(ctx context.Context, p proposal) error {
	tk := time.NewTicker(cl.tick)
	defer tk.Stop()
	giveUp := time.NewTimer(cl.wait)
	defer giveUp.Stop()
	for {
		if got, ok := cl.c.appliedAt(p.at, p.index); ok && got == p.cmd {
			return nil
		}
		select {
		case <-tk.C:
		case <-giveUp.C:
			return errGaveUp
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// settle says what became of the commands the client gave up on: one is
// committed after all if a server applied it at its index; it is lost if
// the log of the server that took it holds another entry there now (a
// new leader's log repair overwrote it), and then the client must send
// it again.
func (cl *client) settle() {
	var still []proposal
	for _, p := range cl.pending {
		switch term, committed := cl.c.fate(p); {
		case committed:
			fmt.Fprintf(cl.out, "   %s (entry %d of term %d) committed after all: %s got a majority back in time.\n", p.cmd, p.index, p.term, name(p.at))
		case term != p.term:
			what := fmt.Sprintf("holds an entry of term %d", term)
			if term == 0 {
				what = "ends before it"
			}
			fmt.Fprintf(cl.out, "   %s (entry %d of term %d) is lost: %s's log %s at index %d now, from the new leader (log repair).\n",
				p.cmd, p.index, p.term, name(p.at), what, p.index)
			fmt.Fprintf(cl.out, "   No server applied it; a client that got no answer must send it again.\n")
		default:
			still = append(still, p)
		}
	}
	cl.pending = still
}

// summary returns the line that ends a round: every server's role, term
// and number of applied commands, and whether the applied logs agree (no
// two servers applied different commands at the same index).
func (c *cluster) summary() string {
	var b strings.Builder
	b.WriteString("  ")
	var longest []string
	for _, id := range c.ids() {
		node := c.node(id)
		if node == nil {
			fmt.Fprintf(&b, " %s: down |", name(id))
			continue
		}
		st := node.Status()
		cmds := c.commands(id)
		fmt.Fprintf(&b, " %s: %s, term %d, %d applied |", name(id), strings.ToLower(st.State.String()), st.Term, len(cmds))
		if len(cmds) > len(longest) {
			longest = cmds
		}
	}
	s := strings.TrimSuffix(b.String(), " |")
	for _, id := range c.ids() {
		cmds := c.commands(id)
		for i, cmd := range cmds {
			if longest[i] != cmd {
				return s + fmt.Sprintf("\n   SAFETY VIOLATED: %s applied %s as its command %d, another server %s.", name(id), cmd, i+1, longest[i])
			}
		}
	}
	return s + "\n   The applied logs agree: each is a prefix of the longest."
}

// idOf returns the ID of the server called node on the network.
func (c *cluster) idOf(node string) (uint64, bool) {
	for id, addr := range c.addrs {
		if addr == node {
			return id, true
		}
	}
	return 0, false
}

// role returns what server id says it is; a stopped server is a follower.
func (c *cluster) role(id uint64) raft.State {
	if node := c.node(id); node != nil {
		return node.Status().State
	}
	return raft.Follower
}

// claimedLeader returns the running server that says it leads the
// highest term, or 0 if none does.
func (c *cluster) claimedLeader() uint64 {
	var leader, term uint64
	for _, id := range c.ids() {
		if node := c.node(id); node != nil {
			if st := node.Status(); st.State == raft.Leader && st.Term > term {
				leader, term = id, st.Term
			}
		}
	}
	return leader
}

// appliedAt returns the command server id applied at index, if it did.
func (c *cluster) appliedAt(id, index uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd, ok := c.applied[id][index]
	return cmd, ok
}

// fate returns the term of the entry at p's index in the log of the
// server that took p (0 if its log ends before), and whether a running
// server applied p there: committed.
func (c *cluster) fate(p proposal) (term uint64, committed bool) {
	for _, id := range c.ids() {
		if cmd, ok := c.appliedAt(id, p.index); ok && cmd == p.cmd {
			return p.term, true
		}
	}
	term, err := c.storage[p.at].Term(p.index)
	if err != nil {
		return 0, false
	}
	return term, false
}

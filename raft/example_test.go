package raft_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Three servers on a simulated network elect a leader; a client finds it
// and proposes a command, and every server applies it.
func Example() {
	net := netsim.NewNetwork(1)
	defer net.Close()
	addrs := map[uint64]string{1: "n1", 2: "n2", 3: "n3"}
	var nodes []*raft.Node
	for id := uint64(1); id <= 3; id++ {
		l, err := net.Listen(addrs[id])
		if err != nil {
			panic(err)
		}
		n, err := raft.NewNode(raft.NodeConfig{
			Config:   raft.Config{ID: id, Storage: raft.NewMemoryStorage(), Seed: 1},
			Addrs:    addrs,
			Listener: l,
			Dialer:   net.Dialer(addrs[id]),
		})
		if err != nil {
			panic(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := propose(ctx, nodes, "x=1"); err != nil {
		panic(err)
	}
	for _, n := range nodes {
		m := <-n.Apply()
		fmt.Printf("server %d applies %q\n", n.ID(), m.Command)
	}
	// Output:
	// server 1 applies "x=1"
	// server 2 applies "x=1"
	// server 3 applies "x=1"
}

// propose is a client: it tries a server, follows the leader hint of a
// *NotLeaderError, and waits a little while there is no leader yet.
func propose(ctx context.Context, nodes []*raft.Node, cmd string) error {
	n := nodes[0]
	for {
		_, _, err := n.Propose(ctx, []byte(cmd))
		var nle *raft.NotLeaderError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &nle):
			return err
		case nle.Leader != raft.None:
			n = nodes[nle.Leader-1]
			continue
		}
		select { // no leader yet: an election is under way
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// The protocol core by hand, with no goroutines: three servers and a
// slice of messages in flight. Each server's Ready is done in order (save,
// send, apply, advance); server 1 campaigns, wins, and commits a command.
// (The printout leaves out the empty AppendEntries, which carry the
// commit index, and their replies.)
func ExampleRaft() {
	peers := []uint64{1, 2, 3}
	servers := map[uint64]*raft.Raft{}
	storage := map[uint64]*raft.MemoryStorage{}
	for _, id := range peers {
		storage[id] = raft.NewMemoryStorage()
		r, err := raft.NewRaft(raft.Config{ID: id, Peers: peers, Storage: storage[id]})
		if err != nil {
			panic(err)
		}
		servers[id] = r
	}
	var inFlight []raft.Message
	ready := func(id uint64) {
		r := servers[id]
		for r.HasReady() {
			rd := r.Ready()
			if err := storage[id].Save(rd.HardState, rd.Entries); err != nil { // 1. save
				panic(err)
			}
			inFlight = append(inFlight, rd.Messages...) // 2. send
			for _, e := range rd.CommittedEntries {     // 3. apply
				if e.Type == raft.EntryCommand {
					fmt.Printf("server %d applies %q\n", id, e.Data)
				}
			}
			r.Advance(rd) // 4. advance
		}
	}
	deliver := func() {
		for len(inFlight) > 0 {
			m := inFlight[0]
			inFlight = inFlight[1:]
			if m.Type == raft.RequestVote || m.Type == raft.RequestVoteReply || len(m.Entries) > 0 {
				fmt.Println(m)
			}
			_ = servers[m.To].Step(m)
			ready(m.To)
		}
	}

	servers[1].Campaign()
	ready(1)
	deliver()
	fmt.Println("leader:", servers[2].Leader())
	if _, _, err := servers[1].Propose([]byte("x=1")); err != nil {
		panic(err)
	}
	ready(1)
	deliver()
	// Output:
	// 1->2 RequestVote term=1 last=0/0
	// 1->3 RequestVote term=1 last=0/0
	// 2->1 RequestVoteReply term=1 granted=true
	// 3->1 RequestVoteReply term=1 granted=true
	// 1->2 AppendEntries term=1 prev=0/0 entries=1 commit=0 round=0
	// 1->3 AppendEntries term=1 prev=0/0 entries=1 commit=0 round=0
	// leader: 1
	// 1->2 AppendEntries term=1 prev=1/1 entries=1 commit=1 round=0
	// 1->3 AppendEntries term=1 prev=1/1 entries=1 commit=1 round=0
	// server 1 applies "x=1"
	// server 2 applies "x=1"
	// server 3 applies "x=1"
}

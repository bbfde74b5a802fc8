package peer_test

import (
	"context"
	"fmt"

	"github.com/distsys-kit/distsys/lock/peer"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Three peers on a simulated network take turns in the critical section,
// with no server: each entry costs 2(N-1) = 4 messages.
func Example() {
	ctx := context.Background()
	net := netsim.NewNetwork(1)
	defer net.Close()

	names := []string{"alice", "bob", "carol"}
	var peers []*peer.Peer
	for _, name := range names {
		others := map[string]string{}
		for _, o := range names {
			if o != name {
				others[o] = o // on netsim, a node's name is its address
			}
		}
		l, _ := net.Listen(name)
		p, err := peer.New(peer.Config{ID: name, Peers: others, Dialer: net.Dialer(name)}, l)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer p.Close()
		peers = append(peers, p)
	}

	count := func() (messages uint64) {
		for _, p := range peers {
			messages += p.Stats().Messages()
		}
		return messages
	}
	for _, p := range peers {
		p.Lock(ctx)
		fmt.Printf("%s is in the critical section; messages so far: %d\n", p.ID(), count())
		p.Unlock(ctx)
	}
	// Output:
	// alice is in the critical section; messages so far: 4
	// bob is in the critical section; messages so far: 8
	// carol is in the critical section; messages so far: 12
}

// A token ring of three members: each waits for the token to come round.
func ExampleNewRing() {
	ctx := context.Background()
	net := netsim.NewNetwork(1)
	defer net.Close()

	names := []string{"r0", "r1", "r2"}
	var ring []*peer.Ring
	for i, name := range names {
		l, _ := net.Listen(name)
		r, err := peer.NewRing(peer.RingConfig{
			ID: name, Next: names[(i+1)%len(names)], First: i == 0, Dialer: net.Dialer(name),
		}, l)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer r.Close()
		ring = append(ring, r)
	}
	for i, r := range ring {
		r.Lock(ctx)
		fmt.Println(names[i], "has the token")
		r.Unlock(ctx)
	}
	// Output:
	// r0 has the token
	// r1 has the token
	// r2 has the token
}

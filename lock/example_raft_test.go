package lock_test

import (
	"context"
	"fmt"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// The replicated lock service: three RaftServers on a simulated network,
// and a client that reaches them through a ClusterCaller. The client's
// API is the same as with a single Server; the leader's crash costs an
// election, and the tokens keep growing.
func ExampleRaftServer() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()
	raftAddrs := map[uint64]string{1: "raft1", 2: "raft2", 3: "raft3"}
	lockAddrs := map[uint64]string{1: "lock1", 2: "lock2", 3: "lock3"}
	servers := map[uint64]*lock.RaftServer{}
	for id := uint64(1); id <= 3; id++ {
		rl, _ := n.Listen(raftAddrs[id])
		ll, _ := n.Listen(lockAddrs[id])
		s, err := lock.NewRaftServer(lock.RaftConfig{
			Raft: raft.NodeConfig{
				Config:   raft.Config{ID: id, Storage: raft.NewMemoryStorage(), Seed: 1, PreVote: true, CheckQuorum: true},
				Addrs:    raftAddrs,
				Listener: rl,
				Dialer:   n.Dialer(raftAddrs[id]),
			},
			Listener:    ll,
			ClientAddrs: lockAddrs,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		servers[id] = s
		defer s.Close()
	}

	caller := lock.NewClusterCaller(n.Dialer("client"), []string{"lock1", "lock2", "lock3"})
	defer caller.Close()
	c := lock.NewClient(caller)
	defer c.Close()
	m := c.Mutex("report.pdf")

	l, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("locked with token", l.Token())
	for id, s := range servers {
		if s.RSM().Node().Status().State == raft.Leader {
			n.Crash(raftAddrs[id]) // the leader dies
			n.Crash(lockAddrs[id])
		}
	}
	fmt.Println("unlock after the leader's crash:", m.Unlock(ctx))
	l, err = m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("locked again with token", l.Token())
	fmt.Println("unlock:", m.Unlock(ctx))
	// Output:
	// locked with token 1
	// unlock after the leader's crash: <nil>
	// locked again with token 2
	// unlock: <nil>
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// result is what a run did, for the narration and the tests.
type result struct {
	leaders []uint64 // the leader at the start of each phase
	appends int      // appends acknowledged
	exact   bool     // every key holds its client's appends once each
}

// cluster is three replicas on a simulated network: "s1" serves clerks,
// "r1" speaks raft, for each.
type cluster struct {
	net     *netsim.Network
	servers map[uint64]*kvraft.Server
	raft    map[uint64]string
	kv      map[uint64]string
	hurt    map[uint64]bool                // killed or cut off
	storage map[uint64]*raft.MemoryStorage // kept across a replica's crash, as a disk

	// The replicas' raft timing: zero (raft's defaults) in the batch
	// demo, slower in the live one, so that a class can follow it.
	tick                        time.Duration
	electionTick, heartbeatTick int
}

func show(ctx context.Context, c config, tr *demo.Tracer, out io.Writer) (result, error) {
	var res result
	net := netsim.NewNetwork(c.seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}); err != nil {
		return res, err
	}
	cl := &cluster{net: net, servers: map[uint64]*kvraft.Server{}, raft: map[uint64]string{}, kv: map[uint64]string{}, hurt: map[uint64]bool{}, storage: map[uint64]*raft.MemoryStorage{}}
	for id := uint64(1); id <= 3; id++ {
		cl.raft[id], cl.kv[id] = fmt.Sprintf("r%d", id), fmt.Sprintf("s%d", id)
		cl.storage[id] = raft.NewMemoryStorage()
	}
	for id := uint64(1); id <= 3; id++ {
		if _, err := cl.start(id, c.seed, tr); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, s := range cl.servers {
			_ = s.Close()
		}
	}()
	clerks := make([]*kvraft.Clerk, c.clients)
	for i := range clerks {
		name := fmt.Sprintf("c%d", i+1)
		clerks[i] = kvraft.NewClerk(net.Dialer(name), []string{"s1", "s2", "s3"},
			kvraft.WithClientID(uint64(c.seed)<<8|uint64(i+1)), kvraft.WithDialOptions(tr.ClientOptions(name, "kv")...))
		defer clerks[i].Close()
	}
	phases := []struct {
		title string
		hurt  func(leader uint64)
	}{
		{"All three replicas up.", func(uint64) {}},
		{"The leader is killed (its process and its connections die).", func(l uint64) {
			net.Crash(cl.raft[l])
			net.Crash(cl.kv[l])
		}},
		{"The killed replica restarts from what it saved; then the leader is cut off from both by a partition (clients still reach all).", func(l uint64) {
			for id := range cl.hurt {
				if id != l {
					_ = cl.servers[id].Close()
					net.Restart(cl.raft[id])
					net.Restart(cl.kv[id])
					_, _ = cl.start(id, c.seed, tr)
					delete(cl.hurt, id)
				}
			}
			net.Partition([]string{cl.raft[l]})
		}},
	}
	for p, ph := range phases {
		leader, err := cl.leader(ctx)
		if err != nil {
			return res, err
		}
		res.leaders = append(res.leaders, leader)
		fmt.Fprintf(out, "Phase %d: %s (leader: replica %d)\n", p+1, ph.title, leader)
		if p > 0 {
			cl.hurt[leader] = true
		}
		ph.hurt(leader)
		n, err := appendAll(ctx, clerks, c.n, p)
		if err != nil {
			return res, err
		}
		res.appends += n
		now, _ := cl.leader(ctx)
		fmt.Fprintf(out, "  %d clients made %d appends, each acknowledged once; replica %d leads now.\n", c.clients, n, now)
	}
	res.exact = true
	for i, ck := range clerks {
		v, _, err := ck.Get(ctx, fmt.Sprintf("k%d", i+1))
		if err != nil {
			return res, err
		}
		for p := range phases {
			for j := range c.n {
				if strings.Count(v, fmt.Sprintf("[%d.%d]", p, j)) != 1 {
					res.exact = false
				}
			}
		}
	}
	return res, nil
}

// appendAll has every clerk append n marks to its key, concurrently.
func appendAll(ctx context.Context, clerks []*kvraft.Clerk, n, phase int) (int, error) {
	var wg sync.WaitGroup
	errs := make([]error, len(clerks))
	for i, ck := range clerks {
		wg.Go(func() {
			for j := range n {
				if _, err := ck.Append(ctx, fmt.Sprintf("k%d", i+1), fmt.Sprintf("[%d.%d]", phase, j)); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return n * len(clerks), nil
}

func (cl *cluster) start(id uint64, seed int64, tr *demo.Tracer) (*kvraft.Server, error) {
	rl, err := cl.net.Listen(cl.raft[id])
	if err != nil {
		return nil, err
	}
	kl, err := cl.net.Listen(cl.kv[id])
	if err != nil {
		return nil, err
	}
	s, err := kvraft.NewServer(kvraft.Config{
		Raft: raft.NodeConfig{
			Config: raft.Config{ID: id, Storage: cl.storage[id], Seed: seed, PreVote: true, CheckQuorum: true,
				ElectionTick: cl.electionTick, HeartbeatTick: cl.heartbeatTick},
			Addrs:        cl.raft,
			Listener:     rl,
			Dialer:       cl.net.Dialer(cl.raft[id]),
			TickInterval: cl.tick,
		},
		Listener:    kl,
		ClientAddrs: cl.kv,
		RPCOptions:  tr.ServerOptions(cl.kv[id]),
	})
	cl.servers[id] = s
	return s, err
}

// leader waits for a replica other than the hurt ones to lead (a
// killed or cut-off leader may believe it leads a while longer).
func (cl *cluster) leader(ctx context.Context) (uint64, error) {
	for {
		for id, s := range cl.servers {
			if !cl.hurt[id] && s.RSM().Node().Status().State == raft.Leader {
				return id, nil
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

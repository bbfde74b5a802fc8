package kvraft_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// tcpCluster starts three replicas on loopback TCP, raft state in
// memory, and returns their clerk addresses.
func tcpCluster(b *testing.B) []string {
	b.Helper()
	raftLs := make([]transport.Listener, 3)
	kvLs := make([]transport.Listener, 3)
	raftAddrs, kvAddrs := map[uint64]string{}, map[uint64]string{}
	for i := range 3 {
		var err error
		if raftLs[i], err = transport.ListenTCP("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		if kvLs[i], err = transport.ListenTCP("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		raftAddrs[uint64(i+1)], kvAddrs[uint64(i+1)] = raftLs[i].Addr().String(), kvLs[i].Addr().String()
	}
	var servers []string
	for i := range 3 {
		id := uint64(i + 1)
		s, err := kvraft.NewServer(kvraft.Config{
			Raft: raft.NodeConfig{
				Config:   raft.Config{ID: id, Storage: raft.NewMemoryStorage(), Seed: 1, PreVote: true, CheckQuorum: true},
				Addrs:    raftAddrs,
				Listener: raftLs[i],
				Dialer:   transport.NewTCPDialer(),
			},
			Listener:    kvLs[i],
			ClientAddrs: kvAddrs,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		servers = append(servers, kvAddrs[id])
	}
	return servers
}

// BenchmarkKVRaft is Put and Get, alternating, from 1 and 64 clerks
// against 3 replicas on loopback TCP (raft state in memory, no fsync).
func BenchmarkKVRaft(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			servers := tcpCluster(b)
			runClients(b, clients, func() (linKV, func()) {
				ck := kvraft.NewClerk(transport.NewTCPDialer(), servers)
				return ck, func() { _ = ck.Close() }
			})
		})
	}
}

// BenchmarkSingleServerKV is the same load on package kv's one server,
// over the same loopback TCP: the price of replication is the difference.
func BenchmarkSingleServerKV(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			l, err := transport.ListenTCP("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := rpc.NewServer()
			if err := kv.Register(srv, kv.NewStore()); err != nil {
				b.Fatal(err)
			}
			go func() { _ = srv.Serve(l) }() // exits when srv is closed
			b.Cleanup(func() { _ = srv.Close() })
			runClients(b, clients, func() (linKV, func()) {
				rc, err := rpc.Dial(context.Background(), l.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				return kv.NewClient(rc), func() { _ = rc.Close() }
			})
		})
	}
}

// linKV is the part of a client the benchmarks use.
type linKV interface {
	Put(ctx context.Context, key, value string) (uint64, error)
	Get(ctx context.Context, key string) (string, uint64, error)
}

// runClients runs b.N operations (Put and Get alternating, each client
// on a key of its own) shared among exactly `clients` goroutines, each
// with a client made by newClient, and reports ops/s.
func runClients(b *testing.B, clients int, newClient func() (linKV, func())) {
	cs := make([]linKV, clients)
	for i := range cs {
		c, closeFn := newClient()
		b.Cleanup(closeFn)
		cs[i] = c
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			key, ctx := fmt.Sprint("k", i), context.Background()
			for j := 0; left.Add(-1) >= 0; j++ {
				var err error
				if j%2 == 0 {
					_, err = c.Put(ctx, key, "value")
				} else {
					_, _, err = c.Get(ctx, key)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

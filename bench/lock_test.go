package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/transport"
)

// Lock acquisitions per second on a 3-server cluster in this process,
// over loopback TCP, every server fsyncing its log: this library's
// replicated lock service (lock.RaftServer on raft/wal, clients through
// lock.ClusterCaller) beside etcd's concurrency.Mutex on an embedded
// 3-member etcd v3.7.3 cluster (its default fsync). One acquisition is a
// Lock and an Unlock. clients=1: one client locking and unlocking in a
// loop (uncontended); clients=8: eight clients, each with its own
// session, taking turns on one lock (contended).

// lockSystem is a lock service under benchmark: newMutex returns a lock
// and unlock function pair for one new client of the lock "x".
type lockSystem interface {
	newMutex(tb testing.TB) (lockFn, unlockFn func(ctx context.Context) error)
}

// distsysLocks is three RaftServers on loopback TCP with raft/wal.
type distsysLocks struct{ addrs []string }

func startDistsysLocks(tb testing.TB) *distsysLocks {
	tb.Helper()
	dir := tb.TempDir()
	raftAddrs, lockAddrs := map[uint64]string{}, map[uint64]string{}
	rls, lls := map[uint64]transport.Listener{}, map[uint64]transport.Listener{}
	d := &distsysLocks{}
	for id := uint64(1); id <= 3; id++ {
		rl, err := transport.ListenTCP("127.0.0.1:0")
		require.NoError(tb, err)
		ll, err := transport.ListenTCP("127.0.0.1:0")
		require.NoError(tb, err)
		rls[id], lls[id] = rl, ll
		raftAddrs[id], lockAddrs[id] = rl.Addr().String(), ll.Addr().String()
		d.addrs = append(d.addrs, lockAddrs[id])
	}
	for id := uint64(1); id <= 3; id++ {
		st, err := wal.Open(filepath.Join(dir, fmt.Sprint(id)))
		require.NoError(tb, err)
		s, err := lock.NewRaftServer(lock.RaftConfig{
			Raft: raft.NodeConfig{
				Config:   raft.Config{ID: id, Storage: st, PreVote: true, CheckQuorum: true},
				Addrs:    raftAddrs,
				Listener: rls[id],
				Dialer:   transport.NewTCPDialer(),
			},
			Listener:    lls[id],
			ClientAddrs: lockAddrs,
		})
		require.NoError(tb, err)
		tb.Cleanup(func() {
			_ = s.Close()
			_ = st.Close()
		})
	}
	return d
}

func (d *distsysLocks) newMutex(tb testing.TB) (lockFn, unlockFn func(ctx context.Context) error) {
	cc := lock.NewClusterCaller(transport.NewTCPDialer(), d.addrs)
	c := lock.NewClient(cc)
	tb.Cleanup(func() {
		_ = c.Close()
		_ = cc.Close()
	})
	m := c.Mutex("x")
	return func(ctx context.Context) error { _, err := m.Lock(ctx); return err }, m.Unlock
}

// etcdLocks is an embedded 3-member etcd cluster.
type etcdLocks struct{ endpoints []string }

func freeURL(tb testing.TB) url.URL {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

func startEtcdLocks(tb testing.TB) *etcdLocks {
	tb.Helper()
	dir := tb.TempDir()
	var peers, clients []url.URL
	cluster := ""
	for i := range 3 {
		peers, clients = append(peers, freeURL(tb)), append(clients, freeURL(tb))
		if i > 0 {
			cluster += ","
		}
		cluster += fmt.Sprintf("m%d=%s", i, peers[i].String())
	}
	es := make([]*embed.Etcd, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peers[i]}, []url.URL{peers[i]}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clients[i]}, []url.URL{clients[i]}
		cfg.ListenMetricsUrls = nil
		cfg.InitialCluster = cluster
		cfg.InitialClusterToken = "bench"
		cfg.LogLevel = "fatal" // its Close logs errors about its own closed listeners
		wg.Go(func() { es[i], errs[i] = embed.StartEtcd(cfg) })
	}
	wg.Wait()
	for i, e := range es {
		require.NoError(tb, errs[i])
		tb.Cleanup(e.Close)
	}
	for _, e := range es {
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(30 * time.Second):
			tb.Fatal("etcd did not become ready")
		}
	}
	l := &etcdLocks{}
	for _, u := range clients {
		l.endpoints = append(l.endpoints, u.String())
	}
	return l
}

func (l *etcdLocks) newMutex(tb testing.TB) (lockFn, unlockFn func(ctx context.Context) error) {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: l.endpoints, DialTimeout: 5 * time.Second})
	require.NoError(tb, err)
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_ = sess.Close()
		_ = cli.Close()
	})
	m := concurrency.NewMutex(sess, "/bench/x")
	return m.Lock, m.Unlock
}

// acquire runs n acquisitions over the clients' mutexes, each client in
// its own goroutine, taking the next acquisition until n are done.
func acquire(ctx context.Context, mutexes [][2]func(context.Context) error, n int64) error {
	var left atomic.Int64
	left.Store(n)
	errs := make([]error, len(mutexes))
	var wg sync.WaitGroup
	for i, m := range mutexes {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := m[0](ctx); err != nil {
					errs[i] = err
					return
				}
				if err := m[1](ctx); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func mutexesOf(tb testing.TB, s lockSystem, clients int) [][2]func(context.Context) error {
	ms := make([][2]func(context.Context) error, clients)
	for i := range ms {
		l, u := s.newMutex(tb)
		ms[i] = [2]func(context.Context) error{l, u}
	}
	return ms
}

func TestLockServicesLockAndUnlock(t *testing.T) {
	for _, sys := range []struct {
		name  string
		start func(testing.TB) lockSystem
	}{
		{"distsys", func(tb testing.TB) lockSystem { return startDistsysLocks(tb) }},
		{"etcd", func(tb testing.TB) lockSystem { return startEtcdLocks(tb) }},
	} {
		t.Run(sys.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			require.NoError(t, acquire(ctx, mutexesOf(t, sys.start(t), 3), 30))
		})
	}
}

func BenchmarkLockAcquire(b *testing.B) {
	for _, sys := range []struct {
		name  string
		start func(testing.TB) lockSystem
	}{
		{"distsys", func(tb testing.TB) lockSystem { return startDistsysLocks(tb) }},
		{"etcd", func(tb testing.TB) lockSystem { return startEtcdLocks(tb) }},
	} {
		b.Run("system="+sys.name, func(b *testing.B) {
			s := sys.start(b)
			for _, clients := range []int{1, 8} {
				b.Run(fmt.Sprint("clients=", clients), func(b *testing.B) {
					ctx := context.Background()
					ms := mutexesOf(b, s, clients)
					require.NoError(b, acquire(ctx, ms, int64(clients))) // sessions opened, leader found
					b.ResetTimer()
					require.NoError(b, acquire(ctx, ms, int64(b.N)))
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acq/s")
				})
			}
		})
	}
}

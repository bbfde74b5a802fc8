package main

import (
	"context"
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "lockraftserver", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	peers := "raft1=127.0.0.1:7001"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id", []string{"-data", "d", "-peers", peers}, "-id is required"},
		{"no data", []string{"-id", "1", "-peers", peers}, "-data is required"},
		{"no client address", []string{"-id", "1", "-data", "d", "-peers", peers}, "where do clients connect? give -listen, or an entry lock1"},
		{"malformed client entry", []string{"-id", "1", "-data", "d", "-peers", peers + ",lockx=127.0.0.1:7080"}, `peer "lockx": after "lock" comes a number from 1 up`},
		{"ttl", []string{"-id", "1", "-data", "d", "-peers", peers, "-ttl", "0s"}, "-ttl must be positive"},
		{"snapshot", []string{"-id", "1", "-data", "d", "-peers", peers, "-snapshot-bytes", "-1"}, "-snapshot-bytes must not be negative"},
		{"arguments", []string{"-id", "1", "-data", "d", "-peers", peers, "x"}, `takes no arguments, only flags (got "x")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

func TestReplicasFromTheClusterFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	conf := "lock=10.0.0.9:7070\nraft1=10.0.0.1:7001\nraft2=10.0.0.2:7001\nlock1=10.0.0.1:7070\nlock2=10.0.0.2:7170\n"
	require.NoError(t, os.WriteFile(file, []byte(conf), 0o644))
	cfg, err := parse([]string{"-id", "2", "-data", "d", "-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7170", cfg.Listen, "lock2's port")
	assert.Equal(t, ":7001", cfg.Raft.Listen, "raft2's port")
	assert.Equal(t, map[uint64]string{1: "10.0.0.1:7070", 2: "10.0.0.2:7170"}, cfg.Clients, "a single server's entry lock is not a replica")
}

// -lock-delay 0 reaches the replica as "none", not as lock.RaftConfig's
// zero, which means the default.
func TestLockDelayZeroMeansNone(t *testing.T) {
	cfg, err := parse([]string{"-id", "1", "-data", "d", "-peers", "raft1=127.0.0.1:7001", "-listen", ":7070", "-lock-delay", "0"}, io.Discard)
	require.NoError(t, err)
	assert.Negative(t, cfg.lockDelay)
}

// replica is a replica running in the test.
type replica = clitest.Replica

// startCluster starts n replicas on 127.0.0.1 and returns them and their
// client addresses.
func startCluster(t *testing.T, n int, extra ...string) ([]*replica, []string) {
	t.Helper()
	return clitest.StartReplicas(t, run, "lock", n, extra...)
}

// newClient returns a lock client of the replicas at servers.
func newClient(t *testing.T, name string, servers []string, tlsCfg *tls.Config) *lock.Client {
	t.Helper()
	var opts []transport.Option
	if tlsCfg != nil {
		opts = append(opts, transport.WithTLS(tlsCfg))
	}
	caller := lock.NewClusterCaller(transport.NewTCPDialer(opts...), servers)
	c := lock.NewClient(caller, lock.WithName(name), lock.WithCallTimeout(500*time.Millisecond))
	t.Cleanup(func() {
		c.Close()
		caller.Close()
	})
	return c
}

func getStatus(t *testing.T, r *replica) status {
	t.Helper()
	s, err := fetchStatus(r)
	require.NoError(t, err)
	return s
}

// status fetches r's status; it may be called from any goroutine.
func fetchStatus(r *replica) (status, error) {
	var s status
	err := r.Status(&s)
	return s, err
}

// TestAClientKeepsItsLockWhenTheLeaderStops takes a lock through the
// cluster while another client waits for it, stops the leader (it hands
// over), and checks that the holder's lease survived the new leader's
// taking office, that the waiter is granted once the holder lets go, and
// that every token is above the ones before.
func TestAClientKeepsItsLockWhenTheLeaderStops(t *testing.T) {
	rs, servers := startCluster(t, 3)
	alice, bob := newClient(t, "alice", servers, nil), newClient(t, "bob", servers, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ma, mb := alice.Mutex("x"), bob.Mutex("x")
	first, err := ma.Lock(ctx)
	require.NoError(t, err)
	_, err = mb.TryLock(ctx)
	require.ErrorIs(t, err, lock.ErrLocked)
	waited := make(chan *lock.Lease, 1)
	go func() { // exits when bob is granted the lock or ctx ends
		l, err := mb.Lock(ctx)
		if err != nil {
			t.Errorf("bob's Lock: %v", err)
		}
		waited <- l
	}()

	l := rs[0].Leader(t, -1)
	// Another process's table can only be watched: poll the status.
	require.Eventually(t, func() bool {
		s, err := fetchStatus(rs[l])
		return err == nil && s.Role == "leader" && s.Held == 1 && s.Waiting == 1
	}, 10*time.Second, 20*time.Millisecond, "bob queues behind alice")
	s := getStatus(t, rs[l])
	assert.Equal(t, "lockraftserver", s.Program)
	require.Len(t, s.Locks, 1)
	assert.Equal(t, lockStatus{Name: "x", Holder: "alice", Token: first.Token(), Since: s.Locks[0].Since, Waiters: []string{"bob"}}, s.Locks[0])

	require.NoError(t, rs[l].Stop())
	rs[l].Stdout().WaitLine(t, "handed leadership to replica")
	select {
	case <-first.Done():
		t.Fatalf("alice lost her lease with the leader: %v", first.Err())
	default:
	}
	require.NoError(t, ma.Unlock(ctx), "through the new leader")
	second := <-waited
	require.NotNil(t, second)
	assert.Greater(t, second.Token(), first.Token(), "tokens grow across the failover")
	require.NoError(t, mb.Unlock(ctx))
	third, err := ma.Lock(ctx)
	require.NoError(t, err)
	assert.Greater(t, third.Token(), second.Token())
}

// TestRestartedClusterKeepsTheTokens stops every replica and starts them
// again on their logs and snapshots: a lock taken afterwards gets a token
// above every one issued before.
func TestRestartedClusterKeepsTheTokens(t *testing.T) {
	rs, servers := startCluster(t, 3, "-snapshot-bytes", "200")
	c := newClient(t, "c", servers, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := c.Mutex("x")
	var last uint64
	for range 10 {
		l, err := m.Lock(ctx)
		require.NoError(t, err)
		require.Greater(t, l.Token(), last)
		last = l.Token()
		require.NoError(t, m.Unlock(ctx))
	}
	for _, r := range rs {
		require.NoError(t, r.Stop())
	}
	for _, r := range rs {
		r.Start(t)
	}
	l, err := c.Mutex("y").Lock(ctx)
	require.NoError(t, err)
	assert.Greater(t, l.Token(), last, "no token is issued twice across a restart")
	var restores uint64
	for _, r := range rs {
		restores += getStatus(t, r).Replica.Restores
	}
	assert.NotZero(t, restores, "the replicas restarted from their snapshots")
}

func TestMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	_, servers := startCluster(t, 3, "-tls-cert", files.ServerCert, "-tls-key", files.ServerKey, "-tls-ca", files.CA)
	flags := cli.TLSFlags{Cert: files.ClientCert, Key: files.ClientKey, CA: files.CA}
	cfg, err := flags.ClientConfig()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = newClient(t, "tls", servers, cfg).Mutex("x").Lock(ctx)
	require.NoError(t, err)

	plain := newClient(t, "plain", servers, nil) // plain TCP to TLS servers: never answered
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_, err = plain.Mutex("y").Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

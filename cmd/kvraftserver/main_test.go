package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "kvraftserver", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	peers := "raft1=127.0.0.1:7001"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id", []string{"-data", "d", "-peers", peers}, "-id is required"},
		{"no client address", []string{"-id", "1", "-data", "d", "-peers", peers}, "where do clients connect? give -listen, or an entry kv1"},
		{"malformed client entry", []string{"-id", "1", "-data", "d", "-peers", peers + ",kvx=127.0.0.1:7080"}, `peer "kvx": after "kv" comes a number from 1 up`},
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
	conf := "raft1=10.0.0.1:7001\nraft2=10.0.0.2:7001\nkv1=10.0.0.1:7080\nkv2=10.0.0.2:7180\n"
	require.NoError(t, os.WriteFile(file, []byte(conf), 0o644))
	cfg, err := parse([]string{"-id", "2", "-data", "d", "-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7180", cfg.Listen, "kv2's port")
	assert.Equal(t, ":7001", cfg.Raft.Listen, "raft2's port")
	assert.Equal(t, map[uint64]string{1: "10.0.0.1:7080", 2: "10.0.0.2:7180"}, cfg.Clients)
}

// replica is a replica running in the test.
type replica = clitest.Replica

// startCluster starts n replicas on 127.0.0.1 and returns them and their
// client addresses.
func startCluster(t *testing.T, n int, extra ...string) ([]*replica, []string) {
	t.Helper()
	return clitest.StartReplicas(t, run, "kv", n, extra...)
}

func newClerk(t *testing.T, servers []string, tlsCfg *tls.Config) *kvraft.Clerk {
	t.Helper()
	var opts []transport.Option
	if tlsCfg != nil {
		opts = append(opts, transport.WithTLS(tlsCfg))
	}
	c := kvraft.NewClerk(transport.NewTCPDialer(opts...), servers)
	t.Cleanup(func() { c.Close() })
	return c
}

func getStatus(t *testing.T, r *replica) cli.ReplicaStatus {
	t.Helper()
	var s cli.ReplicaStatus
	require.NoError(t, r.Status(&s))
	return s
}

func TestAClerkKeepsWorkingWhenTheLeaderStops(t *testing.T) {
	rs, servers := startCluster(t, 3)
	c := newClerk(t, servers, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Put(ctx, "greeting", "hello")
	require.NoError(t, err)
	_, err = c.PutIf(ctx, "greeting", "hi", 0)
	require.ErrorIs(t, err, kv.ErrConflict)

	l := rs[0].Leader(t, -1)
	s := getStatus(t, rs[l])
	assert.Equal(t, "kvraftserver", s.Program)
	assert.Equal(t, "leader", s.Role)
	assert.Equal(t, uint64(2), s.Replica.Applied, "the put, and the putif refused")

	require.NoError(t, rs[l].Stop())
	rs[l].Stdout().WaitLine(t, "handed leadership to replica")
	for _, more := range []string{",", " world"} {
		_, err = c.Append(ctx, "greeting", more)
		require.NoError(t, err)
	}
	v, ver, err := c.Get(ctx, "greeting")
	require.NoError(t, err)
	assert.Equal(t, "hello, world", v)
	assert.Equal(t, uint64(3), ver)
}

func TestRestartedClusterKeepsTheStore(t *testing.T) {
	rs, servers := startCluster(t, 3, "-snapshot-bytes", "200")
	c := newClerk(t, servers, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 20 {
		_, err := c.Append(ctx, "log", fmt.Sprintf("%d;", i))
		require.NoError(t, err)
	}
	for _, r := range rs {
		require.NoError(t, r.Stop())
	}
	for _, r := range rs {
		r.Start(t)
	}
	v, ver, err := c.Get(ctx, "log")
	require.NoError(t, err)
	assert.Equal(t, uint64(20), ver)
	assert.True(t, strings.HasPrefix(v, "0;1;2;") && strings.HasSuffix(v, "18;19;"), v)
	var snaps uint64
	for _, r := range rs {
		snaps += getStatus(t, r).Replica.Restores
	}
	assert.NotZero(t, snaps, "the replicas restarted from their snapshots")
}

func TestMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	_, servers := startCluster(t, 3, "-tls-cert", files.ServerCert, "-tls-key", files.ServerKey, "-tls-ca", files.CA)
	flags := cli.TLSFlags{Cert: files.ClientCert, Key: files.ClientKey, CA: files.CA}
	cfg, err := flags.ClientConfig()
	require.NoError(t, err)
	c := newClerk(t, servers, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.Put(ctx, "k", "v")
	require.NoError(t, err)

	plain := newClerk(t, servers, nil) // plain TCP to TLS servers: never answered
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_, _, err = plain.Get(short, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

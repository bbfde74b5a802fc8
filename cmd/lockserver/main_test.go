package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
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
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "lockserver", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no dir", nil, "-dir is required"},
		{"arguments", []string{"-dir", "d", "x"}, `takes no arguments, only flags (got "x")`},
		{"ttl", []string{"-dir", "d", "-ttl", "0s"}, "-ttl must be positive"},
		{"grace", []string{"-dir", "d", "-shutdown-timeout", "-1s"}, "-shutdown-timeout must not be negative"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

func TestListensOnItsClusterEntry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("lock = 10.0.0.1:7171\nkv=10.0.0.2:7080\n"), 0o644))
	cfg, err := parse([]string{"-dir", "d", "-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7171", cfg.listen)

	_, err = parse([]string{"-dir", "d", "-config", file, "-id", "raft1"}, io.Discard)
	require.ErrorContains(t, err, `-id: no peer "raft1"`)
}

// -lock-delay 0 reaches the server as "none", not as lock.Config's zero,
// which means the default.
func TestLockDelayZeroMeansNone(t *testing.T) {
	cfg, err := parse([]string{"-dir", "d", "-lock-delay", "0"}, io.Discard)
	require.NoError(t, err)
	assert.Negative(t, cfg.lockDelay)
}

// start runs a lock server on 127.0.0.1 with a status endpoint and returns
// it and its address.
func start(t *testing.T, dir string, extra ...string) (*clitest.Proc, string) {
	t.Helper()
	args := append([]string{"-dir", dir, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0",
		"-ttl", "1s", "-lock-delay", "-1ns"}, extra...)
	p := clitest.Start(t, run, args...)
	return p, p.Addr(t, "listening on")
}

// newClient returns a lock client of the server at addr, over TLS if
// tlsCfg is not nil, closed at the end of the test.
func newClient(t *testing.T, addr, name string, tlsCfg ...*tls.Config) *lock.Client {
	t.Helper()
	var rc *rpc.Client
	var err error
	if len(tlsCfg) > 0 {
		rc, err = rpc.Dial(context.Background(), addr, rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tlsCfg[0]))))
	} else {
		rc, err = rpc.Dial(context.Background(), addr)
	}
	require.NoError(t, err)
	c := lock.NewClient(rc, lock.WithName(name))
	t.Cleanup(func() {
		c.Close()
		rc.Close()
	})
	return c
}

func TestServesLocksAndStatus(t *testing.T) {
	p, addr := start(t, t.TempDir())
	ctx := context.Background()
	alice := newClient(t, addr, "alice")
	lease, err := alice.Mutex("report").Lock(ctx)
	require.NoError(t, err)
	assert.Positive(t, lease.Token())

	bob := newClient(t, addr, "bob")
	_, err = bob.Mutex("report").TryLock(ctx)
	require.ErrorIs(t, err, lock.ErrLocked)

	st := getStatus(t, p.Addr(t, "status on"))
	assert.Equal(t, "lockserver", st.Program)
	assert.Equal(t, addr, st.Addr)
	assert.Equal(t, int64(2), st.Conns)
	assert.Positive(t, st.Calls["Lock.Acquire"])
	require.Len(t, st.Locks, 1)
	assert.Equal(t, lockStatus{Name: "report", Holder: "alice", Token: lease.Token(), Since: st.Locks[0].Since}, st.Locks[0])

	require.NoError(t, p.Stop(), "a signal is the normal way to stop")
	assert.Contains(t, p.Stdout().String(), "lockserver: shutting down")
}

func getStatus(t *testing.T, addr string) status {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func TestTokensGrowAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p, addr := start(t, dir)
	lease, err := newClient(t, addr, "a").Mutex("x").Lock(ctx)
	require.NoError(t, err)
	first := lease.Token()
	require.NoError(t, p.Stop())

	_, addr = start(t, dir)
	// The restarted server waits out the old run's leases (-ttl 1s) first.
	lease, err = newClient(t, addr, "b").Mutex("x").Lock(ctx)
	require.NoError(t, err)
	assert.Greater(t, lease.Token(), first)
}

func TestMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	_, addr := start(t, t.TempDir(), "-tls-cert", files.ServerCert, "-tls-key", files.ServerKey, "-tls-ca", files.CA)
	ctx := context.Background()

	withCert := cli.TLSFlags{Cert: files.ClientCert, Key: files.ClientKey, CA: files.CA}
	cfg, err := withCert.ClientConfig()
	require.NoError(t, err)
	_, err = newClient(t, addr, "a", cfg).Mutex("x").Lock(ctx)
	require.NoError(t, err)

	noCert := cli.TLSFlags{CA: files.CA}
	cfg, err = noCert.ClientConfig()
	require.NoError(t, err)
	conn, err := transport.DialTCP(ctx, addr, transport.WithTLS(cfg))
	require.NoError(t, err) // TLS 1.3: the server refuses after the handshake
	defer conn.Close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = conn.Recv(rctx)
	require.ErrorContains(t, err, "certificate required", "a client without a certificate is refused")
}

func TestDrainWaitsForCallsInFlight(t *testing.T) {
	var c callCounter
	ctx := context.Background()
	require.NoError(t, c.drain(ctx), "nothing in flight")

	release := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.intercept(ctx, &rpc.ServerCall{Method: "Lock.Acquire"}, func(context.Context, *rpc.ServerCall) error {
			close(running)
			<-release
			return nil
		})
	}()
	<-running
	expired, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, c.drain(expired), context.Canceled, "the call is still running")
	calls, _, inFlight := c.snapshot()
	assert.Equal(t, map[string]int64{"Lock.Acquire": 1}, calls)
	assert.Equal(t, int64(1), inFlight)

	close(release)
	require.NoError(t, c.drain(ctx))
	require.NoError(t, <-done)
}

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
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "kvserver", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	clitest.CheckUsageError(t, run, []string{"x"}, `takes no arguments, only flags (got "x")`)
	clitest.CheckUsageError(t, run, []string{"-shutdown-timeout", "-1s"}, "-shutdown-timeout must not be negative")
	clitest.CheckUsageError(t, run, []string{"-max-keys", "0"}, "a -max limit of 0 would refuse every write")
}

func TestListensOnItsClusterEntry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("kv=10.0.0.2:7181\n"), 0o644))
	cfg, err := parse([]string{"-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7181", cfg.listen)
}

// dial returns a client of the server at addr, over TLS if tlsCfg is not
// nil, with no rpc options: kv's errors need none to cross the wire.
func dial(t *testing.T, addr string, tlsCfg *tls.Config) *kv.Client {
	t.Helper()
	var opts []rpc.DialOption
	if tlsCfg != nil {
		opts = append(opts, rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tlsCfg))))
	}
	rc, err := rpc.Dial(context.Background(), addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { rc.Close() })
	return kv.NewClient(rc)
}

func TestServesTheStoreAndStatus(t *testing.T) {
	p := clitest.Start(t, run, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0")
	addr := p.Addr(t, "listening on")
	c := dial(t, addr, nil)
	ctx := context.Background()
	_, err := c.Put(ctx, "greeting", "hello")
	require.NoError(t, err)
	for _, more := range []string{",", " world"} {
		_, err = c.Append(ctx, "greeting", more)
		require.NoError(t, err)
	}
	for range 2 {
		_, err = c.PutIf(ctx, "greeting", "hi", 1)
		require.ErrorIs(t, err, kv.ErrConflict, "the conflict crosses the wire as itself")
	}
	_, err = c.PutIf(ctx, "new", "1", 0)
	require.NoError(t, err)
	for range 3 {
		v, ver, err := c.Get(ctx, "greeting")
		require.NoError(t, err)
		assert.Equal(t, "hello, world", v)
		assert.Equal(t, uint64(3), ver)
	}

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + p.Addr(t, "status on") + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	assert.Equal(t, "kvserver", st.Program)
	assert.Equal(t, int64(1), st.Conns)
	assert.Equal(t, int64(9), st.RPC.Calls)
	want := storeStatus{Keys: 2, Bytes: int64(len("greeting") + len("hello, world") + len("new1")),
		Gets: 3, Puts: 1, Appends: 2, PutIfs: 3, Conflicts: 2}
	assert.Equal(t, want, st.Store)

	require.NoError(t, p.Stop())
	_, _, err = c.Get(ctx, "greeting")
	require.Error(t, err, "the server is gone")
}

func TestLimitFlagsBoundTheStore(t *testing.T) {
	p := clitest.Start(t, run, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0",
		"-max-keys", "1", "-max-key-len", "3", "-max-value-len", "4", "-max-bytes", "6")
	c := dial(t, p.Addr(t, "listening on"), nil)
	ctx := context.Background()
	_, err := c.Put(ctx, "long", "v")
	require.ErrorIs(t, err, kv.ErrTooLarge, "-max-key-len")
	_, err = c.Put(ctx, "k", "12345")
	require.ErrorIs(t, err, kv.ErrTooLarge, "-max-value-len")
	_, err = c.Put(ctx, "k", "1234")
	require.NoError(t, err)
	_, err = c.Put(ctx, "j", "1")
	require.ErrorIs(t, err, kv.ErrFull, "-max-keys")
	_, err = c.Append(ctx, "k", "5")
	require.ErrorIs(t, err, kv.ErrTooLarge, "-max-value-len, after the append")

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + p.Addr(t, "status on") + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	assert.Equal(t, int64(4), st.Store.Refused)
	assert.Equal(t, int64(5), st.Store.Bytes)
}

func TestMaxBytesFlag(t *testing.T) {
	p := clitest.Start(t, run, "-listen", "127.0.0.1:0", "-max-bytes", "6")
	c := dial(t, p.Addr(t, "listening on"), nil)
	ctx := context.Background()
	_, err := c.Put(ctx, "k", "12345")
	require.NoError(t, err)
	_, err = c.Put(ctx, "j", "1")
	require.ErrorIs(t, err, kv.ErrFull, "-max-bytes")
}

func TestMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	p := clitest.Start(t, run, "-listen", "127.0.0.1:0",
		"-tls-cert", files.ServerCert, "-tls-key", files.ServerKey, "-tls-ca", files.CA)
	addr := p.Addr(t, "listening on")
	flags := cli.TLSFlags{Cert: files.ClientCert, Key: files.ClientKey, CA: files.CA}
	cfg, err := flags.ClientConfig()
	require.NoError(t, err)
	c := dial(t, addr, cfg)
	_, err = c.Put(context.Background(), "k", "v")
	require.NoError(t, err)

	plain := dial(t, addr, nil) // plain TCP to a TLS server: the dial succeeds, calls fail
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = plain.Get(ctx, "k")
	require.Error(t, err)
}

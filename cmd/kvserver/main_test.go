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
	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
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
}

func TestListensOnItsClusterEntry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("kv=10.0.0.2:7181\n"), 0o644))
	cfg, err := parse([]string{"-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7181", cfg.listen)
}

// dial returns a client of the server at addr, over TLS if tlsCfg is not
// nil.
func dial(t *testing.T, addr string, tlsCfg *tls.Config) *kvstore.Client {
	t.Helper()
	errs := rpc.WithErrors(kvstore.Errors...)
	var rc *rpc.Client
	var err error
	if tlsCfg != nil {
		rc, err = rpc.Dial(context.Background(), addr, errs, rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tlsCfg))))
	} else {
		rc, err = rpc.Dial(context.Background(), addr, errs)
	}
	require.NoError(t, err)
	t.Cleanup(func() { rc.Close() })
	return kvstore.NewClient(rc)
}

func TestServesTheStoreAndStatus(t *testing.T) {
	p := clitest.Start(t, run, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0")
	addr := p.Addr(t, "listening on")
	c := dial(t, addr, nil)
	ctx := context.Background()
	_, err := c.Add(ctx, "hits", 2)
	require.NoError(t, err)
	_, err = c.Put(ctx, "hits", 0, 0)
	require.ErrorIs(t, err, kvstore.ErrConflict, "the conflict crosses the wire as itself")
	e, refused, err := c.Increment(ctx, "hits")
	require.NoError(t, err)
	assert.Equal(t, 0, refused)
	assert.Equal(t, kvstore.Entry{Value: 3, Version: 2}, e)

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + p.Addr(t, "status on") + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	assert.Equal(t, "kvserver", st.Program)
	assert.Equal(t, int64(1), st.Conns)
	assert.Equal(t, int64(4), st.RPC.Calls)
	assert.Equal(t, int64(1), st.RPC.Errors)
	assert.Equal(t, kvstore.Stats{Keys: 1, Adds: 1, Refused: 1}, st.Store)

	require.NoError(t, p.Stop())
	_, err = c.Get(ctx, "hits")
	require.Error(t, err, "the server is gone")
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
	_, err = c.Add(context.Background(), "k", 1)
	require.NoError(t, err)

	plain := dial(t, addr, nil) // plain TCP to a TLS server: the dial succeeds, calls fail
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = plain.Get(ctx, "k")
	require.Error(t, err)
}

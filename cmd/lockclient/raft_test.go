package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// startReplica serves the replicated lock service on a cluster of one
// replica (it elects itself), on 127.0.0.1, and returns its client
// address. With opts (TLS), clients must use them.
func startReplica(t *testing.T, opts ...transport.Option) string {
	return clitest.ServeOneReplica(t, func(ncfg raft.NodeConfig, l transport.Listener) (io.Closer, error) {
		return lock.NewRaftServer(lock.RaftConfig{Raft: ncfg, Listener: l})
	}, opts...)
}

func TestRaftTakesTheLockFromTheReplicas(t *testing.T) {
	addr := startReplica(t)
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("raft1=127.0.0.1:1\nlock1="+addr+"\n"), 0o644))
	runs := [][]string{
		{"-raft", "-config", file},                     // the file's lockN
		{"-raft", "-config", file, "-server", "lock1"}, // an entry of the file
		{"-raft", "-server", "127.0.0.1:1," + addr},    // a list, whose first is down
	}
	var last uint64
	for _, args := range runs {
		p := clitest.Start(t, run, append(args, "-lock", "x", "-hold", "1ms", "-n", "2", "-call-timeout", "300ms")...)
		require.NoError(t, p.Wait(t), "%v", args)
		names, tokens := parseEvents(t, p.Stdout().String())
		assert.Equal(t, []string{"granted", "released", "granted", "released"}, names, "%v", args)
		for _, tok := range tokens {
			if tok != last { // a grant and its release share a token
				assert.Greater(t, tok, last, "%v: tokens grow", args)
				last = tok
			}
		}
	}
}

func TestRaftUsageErrors(t *testing.T) {
	clitest.CheckUsageError(t, run, []string{"-server", "a:1,b:2", "-lock", "x"}, "a list of servers is for -raft")
	clitest.CheckUsageError(t, run, []string{"-raft", "-lock", "x"}, "-server is required (or, with -raft, -config)")
}

func TestRaftMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	server := cli.TLSFlags{Cert: files.ServerCert, Key: files.ServerKey, CA: files.CA}
	cfg, err := server.ServerConfig()
	require.NoError(t, err)
	addr := startReplica(t, transport.WithTLS(cfg))
	p := clitest.Start(t, run, "-raft", "-server", addr, "-lock", "x", "-hold", "1ms",
		"-tls-cert", files.ClientCert, "-tls-key", files.ClientKey, "-tls-ca", files.CA)
	require.NoError(t, p.Wait(t))
	assert.Contains(t, p.Stdout().String(), "released lock=x")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = run(ctx, []string{"-raft", "-server", addr, "-lock", "x", "-try"}, new(clitest.Output), new(clitest.Output))
	require.ErrorIs(t, err, context.DeadlineExceeded, "plain TCP to a TLS replica is never answered")
}

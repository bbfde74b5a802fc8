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
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// startReplica serves the replicated service on a cluster of one replica
// (it elects itself), on 127.0.0.1, and returns its client address. With
// opts (TLS), clients must use them.
func startReplica(t *testing.T, opts ...transport.Option) string {
	return clitest.ServeOneReplica(t, func(ncfg raft.NodeConfig, l transport.Listener) (io.Closer, error) {
		return kvraft.NewServer(kvraft.Config{Raft: ncfg, Listener: l})
	}, opts...)
}

func TestRaftCommands(t *testing.T) {
	addr := startReplica(t)
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("raft1=127.0.0.1:1\nkv1="+addr+"\n"), 0o644))
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"-raft", "-config", file, "put", "greeting", "hello"}, "greeting version=1\n"},
		{[]string{"-raft", "-config", file, "append", "greeting", ", world"}, "greeting version=2\n"},
		{[]string{"-raft", "-server", "kv1", "-config", file, "get", "greeting"}, "greeting version=2 value=\"hello, world\"\n"},
		{[]string{"-raft", "-server", "127.0.0.1:1," + addr, "-version", "2", "putif", "greeting", "hi"}, "greeting version=3\n"},
	}
	for _, s := range steps {
		out, err := kvc(t, s.args...)
		require.NoError(t, err, "%v", s.args)
		assert.Equal(t, s.want, out, "%v", s.args)
	}
	_, err := kvc(t, "-raft", "-server", addr, "get", "nothing")
	require.ErrorIs(t, err, kv.ErrNoKey)
	_, err = kvc(t, "-raft", "-server", addr, "putif", "greeting", "x")
	require.ErrorIs(t, err, kv.ErrConflict)
}

func TestRaftUsageErrors(t *testing.T) {
	clitest.CheckUsageError(t, run, []string{"-server", "a:1,b:2", "get", "k"}, "a list of servers is for -raft")
	clitest.CheckUsageError(t, run, []string{"-raft", "get", "k"}, "-server is required (or, with -raft, -config)")
}

func TestRaftMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	server := cli.TLSFlags{Cert: files.ServerCert, Key: files.ServerKey, CA: files.CA}
	cfg, err := server.ServerConfig()
	require.NoError(t, err)
	addr := startReplica(t, transport.WithTLS(cfg))
	tlsArgs := []string{"-tls-cert", files.ClientCert, "-tls-key", files.ClientKey, "-tls-ca", files.CA}
	out, err := kvc(t, append(append([]string{"-raft", "-server", addr}, tlsArgs...), "put", "k", "v")...)
	require.NoError(t, err)
	assert.Equal(t, "k version=1\n", out)
	_, err = kvc(t, "-raft", "-server", addr, "-timeout", "1s", "get", "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "plain TCP to a TLS replica is never answered")
}

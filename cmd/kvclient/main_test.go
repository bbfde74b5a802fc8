package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "kvclient", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"get", "k"}, "-server is required"},
		{"no command", []string{"-server", "h:1"}, "which command?"},
		{"unknown command", []string{"-server", "h:1", "del", "k"}, `unknown command "del"`},
		{"arguments", []string{"-server", "h:1", "put", "k", "1"}, "put takes 3 arguments, got 2"},
		{"n", []string{"-server", "h:1", "-n", "0", "incr", "k"}, "-timeout and -n must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

// startServer serves a kv store on 127.0.0.1 and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	srv := rpc.NewServer(rpc.WithErrors(kvstore.Errors...))
	require.NoError(t, kvstore.New().Register(srv))
	l, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() { // exits when srv is closed
		defer close(served)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return l.Addr().String()
}

// kv runs kvclient against addr and returns its stdout.
func kv(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"-server", addr}, args...), &out, &errb)
	return out.String(), err
}

func TestCommands(t *testing.T) {
	addr := startServer(t)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"get", "hits"}, "hits value=0 version=0\n"},
		{[]string{"add", "hits", "5"}, "hits value=5 version=1\n"},
		{[]string{"add", "hits", "-2"}, "hits value=3 version=2\n"},
		{[]string{"put", "hits", "10", "2"}, "hits value=10 version=3\n"},
		{[]string{"-n", "3", "incr", "hits"}, "hits value=13 version=6\n"},
	}
	for _, s := range steps {
		out, err := kv(t, addr, s.args...)
		require.NoError(t, err, "%v", s.args)
		assert.Equal(t, s.want, out, "%v", s.args)
	}
}

func TestStalePutFails(t *testing.T) {
	addr := startServer(t)
	_, err := kv(t, addr, "add", "k", "1")
	require.NoError(t, err)
	out, err := kv(t, addr, "put", "k", "7", "0")
	require.ErrorIs(t, err, kvstore.ErrConflict)
	assert.Empty(t, out)
	_, err = kv(t, addr, "add", "k", "one")
	require.ErrorContains(t, err, `add: "one" is not a number`)
}

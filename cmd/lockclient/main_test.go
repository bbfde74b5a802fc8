package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "lockclient", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"-lock", "x"}, "-server is required"},
		{"no lock", []string{"-server", "h:1"}, "-lock is required"},
		{"negative", []string{"-server", "h:1", "-lock", "x", "-hold", "-1s"}, "must not be negative"},
		{"hold for ever, many times", []string{"-server", "h:1", "-lock", "x", "-n", "2"}, "-hold 0 holds until interrupted, so -n must be 1"},
		{"arguments", []string{"-server", "h:1", "-lock", "x", "y"}, `got "y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

// startServer runs a lock server on 127.0.0.1 and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	srv, err := lock.NewServer(lock.Config{Dir: t.TempDir()})
	require.NoError(t, err)
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

var tokenRE = regexp.MustCompile(`(?m)^(\w+) lock=x client=\S+ at=\S+ token=(\d+)`)

// parseEvents returns the event names and tokens in out, in order.
func parseEvents(t *testing.T, out string) (names []string, tokens []uint64) {
	t.Helper()
	for _, m := range tokenRE.FindAllStringSubmatch(out, -1) {
		tok, err := strconv.ParseUint(m[2], 10, 64)
		require.NoError(t, err)
		names = append(names, m[1])
		tokens = append(tokens, tok)
	}
	return names, tokens
}

func TestTakesAndReleasesTheLockNTimes(t *testing.T) {
	addr := startServer(t)
	p := clitest.Start(t, run, "-server", addr, "-lock", "x", "-hold", "20ms", "-n", "2", "-work", "5ms")
	require.NoError(t, p.Wait(t))
	names, tokens := parseEvents(t, p.Stdout().String())
	require.Equal(t, []string{"granted", "work"}, names[:2], "stdout:\n%s", p.Stdout())
	var grants []uint64
	for i, n := range names {
		if n == "granted" {
			grants = append(grants, tokens[i])
		}
	}
	require.Len(t, grants, 2)
	assert.Greater(t, grants[1], grants[0], "tokens grow")
	assert.Equal(t, "released", names[len(names)-1])
}

func TestWaitsForTheHolderAndTryRefuses(t *testing.T) {
	addr := startServer(t)
	holder := clitest.Start(t, run, "-server", addr, "-lock", "x", "-name", "holder")
	holder.WaitLine(t, "granted lock=x")

	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-server", addr, "-lock", "x", "-try"}, &out, &errb)
	require.ErrorIs(t, err, lock.ErrLocked)

	waiter := clitest.Start(t, run, "-server", addr, "-lock", "x", "-hold", "1ms")
	require.NoError(t, holder.Stop(), "interrupted while holding: released")
	assert.Contains(t, holder.Stdout().String(), "released lock=x")
	require.NoError(t, waiter.Wait(t))
	assert.Contains(t, waiter.Stdout().String(), "granted lock=x")
}

func TestInterruptedWhileWaiting(t *testing.T) {
	addr := startServer(t)
	holder := clitest.Start(t, run, "-server", addr, "-lock", "x")
	holder.WaitLine(t, "granted")
	waiter := clitest.Start(t, run, "-server", addr, "-lock", "x")
	require.ErrorIs(t, waiter.Stop(), context.Canceled, "Main reports it as interrupted")
	assert.NotContains(t, waiter.Stdout().String(), "granted")
}

func TestNamesItsServerByClusterID(t *testing.T) {
	addr := startServer(t)
	file := t.TempDir() + "/cluster.conf"
	require.NoError(t, os.WriteFile(file, []byte("lock="+addr+"\n"), 0o644))
	p := clitest.Start(t, run, "-config", file, "-server", "lock", "-lock", "x", "-hold", "1ms")
	require.NoError(t, p.Wait(t))
	assert.Contains(t, p.Stdout().String(), "released lock=x")
}

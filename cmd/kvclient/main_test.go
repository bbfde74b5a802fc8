package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/kv"
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
		{"too few arguments", []string{"-server", "h:1", "put", "k"}, "put takes 2 arguments, got 1"},
		{"too many arguments", []string{"-server", "h:1", "get", "k", "v"}, "get takes 1 arguments, got 2"},
		{"version without putif", []string{"-server", "h:1", "-version", "1", "put", "k", "v"}, "-version is for putif only"},
		{"timeout", []string{"-server", "h:1", "-timeout", "0s", "get", "k"}, "-timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

// startServer serves a kv store on addr ("127.0.0.1:0" for any port)
// within the limits given, and returns the store and its address.
func startServer(t *testing.T, opts ...kv.Option) (*kv.Store, string) {
	t.Helper()
	store := kv.NewStore()
	srv := rpc.NewServer()
	require.NoError(t, kv.Register(srv, store, opts...))
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
	return store, l.Addr().String()
}

// kvc runs kvclient with args and returns its stdout.
func kvc(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), err
}

func TestCommands(t *testing.T) {
	_, addr := startServer(t)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"put", "greeting", "hello"}, "greeting version=1\n"},
		{[]string{"append", "greeting", ", world"}, "greeting version=2\n"},
		{[]string{"get", "greeting"}, "greeting version=2 value=\"hello, world\"\n"},
		{[]string{"-version", "2", "putif", "greeting", "hi"}, "greeting version=3\n"},
		{[]string{"putif", "color", "red"}, "color version=1\n"}, // -version 0: create
		{[]string{"put", "n", "-1"}, "n version=1\n"},            // flags come first: -1 is the value
		{[]string{"get", "n"}, "n version=1 value=\"-1\"\n"},
	}
	for _, s := range steps {
		out, err := kvc(t, append([]string{"-server", addr}, s.args...)...)
		require.NoError(t, err, "%v", s.args)
		assert.Equal(t, s.want, out, "%v", s.args)
	}
}

func TestRefusalsAreErrors(t *testing.T) {
	_, addr := startServer(t, kv.WithLimits(kv.Limits{MaxValueLen: 4}))
	_, err := kvc(t, "-server", addr, "put", "k", "1")
	require.NoError(t, err)
	tests := []struct {
		name string
		args []string
		want error
		msg  string
	}{
		{"missing key", []string{"get", "nothing"}, kv.ErrNoKey, `get "nothing": kv: no such key`},
		{"stale putif", []string{"-version", "7", "putif", "k", "2"}, kv.ErrConflict, `kv: put "k" at version 7, but it is at 1`},
		{"putif creating a key that exists", []string{"putif", "k", "2"}, kv.ErrConflict, "at version 0, but it is at 1"},
		{"value over the limit", []string{"append", "k", "2345"}, kv.ErrTooLarge, "a value of 5 bytes is over the server's limit (MaxValueLen 4)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := kvc(t, append([]string{"-server", addr}, tt.args...)...)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorContains(t, err, tt.msg)
			assert.Empty(t, out)
		})
	}
	out, err := kvc(t, "-server", addr, "get", "k")
	require.NoError(t, err)
	assert.Equal(t, "k version=1 value=\"1\"\n", out, "the refusals changed nothing")
}

// TestAppendWhoseReplyIsLostRunsOnce cuts the connection after the server
// has run an append and before its reply reaches kvclient. kvclient
// redials and resends (rpc.WithRetry); the server answers the copy from
// its reply cache. Without retries the command fails; without the cache
// it would append twice.
func TestAppendWhoseReplyIsLostRunsOnce(t *testing.T) {
	store, addr := startServer(t)
	proxy := newCutProxy(t, addr, func() bool { return store.Stats().Appends > 0 })
	out, err := kvc(t, "-server", proxy.addr, "append", "log", "x")
	require.NoError(t, err)
	assert.Equal(t, "log version=1\n", out)
	assert.Equal(t, 1, proxy.conns(), "the first connection was cut, and kvclient dialled again")
	e, err := store.Get("log")
	require.NoError(t, err)
	assert.Equal(t, "x", e.Value, "appended once")
	assert.Equal(t, int64(1), store.Stats().Appends)
}

// cutProxy forwards TCP connections to a server. On the first one it cuts
// the connection instead of forwarding the server's bytes once cut()
// holds; later connections it forwards whole.
type cutProxy struct {
	addr  string
	mu    sync.Mutex // protects open, later
	open  []net.Conn // to close at the end of the test
	later int        // connections accepted after the first
}

func (p *cutProxy) conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.later
}

func newCutProxy(t *testing.T, server string, cut func() bool) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() { // exits when l is closed
		for first := true; ; first = false {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, c, s)
			if !first {
				p.later++
			}
			p.mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(s, c); s.Close() }) // exits when either side closes
			wg.Go(func() {                                    // exits when either side closes, or at the cut
				defer c.Close()
				cutting := first
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && cutting && cut() {
						s.Close()
						return
					}
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return p
}

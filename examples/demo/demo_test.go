package demo

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int
		wantErr string
	}{
		{"success", nil, 0, ""},
		{"usage", ErrUsage, 2, ""},
		{"failure", errors.New("disk full"), 1, "ex: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			run := func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				assert.Equal(t, []string{"a"}, args)
				return tt.err
			}
			assert.Equal(t, tt.code, exitCode("ex", run, []string{"a"}, &out, &errb))
			assert.Equal(t, tt.wantErr, errb.String())
		})
	}
}

func TestFaultFlags(t *testing.T) {
	var f transport.Faults
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	var errb bytes.Buffer
	fs.SetOutput(&errb)
	FaultFlags(fs, &f)
	ok, err := Parse(fs, []string{"-drop", "0.2", "-dup", "0.1", "-delay", "50ms", "-jitter", "5ms", "-reorder", "0.3", "-seed", "7"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, transport.Faults{Drop: 0.2, Duplicate: 0.1, Delay: 50 * time.Millisecond, Jitter: 5 * time.Millisecond, Reorder: 0.3, Seed: 7}, f)

	var g transport.Faults
	fs = flag.NewFlagSet("ex", flag.ContinueOnError)
	fs.SetOutput(&errb)
	FaultFlags(fs, &g)
	ok, err = Parse(fs, nil)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(1), g.Seed, "the default seed is 1, never 0")

	ok, err = Parse(fs, []string{"-drop", "lots"})
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), `invalid value "lots" for flag -drop`)
	ok, err = Parse(fs, []string{"-h"})
	assert.False(t, ok, "-h: the example stops")
	assert.NoError(t, err, "-h is not an error")
}

func TestTimeoutFlag(t *testing.T) {
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	var errb bytes.Buffer
	fs.SetOutput(&errb)
	var d time.Duration
	TimeoutFlag(fs, &d)
	ok, err := Parse(fs, []string{"-timeout", "2s"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 2*time.Second, d)

	f := transport.Faults{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
	assert.Equal(t, 2*time.Second, ReplyTimeout(d, f), "a given timeout stays")
	assert.Equal(t, 640*time.Millisecond, ReplyTimeout(0, f), "400ms + 16*15ms")
	assert.Equal(t, 400*time.Millisecond, ReplyTimeout(0, transport.Faults{}))
}

func TestUsagef(t *testing.T) {
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	var errb bytes.Buffer
	fs.SetOutput(&errb)
	fs.Int("n", 3, "how many")
	err := Usagef(fs, "-n must be at least %d", 1)
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), "ex: -n must be at least 1\n")
	assert.Contains(t, errb.String(), "how many", "the usage follows the message")
}

type Echo struct{}

func (Echo) Say(args *string, reply *string) error { *reply = *args; return nil }

func TestTracerOffIsANoOp(t *testing.T) {
	tr := NewTracer("", "nothing")
	assert.False(t, tr.On())
	assert.Nil(t, tr.Recorder())
	assert.Nil(t, tr.ServerOptions("s"))
	assert.Nil(t, tr.ClientOptions("c", "s"))
	assert.Nil(t, tr.NetsimOptions())
	require.NoError(t, tr.Prepare())
	tr.Logf("c", "ignored")
	var out bytes.Buffer
	require.NoError(t, tr.Write(&out))
	assert.Empty(t, out.String())
}

func TestTracerPrepareMakesTheDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	require.NoError(t, NewTracer(dir, "x").Prepare())
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err = NewTracer(file, "x").Prepare()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-trace: mkdir "+file)

	assert.NoError(t, NewTracer("", "off").Prepare(), "off: nothing to make")
}

func TestTracerRecordsAnRPCRun(t *testing.T) {
	dir := t.TempDir()
	tr := NewTracer(dir, "echo")
	require.True(t, tr.On())
	net := netsim.NewNetwork(1, tr.NetsimOptions()...)
	l, err := net.Listen("server")
	require.NoError(t, err)
	srv := rpc.NewServer(tr.ServerOptions("server")...)
	require.NoError(t, srv.Register(Echo{}))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	ctx := context.Background()
	cli, err := rpc.Dial(ctx, "server", append(tr.ClientOptions("client", "server"), rpc.WithDialer(net.Dialer("client")))...)
	require.NoError(t, err)
	var reply string
	require.NoError(t, cli.Call(ctx, "Echo.Say", "hi", &reply))
	assert.Equal(t, "hi", reply)
	tr.Logf("client", "got %q", reply)
	require.NoError(t, cli.Close())
	require.NoError(t, srv.Close())
	require.ErrorIs(t, <-served, rpc.ErrServerClosed)

	var out bytes.Buffer
	require.NoError(t, tr.Write(&out))
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Contains(t, string(data), "Echo.Say", name)
	}
	kinds := map[trace.Kind]int{}
	for _, e := range tr.Recorder().Events() {
		kinds[e.Kind]++
	}
	assert.Equal(t, map[trace.Kind]int{trace.KindSend: 2, trace.KindReceive: 2, trace.KindLocal: 1}, kinds)
}

func TestInterruptIsReportedQuietly(t *testing.T) {
	run := func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		self, err := os.FindProcess(os.Getpid())
		if err != nil {
			return err
		}
		if err := self.Signal(os.Interrupt); err != nil {
			t.Skipf("cannot send an interrupt here: %v", err)
		}
		<-ctx.Done() // Main's context ends on the interrupt
		return fmt.Errorf("counting: %w", ctx.Err())
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 130, exitCode("ex", run, nil, &out, &errb))
	assert.Equal(t, "ex: interrupted\n", errb.String())
}

func TestDashboardOffIsANoOp(t *testing.T) {
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	var f transport.Faults
	FaultFlags(fs, &f)
	ok, err := Parse(fs, nil)
	require.True(t, ok)
	require.NoError(t, err)
	var out bytes.Buffer
	d, err := StartDashboard(fs, nil, &out)
	require.NoError(t, err)
	defer d.Close()
	assert.False(t, d.On())
	assert.Same(t, &out, d.Out())
	require.NoError(t, d.Wait(context.Background()), "returns at once")
	assert.Empty(t, out.String())
}

func TestDashboardServesTheNetwork(t *testing.T) {
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	DashboardFlag(fs)
	DashboardFlag(fs) // twice is once
	ok, err := Parse(fs, []string{"-dashboard", "127.0.0.1:0"})
	require.True(t, ok)
	require.NoError(t, err)

	_, err = StartDashboard(fs, nil, io.Discard)
	require.ErrorContains(t, err, "-dashboard: the dashboard shows the simulated network")

	n := netsim.NewNetwork(1)
	defer n.Close()
	var out bytes.Buffer
	d, err := StartDashboard(fs, n, &out)
	require.NoError(t, err)
	defer d.Close()
	assert.True(t, d.On())
	assert.Contains(t, out.String(), "The dashboard is at http://127.0.0.1:")
	url := strings.Fields(strings.TrimPrefix(out.String(), "The dashboard is at "))[0]
	resp, err := http.Get(strings.TrimSuffix(url, ":"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	fmt.Fprintln(d.Out(), "narrated to both")
	assert.Contains(t, out.String(), "narrated to both")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, d.Wait(ctx))
}

func TestDashboardOnABusyAddressFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	DashboardFlag(fs)
	_, err = Parse(fs, []string{"-dashboard", l.Addr().String()})
	require.NoError(t, err)
	n := netsim.NewNetwork(1)
	defer n.Close()
	_, err = StartDashboard(fs, n, io.Discard)
	require.ErrorContains(t, err, "-dashboard: listen tcp")
}

func TestTracerInMemoryWritesNothing(t *testing.T) {
	tr := NewTracer("", "x")
	tr.RecordInMemory()
	assert.True(t, tr.On())
	assert.NotNil(t, tr.ServerOptions("s"), "rpc calls are stamped")
	require.NoError(t, tr.Prepare())
	var out bytes.Buffer
	require.NoError(t, tr.Write(&out))
	assert.Empty(t, out.String(), "no directory, no files")
}

func TestRaftLabelNamesRaftMessagesByType(t *testing.T) {
	msg := raft.AppendMessage(nil, raft.Message{Type: raft.RequestVote, From: 1, To: 2, Term: 3})
	assert.Equal(t, "RequestVote", RaftLabel(msg))
	assert.Empty(t, RaftLabel([]byte("not a message")))
}

package clitest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
)

// wait bounds how long a test waits for a line: far more than a program on
// 127.0.0.1 needs, so that it only ends a test that has hung.
const wait = 30 * time.Second

// Proc is a program's run function running in a test.
type Proc struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	err    error         // run's result, set before done is closed
	stdout *Output
	stderr *Output
}

// Start runs run with args, until Stop or the end of the test.
func Start(tb testing.TB, run cli.RunFunc, args ...string) *Proc {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proc{cancel: cancel, done: make(chan struct{}), stdout: &Output{}, stderr: &Output{}}
	go func() { // exits when run returns, which Stop makes it do
		defer close(p.done)
		p.err = run(ctx, args, p.stdout, p.stderr)
	}()
	tb.Cleanup(func() { _ = p.Stop() })
	return p
}

// Stop cancels run's context, as a SIGTERM does, waits for run to return
// and returns its error.
func (p *Proc) Stop() error {
	p.cancel()
	<-p.done
	return p.err
}

// Wait waits for run to return by itself and returns its error.
func (p *Proc) Wait(tb testing.TB) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(wait):
		require.FailNow(tb, "the program did not finish", "stderr:\n%s", p.stderr)
		return nil
	}
}

// Stdout and Stderr return what the program has written so far.
func (p *Proc) Stdout() *Output { return p.stdout }
func (p *Proc) Stderr() *Output { return p.stderr }

// Addr waits for the program to announce "listening on ADDR" (what is
// "listening on") or "status on http://ADDR/status" ("status on"), and
// returns ADDR.
func (p *Proc) Addr(tb testing.TB, what string) string {
	tb.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(what) + ` (?:http://)?([^ /]+)`)
	line := p.WaitLine(tb, what+" ")
	m := re.FindStringSubmatch(line)
	require.NotNil(tb, m, "line %q", line)
	return m[1]
}

// WaitLine waits for a line of stdout that contains s, and returns it.
// It fails the test if run returns first, or after a long time.
func (p *Proc) WaitLine(tb testing.TB, s string) string {
	tb.Helper()
	return p.stdout.waitLine(tb, s, p.done, func() string {
		return fmt.Sprintf("error: %v\nstderr:\n%s", p.err, p.stderr)
	})
}

// Output is a writer that keeps what is written to it, safe for a program
// and a test to use at once. The zero value is an empty Output.
type Output struct {
	mu      sync.Mutex // protects buf, changed
	buf     bytes.Buffer
	changed chan struct{} // closed at the next write; nil until someone waits
}

// Write appends to the output and wakes the tests waiting on it.
func (o *Output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(b), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitLine waits for a line that contains s, and returns it. It fails the
// test after a long time.
func (o *Output) WaitLine(tb testing.TB, s string) string {
	tb.Helper()
	return o.waitLine(tb, s, nil, func() string { return "" })
}

// WaitMatch waits for a line for which match returns true, and returns
// it; what describes such a line in the failure. It fails the test after a
// long time.
func (o *Output) WaitMatch(tb testing.TB, what string, match func(line string) bool) string {
	tb.Helper()
	return o.wait(tb, what, match, nil, func() string { return "" })
}

// waitLine waits for a line that contains s, and returns it. It fails the
// test if done is closed first (the writer has finished; why() says more),
// or after a long time.
func (o *Output) waitLine(tb testing.TB, s string, done <-chan struct{}, why func() string) string {
	tb.Helper()
	return o.wait(tb, s, func(line string) bool { return strings.Contains(line, s) }, done, why)
}

func (o *Output) wait(tb testing.TB, s string, match func(string) bool, done <-chan struct{}, why func() string) string {
	tb.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for n := 0; ; {
		lines, changed := o.lines()
		for ; n < len(lines); n++ {
			if match(lines[n]) {
				return lines[n]
			}
		}
		select {
		case <-changed:
		case <-done:
			if lines, _ := o.lines(); len(lines) > n {
				continue
			}
			require.FailNow(tb, "the program ended before printing "+s, why())
		case <-deadline.C:
			require.FailNow(tb, "the program did not print "+s, "output:\n%s", o)
		}
	}
}

// lines returns the complete lines written so far, and a channel closed at
// the next write.
func (o *Output) lines() ([]string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	s := o.buf.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n"), o.changed
	}
	return nil, o.changed
}

// CheckHelp runs run with -h and checks that it is not an error, that
// nothing is printed on stdout, and that the usage on stderr starts with
// "usage: name" and describes every flag the program defines: the flags
// are those of the usage's own flag list, and each of them must also be
// named in readme (the program's README), so the two cannot drift apart.
func CheckHelp(tb testing.TB, run cli.RunFunc, name string, args []string, readme string) {
	tb.Helper()
	var out, errb bytes.Buffer
	require.NoError(tb, run(context.Background(), append(args, "-h"), &out, &errb))
	assert.Empty(tb, out.String(), "-h runs nothing")
	usage := errb.String()
	require.True(tb, strings.HasPrefix(usage, "usage: "+name), "usage starts with its synopsis:\n%s", usage)
	flags := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(usage, -1)
	require.NotEmpty(tb, flags, "the usage lists the flags")
	for _, f := range flags {
		assert.Contains(tb, readme, "-"+f[1], "the README names the flag -%s", f[1])
	}
}

// CheckUsageError runs run with args, which are wrong, and checks that it
// returns cli.ErrUsage having printed want and the usage, and nothing on
// stdout.
func CheckUsageError(tb testing.TB, run cli.RunFunc, args []string, want string) {
	tb.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	require.ErrorIs(tb, err, cli.ErrUsage)
	assert.Contains(tb, errb.String(), want)
	assert.Contains(tb, errb.String(), "usage: ", "the usage follows the message")
	assert.Empty(tb, out.String(), "nothing ran")
}

// FreeAddrs returns n addresses 127.0.0.1:PORT that were free a moment
// ago, for programs that must know each other's addresses before they
// start (raft servers name all their peers). It listens on port 0 to let
// the kernel pick each port, and closes the listeners before returning:
// another process could take a port in between, but the kernel hands out
// ports in turn, so it would have to be unlucky.
func FreeAddrs(tb testing.TB, n int) []string {
	tb.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(tb, err)
		addrs[i] = l.Addr().String()
		defer l.Close() // all held until the end, so that no two are equal
	}
	return addrs
}

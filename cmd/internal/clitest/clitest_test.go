package clitest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is a run function that announces an address, prints what it is
// told on a channel, and returns when its context ends.
func server(lines <-chan string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fmt.Fprintf(stdout, "prog: listening on 127.0.0.1:%s\n", args[0])
		fmt.Fprintln(stdout, "prog: status on http://127.0.0.1:9/status")
		for {
			select {
			case l := <-lines:
				fmt.Fprint(stdout, l) // may be a part of a line
			case <-ctx.Done():
				fmt.Fprintln(stderr, "stopping")
				return errors.New("stopped")
			}
		}
	}
}

func TestProcAnnouncesAndStops(t *testing.T) {
	lines := make(chan string)
	p := Start(t, server(lines), "1234")
	assert.Equal(t, "127.0.0.1:1234", p.Addr(t, "listening on"))
	assert.Equal(t, "127.0.0.1:9", p.Addr(t, "status on"))

	lines <- "half a "
	lines <- "line\n"
	assert.Equal(t, "half a line", p.WaitLine(t, "half"))
	lines <- "n=7\n"
	got := p.Stdout().WaitMatch(t, "a number", func(l string) bool { return strings.HasPrefix(l, "n=") })
	assert.Equal(t, "n=7", got)

	require.EqualError(t, p.Stop(), "stopped")
	assert.Equal(t, "stopping\n", p.Stderr().String())
	require.EqualError(t, p.Stop(), "stopped", "Stop again returns the same")
}

func TestZeroOutputWaits(t *testing.T) {
	var o Output
	written := make(chan struct{})
	go func() { // exits when it has written
		defer close(written)
		fmt.Fprintln(&o, "a")
		fmt.Fprintln(&o, "b")
	}()
	assert.Equal(t, "b", o.WaitLine(t, "b"))
	<-written
}

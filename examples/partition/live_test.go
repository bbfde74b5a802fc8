package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// output is what a running demo has printed so far; the test reads it
// while the demo writes.
type output struct {
	mu      sync.Mutex // protects buf
	buf     bytes.Buffer
	written chan struct{} // size 1: something was written since the last wait
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.written <- struct{}{}:
	default:
	}
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// await waits until the output matches re, and returns the match.
func (o *output) await(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		if m := re.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		select {
		case <-o.written:
		case <-timeout.C:
			t.Fatalf("no %v in:\n%s", re, o.String())
		}
	}
}

var dashboardRE = regexp.MustCompile(`The dashboard is at (http://\S+/):`)

// With -dashboard, the demo runs until Ctrl-C and does what the page
// says: split the network from the page, and bob's next round shows it.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &output{written: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-dashboard", "127.0.0.1:0"}, out, io.Discard) }()

	url := out.await(t, dashboardRE)[1]
	out.await(t, regexp.MustCompile(`bob   get x at the backup: x=1, as at the primary`))
	resp, err := http.Post(url+"api/partition", "application/json", strings.NewReader(`{"groups": [["alice", "primary"]]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	out.await(t, regexp.MustCompile(`The network is cut`))
	out.await(t, regexp.MustCompile(`bob   put y=\d+ at the primary: TIMED OUT`))
	out.await(t, regexp.MustCompile(`bob   get x at the backup: x=\d+, STALE`))

	resp, err = http.Post(url+"api/crash", "application/json", strings.NewReader(`{"node": "backup"}`))
	require.NoError(t, err)
	resp.Body.Close()
	out.await(t, regexp.MustCompile(`backup crashed`))
	resp, err = http.Post(url+"api/restart", "application/json", strings.NewReader(`{"node": "backup"}`))
	require.NoError(t, err)
	resp.Body.Close()
	out.await(t, regexp.MustCompile(`backup restarted with an empty table`))

	cancel() // Ctrl-C
	require.NoError(t, <-done)
	_, err = http.Get(url)
	assert.Error(t, err, "the dashboard stopped with the demo")
}

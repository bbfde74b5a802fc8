package demotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo"
)

// awaitLimit bounds how long Live waits for a line of narration: the live
// examples narrate every couple of seconds, so reaching it means the
// example is stuck, and the test fails rather than hangs.
const awaitLimit = 30 * time.Second

// Live is an example run with -dashboard 127.0.0.1:0, as an instructor
// runs it in a lecture, for a test: the test waits for its narration,
// looks at its page over HTTP, clicks controls, and then presses Ctrl-C
// (Stop). It runs in real time, as the live mode does: no test in it waits
// for a duration, only for what the example prints.
type Live struct {
	URL    string // the dashboard's address, "http://127.0.0.1:port/"
	out    *output
	cancel context.CancelFunc
	done   chan error // run's result
}

// StartLive runs run with -dashboard 127.0.0.1:0 and args, and waits until
// it says where its dashboard is. The test must call Stop.
func StartLive(t *testing.T, run demo.RunFunc, args ...string) *Live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &Live{out: &output{written: make(chan struct{}, 1)}, cancel: cancel, done: make(chan error, 1)}
	args = append([]string{"-dashboard", "127.0.0.1:0"}, args...)
	go func() { l.done <- run(ctx, args, l.out, io.Discard) }() // exits when ctx is cancelled (Stop)
	l.URL = l.Await(t, `The dashboard is at (http://\S+/):`)[1]
	return l
}

// Await waits until what the example has printed matches the regular
// expression re, and returns the match and its groups.
func (l *Live) Await(t *testing.T, re string) []string {
	t.Helper()
	r := regexp.MustCompile(re)
	limit := time.NewTimer(awaitLimit)
	defer limit.Stop()
	for {
		if m := r.FindStringSubmatch(l.out.String()); m != nil {
			return m
		}
		select {
		case <-l.out.written:
		case <-limit.C:
			t.Fatalf("no %q in what the example printed:\n%s", re, l.out.String())
		}
	}
}

// Output returns what the example has printed so far.
func (l *Live) Output() string { return l.out.String() }

// CheckPage fetches the page and the network's state from the dashboard,
// and checks that the page is served, that it is titled title and that it
// shows every node of nodes.
func (l *Live) CheckPage(t *testing.T, title string, nodes ...string) {
	t.Helper()
	resp, err := http.Get(l.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the page")

	resp, err = http.Get(l.URL + "api/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Title string
		Nodes []struct{ Name string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	assert.Equal(t, title, st.Title)
	var shown []string
	for _, n := range st.Nodes {
		shown = append(shown, n.Name)
	}
	assert.Subset(t, shown, nodes, "the nodes the page shows")
}

// CheckNarrated reads the page's event stream until a line of narration
// holds text: the example narrates on the page, not only on stdout. The
// stream replays the narration so far, so text may have been printed
// before.
func (l *Live) CheckNarrated(t *testing.T, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awaitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL+"events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	narration := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "event: narration":
			narration = true
		case narration && strings.HasPrefix(line, "data: "):
			var n struct{ Text string }
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &n))
			if strings.Contains(n.Text, text) {
				return
			}
			narration = false
		case line == "":
			narration = false
		}
	}
	t.Fatalf("the page's narration never said %q (%v)", text, sc.Err())
}

// Post sends a control to the dashboard, as a click on the page does
// (path is "api/crash", say, and body its JSON), and checks it was done.
func (l *Live) Post(t *testing.T, path, body string) {
	t.Helper()
	resp, err := http.Post(l.URL+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", path, body, msg)
}

// Stop presses Ctrl-C: it cancels the run's context, checks that the run
// ends without an error, and that its dashboard is gone.
func (l *Live) Stop(t *testing.T) {
	t.Helper()
	l.cancel()
	require.NoError(t, <-l.done)
	resp, err := http.Get(l.URL)
	if err == nil {
		resp.Body.Close()
	}
	assert.Error(t, err, "the dashboard stopped with the example")
}

// output is what a running example has printed so far; the test reads it
// while the example writes.
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

// CheckNoDashboard runs run with -dashboard 127.0.0.1:0 and args, which
// make it run over a real network, and checks that it refuses with a one-
// line error saying why, having printed nothing.
func CheckNoDashboard(t *testing.T, run demo.RunFunc, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"-dashboard", "127.0.0.1:0"}, args...), &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-dashboard: the dashboard shows the simulated network")
	assert.NotContains(t, err.Error(), "\n", "one line")
	assert.Empty(t, out.String(), "nothing ran")
}

package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestPageIsServedWhole(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	for path, want := range map[string]string{
		"/":             "text/html",
		"/app.js":       "text/javascript",
		"/graph.js":     "text/javascript",
		"/spacetime.js": "text/javascript",
		"/style.css":    "text/css",
	} {
		resp, err := http.Get(s.srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), want, path)
		// The SVG namespace is a name, not a place: nothing is fetched from it.
		page := strings.ReplaceAll(string(body), `"http://www.w3.org/2000/svg"`, "")
		for _, external := range []string{"http://", "https://", "//cdn", "@import"} {
			assert.False(t, strings.Contains(page, external), "%s has %q: it must work offline", path, external)
		}
	}
}

// The stream starts with a snapshot, then says what happens: each message
// sent, delivered or dropped (named by its trace label), and each change
// of the network.
func TestStreamShowsMessagesAndChanges(t *testing.T) {
	t.Parallel()
	s := newSetup(t, dashboard.WithNodes("c", "b", "a"))
	events := s.stream(t)
	name, data := events.next(t)
	require.Equal(t, "state", name)
	assert.Contains(t, data, `"nodes":[{"name":"c"`, "in the order WithNodes gave")

	rec := trace.NewRecorder()
	_, stamp := rec.Node("a").RecordSend("b", "KV.Get", nil)
	pc := s.pc["a"]
	_, err := pc.WriteTo(stamp, netsim.Addr("b"))
	require.NoError(t, err)
	send := events.until(t, "net", func(v map[string]any) bool { return v["kind"] == "send" })
	assert.Equal(t, "a", send["from"])
	assert.Equal(t, "b", send["to"])
	assert.Equal(t, "KV.Get", send["label"], "named by its trace stamp")
	deliver := events.until(t, "net", func(v map[string]any) bool { return v["kind"] == "deliver" })
	assert.Equal(t, send["id"], deliver["id"], "the same copy")

	s.mustPost(t, "/api/partition", `{"groups": [["a"], ["b", "c"]]}`)
	part := events.until(t, "net", func(v map[string]any) bool { return v["kind"] == "partition" })
	assert.Equal(t, []any{[]any{"a"}, []any{"b", "c"}}, part["groups"])
	_, err = pc.WriteTo([]byte("lost"), netsim.Addr("b"))
	require.NoError(t, err)
	drop := events.until(t, "net", func(v map[string]any) bool { return v["kind"] == "drop" })
	assert.Equal(t, "partition", drop["reason"])
}

// A browser that joins late is told the changes so far, and the
// narration.
func TestLateBrowserGetsTheHistory(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.mustPost(t, "/api/crash", `{"node": "c"}`)
	io.WriteString(s.dash, "bob reads x = 1: STALE\nhalf a ")
	io.WriteString(s.dash, "line\n")
	events := s.stream(t)
	crash := events.until(t, "net", func(v map[string]any) bool { return v["kind"] == "crash" })
	assert.Equal(t, "c", crash["node"])
	n := events.until(t, "narration", func(map[string]any) bool { return true })
	assert.Equal(t, "bob reads x = 1: STALE", n["text"])
	n = events.until(t, "narration", func(map[string]any) bool { return true })
	assert.Equal(t, "half a line", n["text"], "a line written in two pieces is one line")
}

func TestCloseEndsTheStreams(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	events := s.stream(t)
	name, _ := events.next(t)
	require.Equal(t, "state", name)
	require.NoError(t, s.dash.Close())
	require.NoError(t, s.dash.Close(), "idempotent")
	_, err := io.ReadAll(events.r)
	require.NoError(t, err, "the stream ends")
	resp, err := http.Get(s.srv.URL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestStateIsJSON(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	resp, err := http.Get(s.srv.URL + "/api/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(body), `{"title":"distsys dashboard"`), "%s", body)
}

func TestServeListensAndCloses(t *testing.T) {
	t.Parallel()
	n := netsim.NewNetwork(1)
	defer n.Close()
	srv, err := dashboard.Serve("127.0.0.1:0", n)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL(), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"))
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "idempotent")
	_, err = http.Get(srv.URL())
	assert.Error(t, err, "nothing listens any more")
}

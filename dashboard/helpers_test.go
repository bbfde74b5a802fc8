package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// safety bounds waits in real-time tests, so that a bug fails the test
// instead of hanging it; correct code never comes near it.
const safety = 20 * time.Second

// setup is a network of nodes a, b and c, a dashboard of it, and a test
// server serving the dashboard. Everything is closed at cleanup.
type setup struct {
	net  *netsim.Network
	dash *dashboard.Dashboard
	srv  *httptest.Server
	pc   map[string]net.PacketConn // each node's packet conn
}

func newSetup(t *testing.T, opts ...dashboard.Option) *setup {
	t.Helper()
	n := netsim.NewNetwork(1)
	n.LogSeedOnFailure(t)
	pcs := map[string]net.PacketConn{}
	for _, name := range []string{"a", "b", "c"} {
		pc, err := n.ListenPacket(name) // names the node
		require.NoError(t, err)
		t.Cleanup(func() { pc.Close() })
		pcs[name] = pc
	}
	d := dashboard.New(n, opts...)
	srv := httptest.NewServer(d)
	t.Cleanup(func() {
		d.Close() // ends the event streams, so that the server can close
		srv.Close()
		n.Close()
	})
	return &setup{net: n, dash: d, srv: srv, pc: pcs}
}

// post sends a control and returns the status and body of the answer.
func (s *setup) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.srv.URL+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// mustPost sends a control that must succeed.
func (s *setup) mustPost(t *testing.T, path, body string) {
	t.Helper()
	status, msg := s.post(t, path, body)
	require.Equal(t, http.StatusOK, status, "%s %s: %s", path, body, msg)
}

// sse is a reader of a server-sent event stream.
type sse struct {
	body io.Closer
	r    *bufio.Reader
}

// stream opens the event stream of the dashboard; it is closed at cleanup.
func (s *setup) stream(t *testing.T) *sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	req, err := http.NewRequestWithContext(ctx, "GET", s.srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return &sse{body: resp.Body, r: bufio.NewReader(resp.Body)}
}

// next returns the next event's name and data.
func (e *sse) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := e.r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name != "":
			return name, data
		}
	}
}

// until reads events until one named name whose data satisfies ok, and
// returns its data decoded into a map.
func (e *sse) until(t *testing.T, name string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		n, data := e.next(t)
		if n != name {
			continue
		}
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(data), &v))
		if ok(v) {
			return v
		}
	}
}

// stateOf returns the network's state, without the time it was taken.
func stateOf(n *netsim.Network) netsim.State {
	s := n.State()
	s.Time = time.Time{}
	for i := range s.Links {
		s.Links[i].Stats.Partitioned = 0
	}
	return s
}

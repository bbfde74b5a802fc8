package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusEndpointServesJSON(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	type myStatus struct {
		Status
		Count int `json:"count"`
	}
	h := JSONHandler(func() any {
		return myStatus{Status{Program: "p", Addr: "a:1", Start: start, Peers: []Peer{{"x", "h:1"}}}.Up(start.Add(90 * time.Second)), 7}
	})
	s, err := StartHTTP("127.0.0.1:0", h)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()

	resp, err := http.Get("http://" + s.Addr().String() + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, map[string]any{
		"program": "p", "addr": "a:1", "tls": false, "start": "2025-01-02T03:04:05Z",
		"uptime_seconds": 90.0, "peers": []any{map[string]any{"id": "x", "addr": "h:1"}}, "count": 7.0,
	}, got)

	for path, want := range map[string]int{"/": http.StatusNotFound, "/statusx": http.StatusNotFound} {
		resp, err := http.Get("http://" + s.Addr().String() + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}
	resp2, err := http.Post("http://"+s.Addr().String()+"/status", "text/plain", nil)
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp2.StatusCode)
}

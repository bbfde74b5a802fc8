package dashboard_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

func TestControlsChangeTheNetwork(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	byLink := func(from, to string) (transport.Faults, bool, bool) {
		for _, l := range s.net.State().Links {
			if l.From == from && l.To == to {
				return l.Faults, l.OwnFaults, l.CutLink
			}
		}
		return transport.Faults{}, false, false
	}

	s.mustPost(t, "/api/partition", `{"groups": [["a", "b"]]}`)
	assert.Equal(t, [][]string{{"a", "b"}}, s.net.State().Groups)
	s.mustPost(t, "/api/heal", ``)
	assert.Nil(t, s.net.State().Groups)

	s.mustPost(t, "/api/crash", `{"node": "b"}`)
	assert.True(t, s.net.State().Nodes[1].Crashed, "b is down")
	s.mustPost(t, "/api/restart", `{"node": "b"}`)
	assert.False(t, s.net.State().Nodes[1].Crashed, "b is up")

	s.mustPost(t, "/api/link", `{"from": "a", "to": "c", "cut": true}`)
	_, _, cut := byLink("a", "c")
	assert.True(t, cut, "a -> c is cut")
	_, _, cut = byLink("c", "a")
	assert.False(t, cut, "c -> a is not")
	s.mustPost(t, "/api/link", `{"from": "a", "to": "c", "cut": false}`)
	_, _, cut = byLink("a", "c")
	assert.False(t, cut)

	s.mustPost(t, "/api/faults", `{"from": "a", "to": "b", "drop": 0.25, "duplicate": 0.1, "delayMs": 30}`)
	f, own, _ := byLink("a", "b")
	assert.True(t, own)
	assert.Equal(t, transport.Faults{Drop: 0.25, Duplicate: 0.1, Delay: 30 * time.Millisecond}, f)
	s.mustPost(t, "/api/faults", `{"drop": 0.5}`)
	assert.Equal(t, transport.Faults{Drop: 0.5}, s.net.State().Defaults)
	s.mustPost(t, "/api/faults", `{"from": "a", "to": "b", "clear": true}`)
	f, own, _ = byLink("a", "b")
	assert.False(t, own)
	assert.Equal(t, transport.Faults{Drop: 0.5}, f, "back to the defaults")

	s.mustPost(t, "/api/pause", `{}`)
	assert.True(t, s.net.State().Holding)
	s.mustPost(t, "/api/resume", `{}`)
	assert.False(t, s.net.State().Holding)
}

func TestBadRequestsGetAClearMessage(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	tests := []struct {
		name, path, body, want string
	}{
		{"unknown node", "/api/crash", `{"node": "zed"}`, `unknown node "zed"`},
		{"no node", "/api/restart", `{}`, `unknown node ""`},
		{"unknown node in a partition", "/api/partition", `{"groups": [["a", "zed"]]}`, `unknown node "zed"`},
		{"a node twice", "/api/partition", `{"groups": [["a"], ["a", "b"]]}`, `node "a" is in two groups`},
		{"an empty partition", "/api/partition", `{"groups": [[]]}`, "at least one group"},
		{"a link to itself", "/api/link", `{"from": "a", "to": "a", "cut": true}`, "two different nodes"},
		{"a drop rate over 1", "/api/faults", `{"drop": 1.5}`, "drop 1.5 is not a probability"},
		{"a negative duplicate rate", "/api/faults", `{"from": "a", "to": "b", "duplicate": -0.1}`, "duplicate -0.1"},
		{"a negative delay", "/api/faults", `{"delayMs": -5}`, "delay -5ms"},
		{"an hour of delay", "/api/faults", `{"delayMs": 3600000}`, "delay 3.6e+06ms"},
		{"clear without a link", "/api/faults", `{"clear": true}`, "clear needs a link"},
		{"malformed JSON", "/api/crash", `{"node": `, "malformed JSON"},
		{"a field the control lacks", "/api/crash", `{"nodes": "a"}`, "malformed JSON"},
		{"two values", "/api/heal", `{} {}`, "more than one value"},
		{"a step too far", "/api/step", `{"count": -1}`, "count -1"},
		{"too fast for slow motion", "/api/slow", `{"rate": 1000}`, "rate 1000"},
	}
	before := stateOf(s.net)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := s.post(t, tt.path, tt.body)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, msg, tt.want)
		})
	}
	assert.Equal(t, before, stateOf(s.net), "no bad request changed anything")
}

func TestControlsWantPOST(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	resp, err := http.Get(s.srv.URL + "/api/crash")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	status, _ := s.post(t, "/api/explode", `{}`)
	assert.Equal(t, http.StatusNotFound, status)
}

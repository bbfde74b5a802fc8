package rpc

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReplyCache walks the reply cache through one client's life, step by
// step: every state a request can meet.
func TestReplyCache(t *testing.T) {
	rc := newReplyCache(cacheLimits{clients: 2, perClient: 2})
	type step struct {
		name      string
		do        func() (callState, []byte)
		want      callState
		wantReply string
	}
	begin := func(client, seq, ack uint64) func() (callState, []byte) {
		return func() (callState, []byte) { return rc.begin(client, seq, ack) }
	}
	finish := func(client, seq uint64, reply string) func() (callState, []byte) {
		return func() (callState, []byte) {
			rc.finish(client, seq, []byte(reply))
			return callNew, nil
		}
	}
	hello := func(client uint64) func() (callState, []byte) {
		return func() (callState, []byte) {
			rc.hello(client)
			return callNew, nil
		}
	}
	steps := []step{
		{"UnknownClientIsForgotten", begin(1, 1, 1), callForgotten, ""},
		{"Hello", hello(1), callNew, ""},
		{"FirstCopyRuns", begin(1, 1, 1), callNew, ""},
		{"CopyOfRunningCallWaits", begin(1, 1, 1), callRunning, ""},
		{"Finish", finish(1, 1, "r1"), callNew, ""},
		{"CopyOfFinishedCallGetsSavedReply", begin(1, 1, 1), callDone, "r1"},
		{"SecondCall", begin(1, 2, 1), callNew, ""},
		{"ThirdCallIsTooMany", begin(1, 3, 1), callTooMany, ""},
		{"AckForgetsCall1", begin(1, 3, 2), callNew, ""},
		{"LateCopyOfAcknowledgedCallIsStale", begin(1, 1, 2), callStale, ""},
		{"FinishOfForgottenCallIsIgnored", finish(1, 1, "late"), callNew, ""},
		{"StillStale", begin(1, 1, 2), callStale, ""},
		{"SecondClient", hello(2), callNew, ""},
		{"ThirdClientPushesOutTheLeastRecent", hello(3), callNew, ""},
		{"FirstClientForgotten", begin(1, 2, 2), callForgotten, ""},
		{"SecondClientKept", begin(2, 1, 1), callNew, ""},
	}
	for _, s := range steps {
		state, reply := s.do()
		assert.Equal(t, s.want, state, s.name)
		assert.Equal(t, s.wantReply, string(reply), s.name)
	}
}

// TestReplyCacheLookup checks the read-only lookup used while draining.
func TestReplyCacheLookup(t *testing.T) {
	rc := newReplyCache(cacheLimits{clients: 1, perClient: 4})
	rc.hello(1)
	rc.begin(1, 1, 1)
	state, _ := rc.lookup(1, 1)
	assert.Equal(t, callRunning, state)
	rc.finish(1, 1, []byte("r"))
	state, reply := rc.lookup(1, 1)
	assert.Equal(t, callDone, state)
	assert.Equal(t, "r", string(reply))
	state, _ = rc.lookup(1, 2)
	assert.Equal(t, callForgotten, state, "never seen")
	state, _ = rc.begin(1, 2, 1)
	assert.Equal(t, callNew, state, "lookup did not record it")
}

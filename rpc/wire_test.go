package rpc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		give requestHeader
	}{
		{"Plain", requestHeader{seq: 1}},
		{"Timeout", requestHeader{seq: 1 << 40, timeout: 1500 * time.Millisecond}},
		{"AtMostOnce", requestHeader{seq: 7, flags: flagAtMostOnce, clientID: 1<<64 - 1, epoch: 42, ack: 3, attempt: 2}},
		{"Metadata", requestHeader{seq: 9, md: Metadata{"trace": "abc", "": "\x00\xff"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := appendRequest(nil, &tt.give, "KV.Get", "gob")
			msg = append(msg, "body"...)
			got, body, err := parseRequest(msg)
			require.NoError(t, err)
			assert.Equal(t, "KV.Get", string(got.method))
			assert.Equal(t, "gob", string(got.codec))
			assert.Equal(t, "body", string(body))
			want := tt.give
			want.method, want.codec = got.method, got.codec
			want.flags = got.flags // appendRequest sets the flags its fields need
			assert.Equal(t, want, got)
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		give replyHeader
	}{
		{"Plain", replyHeader{seq: 1}},
		{"Error", replyHeader{seq: 2, flags: flagError, code: "kv: no key", msg: "get x: kv: no key"}},
		{"Epoch", replyHeader{seq: 3, flags: flagEpoch, epoch: 99}},
		{"Metadata", replyHeader{seq: 4, md: Metadata{"vc": "1,2,3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := append(appendReply(nil, &tt.give), "body"...)
			got, body, err := parseReply(msg)
			require.NoError(t, err)
			assert.Equal(t, "body", string(body))
			want := tt.give
			want.flags = got.flags
			assert.Equal(t, want, got)
		})
	}
}

// FuzzParseRequest checks that no input makes the request parser panic or
// read out of bounds, and that whatever it accepts survives re-encoding.
func FuzzParseRequest(f *testing.F) {
	f.Add(appendRequest(nil, &requestHeader{seq: 1}, "Arith.Add", "gob"))
	f.Add(appendRequest(nil, &requestHeader{seq: 2, timeout: time.Second, md: Metadata{"k": "v"}}, "A.B", "json"))
	f.Add(appendRequest(nil, &requestHeader{seq: 3, flags: flagAtMostOnce, clientID: 5, epoch: 6, ack: 2, attempt: 1}, "A.B", "gob"))
	f.Add([]byte{1, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, body, err := parseRequest(msg)
		if err != nil {
			return
		}
		again := append(appendRequest(nil, &h, string(h.method), string(h.codec)), body...)
		h2, body2, err := parseRequest(again)
		require.NoError(t, err)
		assert.Equal(t, body, body2)
		assert.Equal(t, string(h.method), string(h2.method))
		assert.Equal(t, h.seq, h2.seq)
		assert.Equal(t, h.timeout, h2.timeout)
		assert.Equal(t, h.clientID, h2.clientID)
		assert.Equal(t, len(h.md), len(h2.md))
	})
}

// FuzzParseReply is FuzzParseRequest for replies.
func FuzzParseReply(f *testing.F) {
	f.Add(appendReply(nil, &replyHeader{seq: 1}))
	f.Add(appendReply(nil, &replyHeader{seq: 2, flags: flagError | flagEpoch, code: "c", msg: "m", epoch: 3, md: Metadata{"a": "b"}}))
	f.Add([]byte{1, 2, 1, 0, 0x80})
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, body, err := parseReply(msg)
		if err != nil {
			return
		}
		h2, body2, err := parseReply(append(appendReply(nil, &h), body...))
		require.NoError(t, err)
		assert.Equal(t, body, body2)
		assert.Equal(t, h.seq, h2.seq)
		assert.Equal(t, h.code, h2.code)
		assert.Equal(t, h.msg, h2.msg)
		assert.Equal(t, h.epoch, h2.epoch)
		assert.Equal(t, len(h.md), len(h2.md))
	})
}

type fuzzArgs struct {
	A, B  int
	S     string
	Items []fuzzItem
	M     map[string]int
}

type fuzzItem struct {
	Name string
	Data []byte
}

// FuzzGobDecode feeds arbitrary bodies to the gob codec, whose cached
// decoders must survive them: after any input, a valid body still decodes
// correctly.
func FuzzGobDecode(f *testing.F) {
	c := NewGobCodec()
	valid := &fuzzArgs{A: 1, B: -2, S: "s", Items: []fuzzItem{{"x", []byte{1}}}, M: map[string]int{"k": 3}}
	good, err := c.Append(nil, valid)
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte{gobEmpty})
	f.Add([]byte{gobStream, 3, 4, 5})
	f.Add(append([]byte{gobPreamble, 0}, good[2:]...))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got fuzzArgs
		_ = c.Decode(body, &got) // any result but a panic
		var again fuzzArgs
		require.NoError(t, c.Decode(good, &again))
		assert.Equal(t, *valid, again)
	})
}

// FuzzParseGoAway checks the goodbye parser as FuzzParseReply checks the
// reply parser.
func FuzzParseGoAway(f *testing.F) {
	f.Add(appendGoAway(nil, "", ""))
	f.Add(appendGoAway(nil, ErrServerBusy.Error(), "1 connections open"))
	f.Add([]byte{1, 3, 1, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		code, text, err := parseGoAway(msg)
		if err != nil {
			return
		}
		code2, text2, err := parseGoAway(appendGoAway(nil, code, text))
		require.NoError(t, err)
		if code != "" {
			assert.Equal(t, code, code2)
			assert.Equal(t, text, text2)
		}
	})
}

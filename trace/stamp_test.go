package trace_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
)

func TestFindStampAtTheStartOrInside(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	_, stamp := rec.Node("client").RecordSend("server", "KV.Get", nil)
	want := trace.Stamp{Message: trace.MessageID{From: "client", N: 1}, Label: "KV.Get"}
	tests := []struct {
		name string
		msg  []byte
	}{
		{"alone", stamp},
		{"in front of a payload", append(bytes.Clone(stamp), "payload"...)},
		{"inside an rpc message", append(append([]byte("\x01\x01\x04\x01\x05trace\x2b"), stamp...), "args"...)},
		{"after a false start", append([]byte("\xd5tr\x01\xff\xff"), stamp...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trace.FindStamp(tt.msg)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	_, err := trace.FindStamp([]byte("no stamp here"))
	assert.ErrorIs(t, err, trace.ErrNotTraced)
	_, err = trace.FindStamp(bytes.Repeat([]byte("\xd5tr\x01"), 1000))
	assert.ErrorIs(t, err, trace.ErrNotTraced, "magic bytes alone are no stamp")
}

// FindStamp never panics, and what it finds is a stamp that parses.
func FuzzFindStamp(f *testing.F) {
	rec := trace.NewRecorder()
	_, stamp := rec.Node("a").RecordSend("b", "L", nil)
	f.Add(stamp)
	f.Add(append([]byte("xx"), stamp...))
	f.Add([]byte("\xd5tr\x01\x01a\x00\x01\x01a\x01"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := trace.FindStamp(msg)
		if err != nil {
			require.ErrorIs(t, err, trace.ErrNotTraced)
			return
		}
		assert.NotEmpty(t, s.Message.From)
		assert.NotZero(t, s.Message.N)
	})
}

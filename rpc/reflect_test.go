package rpc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type bytesReply struct {
	Data  []byte
	N     int
	Items []int
	Key   []byte
}

// TestDecodeIntoUsedReplyMatchesFresh checks that a reply decoded (by gob)
// into a variable that held an earlier reply equals one decoded into a
// fresh variable, nil slices included, while a byte slice big enough is
// filled in place rather than allocated again.
func TestDecodeIntoUsedReplyMatchesFresh(t *testing.T) {
	tests := []struct {
		name string
		sent bytesReply
	}{
		{"Shorter", bytesReply{Data: []byte("ab"), N: 1, Key: []byte("k")}},
		{"Longer", bytesReply{Data: make([]byte, 100), Items: []int{1}}},
		{"EmptySlices", bytesReply{Data: []byte{}, N: 3}},
		{"NilSlices", bytesReply{}},
	}
	codec := NewGobCodec()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := codec.Append(nil, &tt.sent)
			require.NoError(t, err)
			var fresh bytesReply
			require.NoError(t, codec.Decode(body, &fresh))

			used := bytesReply{Data: []byte("earlier reply"), N: 9, Items: []int{7, 8}, Key: []byte("old")}
			array := &used.Data[:1][0]
			zero(&used, true)
			require.NoError(t, codec.Decode(body, &used))
			unkeepBytes(&used)
			assert.Equal(t, fresh, used)
			if len(tt.sent.Data) > 0 && len(tt.sent.Data) <= len("earlier reply") {
				assert.Same(t, array, &used.Data[0], "decoded into the array it had")
			}
		})
	}
}

// TestDecodeIntoUsedByteSliceMatchesFresh is the same for a reply that is
// a byte slice itself.
func TestDecodeIntoUsedByteSliceMatchesFresh(t *testing.T) {
	codec := NewGobCodec()
	for _, sent := range [][]byte{nil, {}, []byte("x"), make([]byte, 50)} {
		body, err := codec.Append(nil, &sent)
		require.NoError(t, err)
		var fresh []byte
		require.NoError(t, codec.Decode(body, &fresh))
		used := []byte("an earlier reply")
		zero(&used, true)
		require.NoError(t, codec.Decode(body, &used))
		unkeepBytes(&used)
		assert.Equal(t, fresh, used, "sent %q", sent)
		assert.Equal(t, fresh == nil, used == nil, "sent %q: nil, as a fresh decode leaves it", sent)
	}
}

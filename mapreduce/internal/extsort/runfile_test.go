package extsort

import (
	"bytes"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kvGroup is a decoded group, for comparisons.
type kvGroup struct {
	Key    string
	Values []string
}

func encodeRuns(tb testing.TB, parts [][]kvGroup) ([]byte, []Segment) {
	tb.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, groups := range parts {
		for _, g := range groups {
			w.Header(g.Key, len(g.Values))
			for _, v := range g.Values {
				w.Value(v)
			}
		}
		w.EndSegment()
	}
	segs, err := w.Finish()
	require.NoError(tb, err)
	return buf.Bytes(), segs
}

func decodeRun(data []byte, s Segment) ([]kvGroup, error) {
	r := NewReader(bytes.NewReader(data), s)
	var groups []kvGroup
	for r.NextGroup() {
		g := kvGroup{Key: r.Key()}
		for v, ok := r.NextValue(); ok; v, ok = r.NextValue() {
			g.Values = append(g.Values, v)
		}
		groups = append(groups, g)
	}
	return groups, r.Err()
}

func TestRunFileRoundTrip(t *testing.T) {
	t.Parallel()
	big := string(bytes.Repeat([]byte("x"), 3*WriteBufferSize))
	parts := [][]kvGroup{
		{{"", []string{""}}, {"a", []string{"1", "2"}}, {"b", []string{big}}},
		nil,
		{{"the", []string{"1", "41"}}, {"zebra\x00\xff", []string{"", "", "v"}}},
	}
	data, segs := encodeRuns(t, parts)
	require.Len(t, segs, 3)
	assert.Equal(t, int64(0), segs[1].Length)
	for p, want := range parts {
		got, err := decodeRun(data, segs[p])
		require.NoError(t, err)
		assert.Equal(t, want, got, "partition %d", p)
	}
}

func TestRunFileDocumentedEncoding(t *testing.T) {
	t.Parallel()
	data, _ := encodeRuns(t, [][]kvGroup{{{"the", []string{"1", "41"}}}})
	assert.Equal(t, []byte{3, 't', 'h', 'e', 2, 1, '1', 2, '4', '1'}, data)
}

func TestRunReaderSkipsUnreadValues(t *testing.T) {
	t.Parallel()
	data, segs := encodeRuns(t, [][]kvGroup{{{"a", []string{"1", "2", "3"}}, {"b", []string{"4"}}}})
	r := NewReader(bytes.NewReader(data), segs[0])
	require.True(t, r.NextGroup())
	v, ok := r.NextValue()
	require.True(t, ok)
	assert.Equal(t, "1", v)
	require.True(t, r.NextGroup())
	assert.Equal(t, "b", r.Key())
	require.False(t, r.NextGroup())
	require.NoError(t, r.Err())
}

func TestRunReaderRejectsDamage(t *testing.T) {
	t.Parallel()
	data, segs := encodeRuns(t, [][]kvGroup{{{"alpha", []string{"1", "2"}}, {"beta", []string{"3"}}}})
	s := segs[0]
	tests := []struct {
		name string
		data []byte
		seg  Segment
	}{
		{"flipped byte", flip(data, 3), s},
		{"truncated file", data[:len(data)-2], s},
		{"segment too short", data, Segment{Length: s.Length - 1, CRC: crc(data[:s.Length-1])}},
		{"wrong checksum", data, Segment{Length: s.Length, CRC: s.CRC + 1}},
		{"keys out of order", mustEncode(t, kvGroup{"b", []string{"1"}}, kvGroup{"a", []string{"1"}}), Segment{}},
		{"zero values", []byte{1, 'a', 0}, Segment{}},
		{"length past end", []byte{9, 'a'}, Segment{}},
		{"endless varint", bytes.Repeat([]byte{0xff}, 12), Segment{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seg := tt.seg
			if seg.Length == 0 { // a whole buffer with a correct checksum
				seg = Segment{Length: int64(len(tt.data)), CRC: crc(tt.data)}
			}
			_, err := decodeRun(tt.data, seg)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x20
	return c
}

func crc(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// mustEncode encodes groups without the writer's help, so that they can be
// out of order.
func mustEncode(tb testing.TB, groups ...kvGroup) []byte {
	var out []byte
	for _, g := range groups {
		data, _ := encodeRuns(tb, [][]kvGroup{{g}})
		out = append(out, data...)
	}
	return out
}

// FuzzRunReader feeds arbitrary bytes (with a matching checksum, so that the
// decoder itself is exercised) to the run reader: it must return groups or
// an error, never panic or allocate wildly, and what it accepts must
// re-encode to the same bytes.
func FuzzRunReader(f *testing.F) {
	data, _ := encodeRuns(f, [][]kvGroup{{{"a", []string{"1", "2"}}, {"bb", []string{""}}}})
	f.Add(data)
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		groups, err := decodeRun(data, Segment{Length: int64(len(data)), CRC: crc(data)})
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		again, _ := encodeRuns(t, [][]kvGroup{groups})
		if len(groups) == 0 {
			again = []byte{}
		}
		require.Equal(t, data, again)
	})
}

func bytesReaderAt(b []byte) *bytes.Reader { return bytes.NewReader(b) }

package trace

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		give header
	}{
		{"one node", header{from: "a", clock: VectorClock{"a": 1}}},
		{"label and big counts", header{from: "node-7", label: "KV.Put", clock: VectorClock{"node-7": 1 << 40, "b": 300, "c": 1}}},
		{"odd names", header{from: "a b\x00", label: "\xff", clock: VectorClock{"a b\x00": 2, "": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := appendHeader(nil, tt.give)
			wire = append(wire, "payload"...)
			h, payload, err := splitHeader(wire)
			require.NoError(t, err)
			assert.Equal(t, tt.give, h)
			assert.Equal(t, "payload", string(payload))
		})
	}
}

func TestHeaderCutsLongNames(t *testing.T) {
	long := strings.Repeat("x", maxNameLen+10)
	h, _, err := splitHeader(appendHeader(nil, header{from: "a", label: long, clock: VectorClock{"a": 1}}))
	require.NoError(t, err)
	assert.Len(t, h.label, maxNameLen)
}

func FuzzSplitHeader(f *testing.F) {
	f.Add(appendHeader(nil, header{from: "a", label: "m", clock: VectorClock{"a": 3, "b": 1}}))
	f.Add([]byte("\xd5tr\x01\x01a\x00\x01\x01a\x01hello"))
	f.Add([]byte("\xd5tr\x01\x01a\x00\xff\xff\xff\xff\x01"))
	f.Add([]byte("plain message"))
	f.Fuzz(func(t *testing.T, wire []byte) {
		h, payload, err := splitHeader(wire)
		if err != nil {
			if !errors.Is(err, ErrNotTraced) && !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error %v matches neither ErrNotTraced nor ErrBadHeader", err)
			}
			return
		}
		if h.clock[h.from] == 0 {
			t.Fatalf("accepted a header whose sender %q has no clock entry", h.from)
		}
		if !bytes.HasSuffix(wire, payload) {
			t.Fatalf("payload is not the end of the message")
		}
		// What decodes, encodes and decodes to the same.
		again, rest, err := splitHeader(append(appendHeader(nil, h), payload...))
		if err != nil {
			t.Fatalf("re-encoded header fails: %v", err)
		}
		if !bytes.Equal(rest, payload) || again.from != h.from || again.label != h.label || !again.clock.Equal(h.clock) {
			t.Fatalf("round trip changed the header: %+v -> %+v", h, again)
		}
	})
}

func TestPreview(t *testing.T) {
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"empty", nil, ""},
		{"text", []byte("hello"), `"hello"`},
		{"binary", []byte{0, 1, 0xff}, "0001ff"},
		{"long text", []byte(strings.Repeat("ab", 40)), `"` + strings.Repeat("ab", 16) + `"...`},
		{"cut inside a rune", []byte(strings.Repeat("a", previewLen-1) + "é and more"), `"` + strings.Repeat("a", previewLen-1) + `"...`},
		{"newline is not printable", []byte("a\nb"), "610a62"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, preview(tt.give))
		})
	}
}

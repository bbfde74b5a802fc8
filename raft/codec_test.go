package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleMessages has one message of every type, every field it carries
// set.
var sampleMessages = []Message{
	{Type: RequestVote, From: 1, To: 2, Term: 3, LastLogIndex: 10, LastLogTerm: 2, Transfer: true},
	{Type: RequestVoteReply, From: 2, To: 1, Term: 3, VoteGranted: true},
	{Type: PreVote, From: 1, To: 2, Term: 4, LastLogIndex: 1 << 40, LastLogTerm: 3},
	{Type: PreVoteReply, From: 2, To: 1, Term: 4},
	{Type: AppendEntries, From: 1, To: 3, Term: 5, PrevLogIndex: 7, PrevLogTerm: 4, LeaderCommit: 6, Round: 99,
		Entries: []Entry{{Index: 8, Term: 4, Data: []byte("x=1")}, {Index: 9, Term: 5, Type: EntryNoop}, {Index: 10, Term: 5, Data: make([]byte, 300)}}},
	{Type: AppendEntries, From: 1, To: 3, Term: 5, PrevLogIndex: 7, PrevLogTerm: 4}, // a heartbeat
	{Type: AppendEntriesReply, From: 3, To: 1, Term: 5, Success: true, PrevLogIndex: 7, MatchIndex: 10, Round: 99},
	{Type: AppendEntriesReply, From: 3, To: 1, Term: 5, PrevLogIndex: 7, ConflictIndex: 3, ConflictTerm: 2},
	{Type: InstallSnapshot, From: 1, To: 2, Term: 6, Snapshot: Snapshot{Index: 100, Term: 5, Data: []byte("state")}},
	{Type: InstallSnapshotReply, From: 2, To: 1, Term: 6, MatchIndex: 100},
	{Type: TimeoutNow, From: 1, To: 2, Term: 6},
	{Type: ReadIndex, From: 2, To: 1, Term: 6, ReadID: 1<<64 - 1},
	{Type: ReadIndexReply, From: 1, To: 2, Term: 6, ReadID: 12, Index: 100},
}

func TestMessagesSurviveARoundTrip(t *testing.T) {
	for _, m := range sampleMessages {
		b := AppendMessage(nil, m)
		got, err := DecodeMessage(b)
		require.NoError(t, err, "%v", m)
		assert.Equal(t, m, got)
	}
}

func TestEncodingIsCompact(t *testing.T) {
	heartbeat := AppendMessage(nil, Message{Type: AppendEntries, From: 1, To: 2, Term: 5, PrevLogIndex: 1000, PrevLogTerm: 5, LeaderCommit: 1000, Round: 40})
	assert.LessOrEqual(t, len(heartbeat), 16, "a heartbeat")
	batch := Message{Type: AppendEntries, From: 1, To: 2, Term: 5, PrevLogIndex: 1000, PrevLogTerm: 5}
	for i := range 100 {
		batch.Entries = append(batch.Entries, Entry{Index: 1001 + uint64(i), Term: 5, Data: make([]byte, 100)})
	}
	assert.LessOrEqual(t, len(AppendMessage(nil, batch)), 100*(100+4)+16, "100 commands of 100 bytes")
}

// Every prefix of a message is refused, and so is a message with bytes
// after it; none panics.
func TestDecodeRefusesTruncatedAndPaddedMessages(t *testing.T) {
	for _, m := range sampleMessages {
		b := AppendMessage(nil, m)
		for n := range len(b) {
			_, err := DecodeMessage(b[:n])
			require.ErrorIs(t, err, ErrInvalidMessage, "%v cut to %d bytes", m, n)
		}
		_, err := DecodeMessage(append(b, 0))
		require.ErrorIs(t, err, ErrInvalidMessage, "%v with a byte more", m)
	}
}

func TestDecodeRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		give []byte
	}{
		{"empty", nil},
		{"another version", []byte{2, byte(TimeoutNow), 1, 2, 3}},
		{"unknown type", []byte{1, 77, 1, 2, 3}},
		{"type zero", []byte{1, 0, 1, 2, 3}},
		{"bool not 0 or 1", []byte{1, byte(RequestVoteReply), 1, 2, 3, 2}},
		{"number too long", append([]byte{1, byte(TimeoutNow)}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"data longer than the message", []byte{1, byte(InstallSnapshot), 1, 2, 3, 4, 5, 100, 'x'}},
		{"more entries than bytes", []byte{1, byte(AppendEntries), 1, 2, 3, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeMessage(tt.give)
			require.ErrorIs(t, err, ErrInvalidMessage)
		})
	}
}

// FuzzDecodeMessage feeds the decoder arbitrary bytes: it must return an
// error or a message, never panic; a message must encode and decode back
// to itself; and stepping it into a server must not panic either.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages {
		f.Add(AppendMessage(nil, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidMessage)
			return
		}
		again, err := DecodeMessage(AppendMessage(nil, m))
		require.NoError(t, err)
		require.Equal(t, m, again)

		nw := newNetwork(t, 3)
		nw.elect(1)
		for _, r := range nw.rafts {
			m.To = r.ID()
			_ = r.Step(m)
			nw.ready(r.ID())
		}
	})
}

func BenchmarkAppendMessage(b *testing.B) {
	m := sampleMessages[4]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMessage(buf[:0], m)
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	buf := AppendMessage(nil, sampleMessages[4])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMessage(buf); err != nil {
			b.Fatal(err)
		}
	}
}

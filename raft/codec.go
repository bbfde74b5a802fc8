package raft

import (
	"encoding/binary"
	"fmt"
)

// The wire encoding of a Message (version 1). Numbers are unsigned
// varints (encoding/binary's Uvarint), booleans one byte (0 or 1), byte
// strings a varint length and the bytes:
//
//	version=1  type  From  To  Term  <fields of the type>
//
//	RequestVote, PreVote     LastLogIndex LastLogTerm Transfer
//	RequestVoteReply,
//	PreVoteReply             VoteGranted
//	AppendEntries            PrevLogIndex PrevLogTerm LeaderCommit Round
//	                         count { Term Type Data }   (Index implied: PrevLogIndex+1, +2, …)
//	AppendEntriesReply       Success PrevLogIndex MatchIndex ConflictIndex ConflictTerm Round
//	InstallSnapshot          Snapshot.Index Snapshot.Term Snapshot.Data
//	InstallSnapshotReply     MatchIndex
//	TimeoutNow               (nothing)
//	ReadIndex                ReadID
//	ReadIndexReply           ReadID Index
//
// Fields a type does not use are not sent, and decode as zero. A decoder
// meeting another version refuses the message, so a later version can
// change anything after the first byte.

// wireVersion is the encoding's version, its first byte.
const wireVersion = 1

// AppendMessage appends the encoding of m to b and returns the extended
// slice. Entries are encoded without their Index, which the decoder
// recomputes from PrevLogIndex (AppendEntries carries consecutive
// entries).
func AppendMessage(b []byte, m Message) []byte {
	b = append(b, wireVersion, byte(m.Type))
	b = appendUvarints(b, m.From, m.To, m.Term)
	switch m.Type {
	case RequestVote, PreVote:
		b = appendUvarints(b, m.LastLogIndex, m.LastLogTerm)
		b = appendBool(b, m.Transfer)
	case RequestVoteReply, PreVoteReply:
		b = appendBool(b, m.VoteGranted)
	case AppendEntries:
		b = appendUvarints(b, m.PrevLogIndex, m.PrevLogTerm, m.LeaderCommit, m.Round, uint64(len(m.Entries)))
		for _, e := range m.Entries {
			b = binary.AppendUvarint(b, e.Term)
			b = append(b, byte(e.Type))
			b = appendBytes(b, e.Data)
		}
	case AppendEntriesReply:
		b = appendBool(b, m.Success)
		b = appendUvarints(b, m.PrevLogIndex, m.MatchIndex, m.ConflictIndex, m.ConflictTerm, m.Round)
	case InstallSnapshot:
		b = appendUvarints(b, m.Snapshot.Index, m.Snapshot.Term)
		b = appendBytes(b, m.Snapshot.Data)
	case InstallSnapshotReply:
		b = appendUvarints(b, m.MatchIndex)
	case ReadIndex:
		b = appendUvarints(b, m.ReadID)
	case ReadIndexReply:
		b = appendUvarints(b, m.ReadID, m.Index)
	}
	return b
}

func appendUvarints(b []byte, vs ...uint64) []byte {
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendBytes(b, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// DecodeMessage decodes a message that AppendMessage encoded. The Data of
// its entries and snapshot point into b (empty Data decodes as nil). Bytes
// that are not one whole message of a known version and type return an
// error wrapping ErrInvalidMessage; nothing it allocates is larger than b.
func DecodeMessage(b []byte) (Message, error) {
	d := decoder{b: b}
	if v := d.byte("version"); d.err == nil && v != wireVersion {
		return Message{}, fmt.Errorf("%w: wire version %d, want %d", ErrInvalidMessage, v, wireVersion)
	}
	var m Message
	m.Type = MessageType(d.byte("type"))
	if d.err == nil && (m.Type == 0 || m.Type >= numMessageTypes) {
		return Message{}, fmt.Errorf("%w: unknown type %d", ErrInvalidMessage, m.Type)
	}
	m.From, m.To, m.Term = d.uvarint("From"), d.uvarint("To"), d.uvarint("Term")
	switch m.Type {
	case RequestVote, PreVote:
		m.LastLogIndex, m.LastLogTerm = d.uvarint("LastLogIndex"), d.uvarint("LastLogTerm")
		m.Transfer = d.bool("Transfer")
	case RequestVoteReply, PreVoteReply:
		m.VoteGranted = d.bool("VoteGranted")
	case AppendEntries:
		m.PrevLogIndex, m.PrevLogTerm = d.uvarint("PrevLogIndex"), d.uvarint("PrevLogTerm")
		m.LeaderCommit, m.Round = d.uvarint("LeaderCommit"), d.uvarint("Round")
		m.Entries = d.entries(m.PrevLogIndex)
	case AppendEntriesReply:
		m.Success = d.bool("Success")
		m.PrevLogIndex, m.MatchIndex = d.uvarint("PrevLogIndex"), d.uvarint("MatchIndex")
		m.ConflictIndex, m.ConflictTerm = d.uvarint("ConflictIndex"), d.uvarint("ConflictTerm")
		m.Round = d.uvarint("Round")
	case InstallSnapshot:
		m.Snapshot.Index, m.Snapshot.Term = d.uvarint("Snapshot.Index"), d.uvarint("Snapshot.Term")
		m.Snapshot.Data = d.bytes("Snapshot.Data")
	case InstallSnapshotReply:
		m.MatchIndex = d.uvarint("MatchIndex")
	case ReadIndex:
		m.ReadID = d.uvarint("ReadID")
	case ReadIndexReply:
		m.ReadID, m.Index = d.uvarint("ReadID"), d.uvarint("Index")
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%w: %d bytes after the %s", ErrInvalidMessage, len(d.b), m.Type)
	}
	if d.err != nil {
		return Message{}, d.err
	}
	return m, nil
}

// decoder reads fields from b; after the first error, it reads nothing
// more and every read returns zero, so a decode function checks once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(field, problem string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s: %s", ErrInvalidMessage, field, problem)
		d.b = nil
	}
}

func (d *decoder) byte(field string) byte {
	if len(d.b) == 0 {
		d.fail(field, "truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(field string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(field, "truncated or overlong number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bool(field string) bool {
	switch d.byte(field) {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(field, "boolean not 0 or 1")
	return false
}

func (d *decoder) bytes(field string) []byte {
	n := d.uvarint(field)
	if n > uint64(len(d.b)) {
		d.fail(field, fmt.Sprintf("length %d, but %d bytes left", n, len(d.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// entries reads a count and that many entries, numbered from prev+1.
func (d *decoder) entries(prev uint64) []Entry {
	n := d.uvarint("Entries count")
	const minEntrySize = 3 // a term, a type and a data length of one byte each
	if n > uint64(len(d.b))/minEntrySize {
		d.fail("Entries", fmt.Sprintf("%d entries in %d bytes", n, len(d.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	ents := make([]Entry, n)
	for i := range ents {
		ents[i] = Entry{Index: prev + 1 + uint64(i), Term: d.uvarint("Entry.Term"),
			Type: EntryType(d.byte("Entry.Type")), Data: d.bytes("Entry.Data")}
	}
	if d.err != nil {
		return nil
	}
	return ents
}

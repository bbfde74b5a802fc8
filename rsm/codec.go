package rsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The two encodings an RSM owns: the log entry that wraps a command, and
// the snapshot that wraps the state machine's. Both are versioned and
// decoded with bounds checks, so damaged bytes give an error, not a panic
// (FuzzDecodeEntry, FuzzDecodeSnapshot).

// entryKind says what a log entry asks of the state machine.
type entryKind byte

const (
	kindCommand entryKind = 1 // Apply, deduplicated by the client's session
	kindQuery   entryKind = 2 // Query, through the log (WithReadsThroughLog)
)

// entryVersion is the first byte of every entry this package writes.
const entryVersion = 1

// entry is one command or query as it travels through the raft log.
//
//	version kind | proposal id (16 bytes) | client seq (uvarints) | payload
//
// The proposal id is the proposing replica's random nonce and a counter:
// it lets the replica that proposed the entry find the caller waiting for
// it. (The client and sequence number cannot: a query has none, and a
// buggy client may reuse them.)
type entry struct {
	kind     entryKind
	nonce    uint64
	proposal uint64
	client   uint64
	seq      uint64
	payload  []byte
}

func (e entry) encode() []byte {
	b := make([]byte, 0, 2+16+2*binary.MaxVarintLen64+len(e.payload))
	b = append(b, entryVersion, byte(e.kind))
	b = binary.BigEndian.AppendUint64(b, e.nonce)
	b = binary.BigEndian.AppendUint64(b, e.proposal)
	b = binary.AppendUvarint(b, e.client)
	b = binary.AppendUvarint(b, e.seq)
	return append(b, e.payload...)
}

var errBadEntry = errors.New("rsm: bad log entry")

func decodeEntry(b []byte) (entry, error) {
	if len(b) < 18 || b[0] != entryVersion {
		return entry{}, fmt.Errorf("%w: %d bytes, version %v", errBadEntry, len(b), b[:min(len(b), 1)])
	}
	e := entry{kind: entryKind(b[1])}
	if e.kind != kindCommand && e.kind != kindQuery {
		return entry{}, fmt.Errorf("%w: kind %d", errBadEntry, e.kind)
	}
	e.nonce = binary.BigEndian.Uint64(b[2:])
	e.proposal = binary.BigEndian.Uint64(b[10:])
	r := reader{b: b[18:]}
	e.client, e.seq = r.uvarint(), r.uvarint()
	if r.err != nil {
		return entry{}, fmt.Errorf("%w: %w", errBadEntry, r.err)
	}
	e.payload = r.b
	return e, nil
}

// session is what the replicated state keeps of one client (Raft paper
// §8): the sequence number of its latest command, and that command's
// result, to answer a retry without applying it again.
type session struct {
	seq    uint64
	result []byte
}

// snapshotVersion is the first byte of every snapshot this package writes.
const snapshotVersion = 1

// encodeSnapshot is the replicated state: the sessions, in client order
// so that every replica writes the same bytes, then the state machine's
// own snapshot.
//
//	version | count | (client seq len result)… | state machine
func encodeSnapshot(sessions map[uint64]session, sm []byte) []byte {
	b := []byte{snapshotVersion}
	b = binary.AppendUvarint(b, uint64(len(sessions)))
	for _, c := range slices.Sorted(maps.Keys(sessions)) {
		s := sessions[c]
		b = binary.AppendUvarint(b, c)
		b = binary.AppendUvarint(b, s.seq)
		b = binary.AppendUvarint(b, uint64(len(s.result)))
		b = append(b, s.result...)
	}
	return append(b, sm...)
}

func decodeSnapshot(b []byte) (map[uint64]session, []byte, error) {
	if len(b) == 0 || b[0] != snapshotVersion {
		return nil, nil, fmt.Errorf("%w: unknown version", ErrBadSnapshot)
	}
	r := reader{b: b[1:]}
	n := r.uvarint()
	// Each session takes at least 3 bytes: a count beyond that is a lie,
	// and must not size a map.
	if r.err == nil && n > uint64(len(r.b))/3 {
		return nil, nil, fmt.Errorf("%w: %d sessions in %d bytes", ErrBadSnapshot, n, len(r.b))
	}
	sessions := make(map[uint64]session, n)
	for range n {
		c, seq := r.uvarint(), r.uvarint()
		res := r.bytes()
		if r.err != nil {
			break
		}
		sessions[c] = session{seq: seq, result: res}
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadSnapshot, r.err)
	}
	return sessions, r.b, nil
}

// reader reads uvarints and length-prefixed bytes, remembering the first
// error.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	v := slices.Clone(r.b[:n])
	r.b = r.b[n:]
	return v
}

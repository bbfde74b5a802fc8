package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/distsys-kit/distsys/raft"
)

// A record is the unit the Storage writes and recovery reads back (the
// layout is drawn in doc.go):
//
//	length (4) | crc (4) | type (1) | payload (length bytes)
//
// The integers are little-endian. The CRC-32C covers the length, the type
// and the payload, so a record whose length field was damaged fails its
// checksum instead of sending the reader off to a wrong offset unnoticed.
const headerSize = 9

// maxRecordLen bounds a record's payload. The length field could say
// 4 GiB; a Save whose batch would be bigger than this is refused, so a
// reader never needs to believe a larger length.
const maxRecordLen = 1 << 30

// recordType says what a record's payload is.
type recordType uint8

const (
	// recBatch is one Save: a hard state (zero if unchanged) and the
	// entries, consecutive from their first index. Writing a Save as one
	// record makes it all-or-nothing across a crash.
	recBatch recordType = iota + 1
	// recSnapshot is one SaveSnapshot: the snapshot's index and term, and
	// the log's last index after it (the index itself if the snapshot
	// replaced the whole log). The snapshot's data is in its own file.
	recSnapshot
	// recSnapshotFile is the contents of a snapshot file: index, term and
	// the state machine's data. It never appears in a segment.
	recSnapshotFile
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of readRecord, reported inside ErrCorrupt or as the reason a
// torn tail was cut.
var (
	errShort    = errors.New("record runs past the end of the file")
	errChecksum = errors.New("record fails its checksum")
	errType     = errors.New("record of unknown type")
)

// appendRecord appends a record of type typ carrying payload to dst.
func appendRecord(dst []byte, typ recordType, payload []byte) []byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	h[8] = byte(typ)
	binary.LittleEndian.PutUint32(h[4:8], checksum(h, payload))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

func checksum(h [headerSize]byte, payload []byte) uint32 {
	crc := crc32.Update(0, castagnoli, h[0:4])
	crc = crc32.Update(crc, castagnoli, h[8:9])
	return crc32.Update(crc, castagnoli, payload)
}

// readRecord decodes the record at the start of b. It returns the record's
// type, its payload (a sub-slice of b, not a copy) and its size in b. It
// never allocates: a length field is believed only as far as b reaches.
func readRecord(b []byte) (recordType, []byte, int, error) {
	if len(b) < headerSize {
		return 0, nil, 0, errShort
	}
	var h [headerSize]byte
	copy(h[:], b)
	n := uint64(binary.LittleEndian.Uint32(h[0:4]))
	if n > uint64(len(b)-headerSize) {
		return 0, nil, 0, errShort
	}
	payload := b[headerSize : headerSize+n]
	if binary.LittleEndian.Uint32(h[4:8]) != checksum(h, payload) {
		return 0, nil, 0, errChecksum
	}
	typ := recordType(h[8])
	if typ < recBatch || typ > recSnapshotFile {
		return 0, nil, 0, errType
	}
	return typ, payload, headerSize + int(n), nil
}

// A batch payload:
//
//	hs.Term (8) | hs.VotedFor (8) | hs.Commit (8) | first index (8) | count (4)
//	then count times: term (8) | type (1) | data length (4) | data
const (
	batchHeaderSize = 36
	entryHeaderSize = 13
)

// appendBatch appends the payload of a recBatch to dst.
func appendBatch(dst []byte, hs raft.HardState, ents []raft.Entry) []byte {
	var first uint64
	if len(ents) > 0 {
		first = ents[0].Index
	}
	dst = binary.LittleEndian.AppendUint64(dst, hs.Term)
	dst = binary.LittleEndian.AppendUint64(dst, hs.VotedFor)
	dst = binary.LittleEndian.AppendUint64(dst, hs.Commit)
	dst = binary.LittleEndian.AppendUint64(dst, first)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ents)))
	for _, e := range ents {
		dst = binary.LittleEndian.AppendUint64(dst, e.Term)
		dst = append(dst, byte(e.Type))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(e.Data)))
		dst = append(dst, e.Data...)
	}
	return dst
}

// batchSize is the length of the payload appendBatch would write.
func batchSize(ents []raft.Entry) int {
	n := batchHeaderSize
	for _, e := range ents {
		n += entryHeaderSize + len(e.Data)
	}
	return n
}

// decodeBatch decodes a recBatch payload. The entries' Data are
// sub-slices of p. It allocates no more than p's size justifies: the count
// is checked against the bytes that are there before the slice is made.
func decodeBatch(p []byte) (raft.HardState, []raft.Entry, error) {
	if len(p) < batchHeaderSize {
		return raft.HardState{}, nil, fmt.Errorf("batch of %d bytes, shorter than its header", len(p))
	}
	hs := raft.HardState{
		Term:     binary.LittleEndian.Uint64(p[0:]),
		VotedFor: binary.LittleEndian.Uint64(p[8:]),
		Commit:   binary.LittleEndian.Uint64(p[16:]),
	}
	first := binary.LittleEndian.Uint64(p[24:])
	count := uint64(binary.LittleEndian.Uint32(p[32:]))
	p = p[batchHeaderSize:]
	switch {
	case count == 0:
		if first != 0 || len(p) != 0 {
			return hs, nil, fmt.Errorf("batch of no entries from index %d with %d bytes after its header", first, len(p))
		}
		return hs, nil, nil
	case count > uint64(len(p))/entryHeaderSize:
		return hs, nil, fmt.Errorf("batch claims %d entries in %d bytes", count, len(p))
	case first == 0 || first > math.MaxUint64-count:
		return hs, nil, fmt.Errorf("batch of %d entries from index %d", count, first)
	}
	ents := make([]raft.Entry, count)
	for i := range ents {
		if len(p) < entryHeaderSize {
			return hs, nil, fmt.Errorf("entry %d of the batch is cut short", first+uint64(i))
		}
		n := uint64(binary.LittleEndian.Uint32(p[9:]))
		if n > uint64(len(p)-entryHeaderSize) {
			return hs, nil, fmt.Errorf("entry %d of the batch claims %d bytes of data, more than remain", first+uint64(i), n)
		}
		ents[i] = raft.Entry{
			Index: first + uint64(i),
			Term:  binary.LittleEndian.Uint64(p[0:]),
			Type:  raft.EntryType(p[8]),
		}
		if n > 0 { // empty Data decodes as nil, the zero Entry's
			ents[i].Data = p[entryHeaderSize : entryHeaderSize+n : entryHeaderSize+n]
		}
		p = p[entryHeaderSize+n:]
	}
	if len(p) != 0 {
		return hs, nil, fmt.Errorf("batch has %d bytes after its last entry", len(p))
	}
	return hs, ents, nil
}

// marker is the payload of a recSnapshot: SaveSnapshot's decision, written
// down so that replay repeats it without having to judge it again.
type marker struct {
	index, term uint64 // the snapshot's
	last        uint64 // the log's last index after the snapshot
}

func appendMarker(dst []byte, m marker) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, m.index)
	dst = binary.LittleEndian.AppendUint64(dst, m.term)
	return binary.LittleEndian.AppendUint64(dst, m.last)
}

func decodeMarker(p []byte) (marker, error) {
	if len(p) != 24 {
		return marker{}, fmt.Errorf("snapshot record of %d bytes, want 24", len(p))
	}
	m := marker{
		index: binary.LittleEndian.Uint64(p[0:]),
		term:  binary.LittleEndian.Uint64(p[8:]),
		last:  binary.LittleEndian.Uint64(p[16:]),
	}
	if m.index == 0 || m.last < m.index {
		return marker{}, fmt.Errorf("snapshot record at index %d with last index %d", m.index, m.last)
	}
	return m, nil
}

// encodeSnapshotFile returns a snapshot file's contents: one
// recSnapshotFile record of index, term and data.
func encodeSnapshotFile(snap raft.Snapshot) []byte {
	p := make([]byte, 0, 16+len(snap.Data))
	p = binary.LittleEndian.AppendUint64(p, snap.Index)
	p = binary.LittleEndian.AppendUint64(p, snap.Term)
	p = append(p, snap.Data...)
	return appendRecord(make([]byte, 0, headerSize+len(p)), recSnapshotFile, p)
}

// decodeSnapshotFile decodes a snapshot file's contents. The Data is a
// sub-slice of b.
func decodeSnapshotFile(b []byte) (raft.Snapshot, error) {
	typ, p, n, err := readRecord(b)
	switch {
	case err != nil:
		return raft.Snapshot{}, err
	case typ != recSnapshotFile:
		return raft.Snapshot{}, fmt.Errorf("record of type %d, not a snapshot", typ)
	case n != len(b):
		return raft.Snapshot{}, fmt.Errorf("%d bytes after the snapshot record", len(b)-n)
	case len(p) < 16:
		return raft.Snapshot{}, fmt.Errorf("snapshot record of %d bytes, shorter than its header", len(p))
	}
	return raft.Snapshot{
		Index: binary.LittleEndian.Uint64(p[0:]),
		Term:  binary.LittleEndian.Uint64(p[8:]),
		Data:  p[16:],
	}, nil
}

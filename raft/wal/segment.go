package wal

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/distsys-kit/distsys/raft"
)

// A rec is a decoded segment record, with where it came from, for error
// messages.
type rec struct {
	typ  recordType
	hs   raft.HardState // recBatch
	ents []raft.Entry   // recBatch; Data are sub-slices of the segment's bytes
	mark marker         // recSnapshot
	file string
	off  int64
}

// tornTail describes a damaged tail of the last segment that recovery
// may cut away: everything from off on.
type tornTail struct {
	off    int64
	reason error
}

// decodeSegment decodes the records of one segment file, b, named name.
//
// A record that cannot be decoded ends the segment. If the segment is the
// last one, and no valid record can be found anywhere after the damaged
// one, the damage is the torn tail of a write that a crash interrupted (a
// write that was never acknowledged, since Save fsyncs before returning),
// and decodeSegment returns it as a tornTail for recovery to cut. Anything
// else is an ErrCorrupt: damage in an older segment, or damage followed by
// valid records, is not what a crash leaves, and data after it was
// acknowledged.
//
// A record that passes its checksum but does not decode is ErrCorrupt
// wherever it is: a crash cannot produce one.
func decodeSegment(name string, b []byte, last bool) ([]rec, *tornTail, error) {
	var recs []rec
	for off := 0; off < len(b); {
		typ, payload, n, err := readRecord(b[off:])
		if err != nil {
			if !last {
				return nil, nil, corrupt(name, off, err)
			}
			if next := findRecord(b, off+1); next >= 0 {
				return nil, nil, corrupt(name, off, fmt.Errorf("%w, and a valid record follows at offset %d", err, next))
			}
			return recs, &tornTail{off: int64(off), reason: err}, nil
		}
		r := rec{typ: typ, file: name, off: int64(off)}
		switch typ {
		case recBatch:
			r.hs, r.ents, err = decodeBatch(payload)
		case recSnapshot:
			r.mark, err = decodeMarker(payload)
		default:
			err = fmt.Errorf("record of type %d in a segment", typ)
		}
		if err != nil {
			return nil, nil, corrupt(name, off, err)
		}
		recs = append(recs, r)
		off += n
	}
	return recs, nil, nil
}

// findRecord returns the offset of the first valid record in b at or
// after from, or -1. It tries every offset: the length field of the
// damaged record cannot be trusted to say where the next one starts. Most
// offsets are rejected at once, because their supposed length runs past
// the end of b.
func findRecord(b []byte, from int) int {
	for off := from; off+headerSize <= len(b); off++ {
		if _, _, _, err := readRecord(b[off:]); err == nil {
			return off
		}
	}
	return -1
}

func corrupt(file string, off int, err error) error {
	return fmt.Errorf("%w: %s at offset %d: %w", ErrCorrupt, file, off, err)
}

// parseName returns the number in a name of the form %016x.ext, and
// whether name has that form.
func parseName(name, ext string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, ext)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, err == nil && fmt.Sprintf("%016x", n) == hex
}

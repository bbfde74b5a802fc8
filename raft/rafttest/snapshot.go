package rafttest

import (
	"encoding/binary"
	"errors"
)

// The application's snapshot, as MIT's harness makes it: the index it
// stands for and every command up to it.
//
//	uvarint index | uvarint n | n times: uvarint len | command

var errBadSnapshot = errors.New("rafttest: malformed snapshot")

func encodeSnapshot(index uint64, cmds [][]byte) []byte {
	b := binary.AppendUvarint(nil, index)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, c := range cmds {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

func decodeSnapshot(b []byte) (index uint64, cmds [][]byte, err error) {
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	index, ok1 := next()
	count, ok2 := next()
	if !ok1 || !ok2 || count != index || count > uint64(len(b)) {
		return 0, nil, errBadSnapshot
	}
	cmds = make([][]byte, 0, count)
	for range count {
		l, ok := next()
		if !ok || l > uint64(len(b)) {
			return 0, nil, errBadSnapshot
		}
		cmds = append(cmds, b[:l:l])
		b = b[l:]
	}
	if len(b) != 0 {
		return 0, nil, errBadSnapshot
	}
	return index, cmds, nil
}

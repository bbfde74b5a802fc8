package kvraft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/distsys-kit/distsys/kv"
)

// opKind is what an operation does.
type opKind byte

const (
	opGet opKind = iota + 1
	opPut
	opAppend
	opPutIf
)

// op is one operation, as it travels in the log (writes) or to Query
// (Get).
//
//	kind | version (uvarint) | len key | key | value
type op struct {
	kind       opKind
	key, value string
	version    uint64
}

func (o op) encode() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(o.key)+len(o.value))
	b = append(b, byte(o.kind))
	b = binary.AppendUvarint(b, o.version)
	b = binary.AppendUvarint(b, uint64(len(o.key)))
	b = append(b, o.key...)
	return append(b, o.value...)
}

var errBadOp = errors.New("kvraft: bad operation")

func decodeOp(b []byte) (op, error) {
	if len(b) == 0 || b[0] < byte(opGet) || b[0] > byte(opPutIf) {
		return op{}, errBadOp
	}
	o := op{kind: opKind(b[0])}
	b = b[1:]
	var n int
	if o.version, n = binary.Uvarint(b); n <= 0 {
		return op{}, errBadOp
	}
	b = b[n:]
	klen, n := binary.Uvarint(b)
	if n <= 0 || klen > uint64(len(b)-n) {
		return op{}, errBadOp
	}
	b = b[n:]
	o.key, o.value = string(b[:klen]), string(b[klen:])
	return o, nil
}

// outcome is an operation's result: the key's entry after it, and
// whether the key existed (Get) or the PutIf applied.
//
//	ok (0 or 1) | version (uvarint) | value (Get only)
type outcome struct {
	ok    bool
	entry kv.Entry
}

func (r outcome) encode(withValue bool) []byte {
	b := []byte{0}
	if r.ok {
		b[0] = 1
	}
	b = binary.AppendUvarint(b, r.entry.Version)
	if withValue {
		b = append(b, r.entry.Value...)
	}
	return b
}

func decodeOutcome(b []byte) (outcome, error) {
	if len(b) == 0 || b[0] > 1 {
		return outcome{}, errBadOp
	}
	v, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return outcome{}, errBadOp
	}
	return outcome{ok: b[0] == 1, entry: kv.Entry{Version: v, Value: string(b[1+n:])}}, nil
}

// state is the replicated key-value state machine (rsm.StateMachine):
// keys to entries, the same versions as package kv. The RSM calls it from
// one goroutine at a time, so it does not lock.
type state struct {
	m map[string]kv.Entry
}

func newState() *state { return &state{m: make(map[string]kv.Entry)} }

// Apply runs a write. A command that does not decode (impossible from a
// Server) changes nothing and returns an empty result.
func (s *state) Apply(cmd []byte) []byte {
	o, err := decodeOp(cmd)
	if err != nil {
		return nil
	}
	e := s.m[o.key]
	switch o.kind {
	case opPut:
		e = kv.Entry{Value: o.value, Version: e.Version + 1}
	case opAppend:
		e = kv.Entry{Value: e.Value + o.value, Version: e.Version + 1}
	case opPutIf:
		if e.Version != o.version {
			return outcome{entry: e}.encode(false)
		}
		e = kv.Entry{Value: o.value, Version: e.Version + 1}
	default:
		return nil
	}
	s.m[o.key] = e
	return outcome{ok: true, entry: e}.encode(false)
}

// Query runs a Get.
func (s *state) Query(q []byte) []byte {
	o, err := decodeOp(q)
	if err != nil || o.kind != opGet {
		return nil
	}
	e, ok := s.m[o.key]
	return outcome{ok: ok, entry: e}.encode(true)
}

// Snapshot encodes every entry, in key order so that replicas agree
// byte for byte: count, then (len key, key, version, len value, value)…
func (s *state) Snapshot() []byte {
	b := binary.AppendUvarint(nil, uint64(len(s.m)))
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		e := s.m[k]
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, e.Version)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b
}

// Restore replaces the state with a Snapshot's.
func (s *state) Restore(data []byte) error {
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, false
		}
		data = data[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := next()
		if !ok || n > uint64(len(data)) {
			return "", false
		}
		v := string(data[:n])
		data = data[n:]
		return v, true
	}
	count, ok := next()
	if !ok || count > uint64(len(data))/3 { // an entry takes at least 3 bytes
		return fmt.Errorf("kvraft: bad snapshot: count")
	}
	m := make(map[string]kv.Entry, count)
	for range count {
		k, ok1 := str()
		ver, ok2 := next()
		val, ok3 := str()
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("kvraft: bad snapshot: entry %d of %d", len(m), count)
		}
		m[k] = kv.Entry{Value: val, Version: ver}
	}
	s.m = m
	return nil
}

package linearizability

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// Op is a key-value operation.
type Op uint8

// The operations of the key-value model.
const (
	Get Op = iota
	Put
	Append
	PutIf
)

func (o Op) String() string {
	return [...]string{"get", "put", "append", "putif"}[o]
}

// KVInput is what a client asked.
type KVInput struct {
	Op         Op
	Key, Value string
	Version    uint64 // PutIf: the version the key must be at
}

// KVOutput is what it was told. Unknown means no answer: the write may or
// may not have taken effect.
type KVOutput struct {
	Value   string // Get
	Version uint64 // the key's version after the operation (Get: at it)
	Found   bool   // Get: the key exists; PutIf: the write applied
	Unknown bool
}

// kvState is one key's state in the model.
type kvState struct {
	Value   string
	Version uint64 // 0: the key does not exist
}

// KVModel is the sequential specification of the key-value service,
// partitioned by key.
var KVModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		return step(state.(kvState), input.(KVInput), output.(KVOutput))
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(KVInput), output.(KVOutput)
		res := fmt.Sprintf("v%d", out.Version)
		switch {
		case out.Unknown:
			res = "?"
		case in.Op == Get && !out.Found:
			res = "no key"
		case in.Op == Get:
			res = fmt.Sprintf("%q v%d", out.Value, out.Version)
		case in.Op == PutIf && !out.Found:
			res = fmt.Sprintf("conflict: at v%d", out.Version)
		}
		switch in.Op {
		case Get:
			return fmt.Sprintf("get(%q) -> %s", in.Key, res)
		case PutIf:
			return fmt.Sprintf("putif(%q, %q, v%d) -> %s", in.Key, in.Value, in.Version, res)
		}
		return fmt.Sprintf("%s(%q, %q) -> %s", in.Op, in.Key, in.Value, res)
	},
	DescribeState: func(state any) string {
		s := state.(kvState)
		if s.Version == 0 {
			return "(no key)"
		}
		return fmt.Sprintf("%q v%d", s.Value, s.Version)
	},
}

// step is the model's one rule: whether out can be the answer to in in
// state s, and the state after.
func step(s kvState, in KVInput, out KVOutput) (bool, kvState) {
	next := kvState{Value: in.Value, Version: s.Version + 1}
	switch in.Op {
	case Get:
		if s.Version == 0 {
			return !out.Found, s
		}
		return out.Found && out.Value == s.Value && out.Version == s.Version, s
	case Put:
	case Append:
		next.Value = s.Value + in.Value
	case PutIf:
		if in.Version != s.Version {
			return out.Unknown || (!out.Found && out.Version == s.Version), s
		}
		if !out.Unknown && !out.Found {
			return false, s
		}
	}
	return out.Unknown || out.Version == next.Version, next
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(KVInput).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, byKey[k])
	}
	return parts
}

package linearizability_test

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"

	lin "github.com/distsys-kit/distsys/linearizability"
)

func TestLockHistoryWithLeaseLossAndFencingIsLinearizable(t *testing.T) {
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 1, 2)
	r.Write("a", 1, 3, true, 4)
	r.Grant("b", 5, 2, 6) // a's lease ran out: b is granted
	r.Write("b", 2, 7, true, 8)
	r.Write("a", 1, 9, false, 10) // a, paused, writes late: refused
	r.Write("b", 2, 11, true, 12) // the same holder writes again
	assert.Equal(t, porcupine.Ok, r.Check(t, 1, 0))
}

func TestConcurrentGrantsMayLinearizeInTokenOrder(t *testing.T) {
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 2, 4) // overlapping calls: either may have come first
	r.Grant("b", 2, 1, 3)
	assert.Equal(t, porcupine.Ok, r.Check(t, 1, 0))
}

func TestTokenReissuedAfterFailoverIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 7, 2)
	r.Grant("b", 3, 7, 4) // a new leader that forgot: the same token again
	f := &fakeTB{TB: t}
	assert.Equal(t, porcupine.Illegal, r.Check(f, 3, 0))
	assert.Len(t, f.errors, 1)
}

func TestStoreAcceptingAnOlderTokenIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 1, 2)
	r.Grant("b", 3, 2, 4)
	r.Write("b", 2, 5, true, 6)
	r.Write("a", 1, 7, true, 8) // after b's write: must be refused
	assert.Equal(t, porcupine.Illegal, r.Check(&fakeTB{TB: t}, 1, 0))
}

func TestStoreRefusingALiveTokenIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 1, 2)
	r.Write("a", 1, 3, false, 4) // nothing newer was ever written
	assert.Equal(t, porcupine.Illegal, r.Check(&fakeTB{TB: t}, 1, 0))
}

func TestWriteWithATokenNeverGrantedIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewLockRecorder()
	r.Grant("a", 1, 1, 2)
	r.Write("a", 9, 3, true, 4)
	assert.Equal(t, porcupine.Illegal, r.Check(&fakeTB{TB: t}, 1, 0))
}

package linearizability_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lin "github.com/distsys-kit/distsys/linearizability"
)

// fakeTB catches Check's failure, so that a test can expect one.
type fakeTB struct {
	testing.TB
	errors []string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Failed() bool { return len(f.errors) > 0 }

// op adds an operation from call to ret.
func op(r *lin.Recorder, client int, in lin.KVInput, call int64, out lin.KVOutput, ret int64) {
	r.Add(client, in, call, out, ret)
}

func TestStaleReadAfterACompletedPutIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewRecorder()
	op(r, 0, lin.KVInput{Op: lin.Put, Key: "x", Value: "1"}, 1, lin.KVOutput{Version: 1, Found: true}, 2)
	op(r, 1, lin.KVInput{Op: lin.Get, Key: "x"}, 3, lin.KVOutput{}, 4) // "no key", after the put returned
	f := &fakeTB{TB: t}
	assert.Equal(t, porcupine.Illegal, r.Check(f, 7, 0))
	require.Len(t, f.errors, 1)
	path := filepath.Join(lin.Dir(t, 7), lin.HTMLFile)
	assert.Contains(t, f.errors[0], path)
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(html), `get(\"x\") -\u003e no key`, "the visualisation names the operations")
}

func TestAppendAppliedTwiceIsCaught(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewRecorder()
	op(r, 0, lin.KVInput{Op: lin.Append, Key: "k", Value: "a"}, 1, lin.KVOutput{Version: 1, Found: true}, 2)
	op(r, 0, lin.KVInput{Op: lin.Get, Key: "k"}, 3, lin.KVOutput{Value: "aa", Version: 2, Found: true}, 4)
	f := &fakeTB{TB: t}
	assert.Equal(t, porcupine.Illegal, r.Check(f, 1, 0))
}

func TestConcurrentOperationsMayTakeEitherOrder(t *testing.T) {
	r := lin.NewRecorder()
	// The put and the get overlap: the get may see it or not.
	op(r, 0, lin.KVInput{Op: lin.Put, Key: "x", Value: "1"}, 1, lin.KVOutput{Version: 1, Found: true}, 4)
	op(r, 1, lin.KVInput{Op: lin.Get, Key: "x"}, 2, lin.KVOutput{}, 3)
	op(r, 2, lin.KVInput{Op: lin.Get, Key: "x"}, 2, lin.KVOutput{Value: "1", Version: 1, Found: true}, 3)
	assert.Equal(t, porcupine.Ok, r.Check(t, 1, 0))
}

func TestUnknownWriteMayHappenOrNot(t *testing.T) {
	r := lin.NewRecorder()
	op(r, 0, lin.KVInput{Op: lin.Put, Key: "x", Value: "1"}, 1, lin.KVOutput{Unknown: true}, 2)
	op(r, 1, lin.KVInput{Op: lin.Get, Key: "x"}, 3, lin.KVOutput{}, 4)
	op(r, 1, lin.KVInput{Op: lin.Get, Key: "x"}, 5, lin.KVOutput{Value: "1", Version: 1, Found: true}, 6)
	assert.Equal(t, porcupine.Ok, r.Check(t, 1, 0), "a write with no answer may take effect late")
}

func TestPutIfConflictMustNameTheVersion(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	r := lin.NewRecorder()
	op(r, 0, lin.KVInput{Op: lin.Put, Key: "x", Value: "1"}, 1, lin.KVOutput{Version: 1, Found: true}, 2)
	op(r, 0, lin.KVInput{Op: lin.PutIf, Key: "x", Value: "2", Version: 1}, 3, lin.KVOutput{Version: 2, Found: true}, 4)
	op(r, 0, lin.KVInput{Op: lin.PutIf, Key: "x", Value: "3", Version: 1}, 5, lin.KVOutput{Version: 2}, 6)
	assert.Equal(t, porcupine.Ok, r.Check(t, 1, 0))
	op(r, 1, lin.KVInput{Op: lin.PutIf, Key: "x", Value: "4", Version: 1}, 7, lin.KVOutput{Version: 3, Found: true}, 8)
	assert.Equal(t, porcupine.Illegal, r.Check(&fakeTB{TB: t}, 1, 0), "a PutIf at an old version cannot apply")
}

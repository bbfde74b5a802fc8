package kvraft_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/kvraft"
)

// fakeTB catches the checker's failure, which this test expects.
type fakeTB struct {
	testing.TB
	errors []string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Failed() bool { return len(f.errors) > 0 }

// With duplicate detection off, a clerk that resends an append after a
// lost reply gets it applied twice; porcupine must see it. (The same
// workload with detection on is TestUnreliable, which passes.)
func TestCheckerCatchesDuplicateAppendsWithoutSessions(t *testing.T) {
	t.Setenv("DISTSYS_TRACE_DIR", t.TempDir())
	var w *world
	synctest.Test(t, func(t *testing.T) {
		w = newWorld(t, 1, 3, false, kvraft.Config{})
		for _, s := range w.servers {
			kvraft.DisableDuplicateDetection(s)
		}
		require.NoError(t, w.net.SetDefaultFaults(lossy))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for i := range 3 {
			ck := w.clerk()
			wg.Go(func() {
				for j := 0; ctx.Err() == nil; j++ {
					_, _ = ck.Append(ctx, "k", fmt.Sprintf("(%d %d)", i, j))
					_, _, _ = ck.Get(ctx, "k")
				}
			})
		}
		wg.Wait()
	})
	f := &fakeTB{TB: t}
	assert.Equal(t, porcupine.Illegal, w.rec.Check(f, 1, 0), "%d operations", len(w.rec.History()))
}

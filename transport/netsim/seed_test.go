package netsim_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// fakeTB records what LogSeedOnFailure does with a test. Embedding
// testing.TB supplies the methods it does not use.
type fakeTB struct {
	testing.TB
	failed   bool
	logs     []string
	cleanups []func()
}

func (f *fakeTB) Helper()                      {}
func (f *fakeTB) Failed() bool                 { return f.failed }
func (f *fakeTB) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Logf(format string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }

func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestLogSeedOnFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		failed bool
		want   []string
	}{
		{"Passed", false, nil},
		{"Failed", true, []string{"netsim: the network's seed was 1234; NewNetwork(1234, ...) replays its faults"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := netsim.NewNetwork(1234)
			defer n.Close()
			tb := &fakeTB{failed: tt.failed}
			n.LogSeedOnFailure(tb)
			assert.Empty(t, tb.logs, "nothing is logged before the test ends")
			tb.finish()
			assert.Equal(t, tt.want, tb.logs)
			assert.EqualValues(t, 1234, n.Seed())
		})
	}
}

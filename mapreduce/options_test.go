package mapreduce

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOptionsApplyWhereTheySay checks each option's kinds against the
// table in options.go. The static types make a misplaced option fail to
// compile; this checks that no option's value quietly carries a method
// for a place where it would do nothing.
func TestOptionsApplyWhereTheySay(t *testing.T) {
	tests := []struct {
		name                     string
		opt                      any
		coordinator, worker, run bool
	}{
		{"WithTimeout", WithTimeout(0), true, true, true},
		{"WithLogger", WithLogger(nil), true, true, true},
		{"WithRPCOptions", WithRPCOptions(), true, true, true},
		{"WithRPCServerOptions", WithRPCServerOptions(), true, true, true},
		{"WithRPCClientOptions", WithRPCClientOptions(), false, true, true},
		{"WithMaxAttempts", WithMaxAttempts(0), true, false, true},
		{"WithBackupTasks", WithBackupTasks(true), true, false, true},
		{"WithSharedDir", WithSharedDir(""), true, false, true},
		{"WithProgress", WithProgress(nil), true, false, true},
		{"WithMinWorkers", WithMinWorkers(0), true, false, false},
		{"WithMemoryLimit", WithMemoryLimit(0), false, true, true},
		{"WithScratchDir", WithScratchDir(""), false, true, true},
		{"WithFaults", WithFaults(nil), false, true, true},
		{"WithListener", WithListener(nil), false, true, false},
		{"WithDialer", WithDialer(nil), false, true, false},
		{"WithWorkers", WithWorkers(0), false, false, true},
		{"WithNetwork", WithNetwork(nil), false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := tt.opt.(CoordinatorOption)
			_, w := tt.opt.(WorkerOption)
			_, r := tt.opt.(RunOption)
			assert.Equal(t, []bool{tt.coordinator, tt.worker, tt.run}, []bool{c, w, r}, "NewCoordinator, RunWorker, Run")
		})
	}
}

func TestRunPassesOptionsToItsCoordinatorAndWorkers(t *testing.T) {
	o := newRunOptions([]RunOption{WithTimeout(7), WithMaxAttempts(9), WithMemoryLimit(11), WithWorkers(3)})
	assert.Equal(t, 3, o.workers)
	assert.Equal(t, 9, o.coordinator.maxAttempts)
	assert.Equal(t, 11, o.worker.memLimit)
	assert.EqualValues(t, 7, o.coordinator.timeout, "an Option reaches the coordinator")
	assert.EqualValues(t, 7, o.worker.timeout, "and the workers")
}

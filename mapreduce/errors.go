package mapreduce

import (
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

var (
	// ErrInvalidJob is returned by RunSequential, Run and NewCoordinator for
	// a Job that cannot run (no Map, no output directory, ...). The message
	// names the field.
	ErrInvalidJob = errors.New("mapreduce: invalid job")

	// ErrJobFailed is returned by Run and Coordinator.Wait when a task
	// failed too many times (see WithMaxAttempts). The error also matches
	// a *TaskError, which names the task and holds its last error.
	ErrJobFailed = errors.New("mapreduce: job failed")

	// ErrClosed is returned by Coordinator.Wait when the coordinator is
	// closed before the job ends, by Coordinator.Serve after Close, and
	// by a closed coordinator to the workers that call it.
	ErrClosed = errors.New("mapreduce: closed")

	// ErrCoordinatorLost is returned by RunWorker when the coordinator
	// has not answered for the failure timeout: it crashed, or the network
	// cut the worker off. (A coordinator that shuts down in an orderly way
	// says goodbye, and its workers return nil.)
	ErrCoordinatorLost = errors.New("mapreduce: coordinator lost")

	// ErrUnknownWorker is returned by the coordinator to a worker it has
	// declared lost (it missed its heartbeats). The worker registers again,
	// as a new worker.
	ErrUnknownWorker = errors.New("mapreduce: unknown worker")

	// ErrWrongJob is returned by RunWorker when the coordinator runs a
	// job the worker was not given.
	ErrWrongJob = errors.New("mapreduce: coordinator runs a job this worker does not know")

	// errCorrupt is returned by the readers of intermediate files whose
	// bytes do not decode, or whose checksum does not match.
	errCorrupt = extsort.ErrCorrupt

	// errCoordinatorGone stops a worker whose coordinator shut down in an
	// orderly way; RunWorker then returns nil (see heartbeat.go).
	errCoordinatorGone = errors.New("mapreduce: the coordinator shut down")

	// errCancelled stops a task attempt that the coordinator cancelled
	// (another attempt won) or whose worker is closing.
	errCancelled = errors.New("mapreduce: task attempt cancelled")
)

// A TaskError reports a task that failed on every attempt the job allowed.
// Run and Coordinator.Wait return it wrapped with ErrJobFailed.
type TaskError struct {
	Kind     TaskKind // MapTask or ReduceTask
	Index    int      // the task's number within its kind
	Attempts int      // how many attempts failed
	Msg      string   // the last attempt's error, with a panic's message
}

// jobFailed returns the job's error for a task that failed for good.
func jobFailed(kind TaskKind, index, attempts int, msg string) error {
	return fmt.Errorf("%w: %w", ErrJobFailed, &TaskError{Kind: kind, Index: index, Attempts: attempts, Msg: msg})
}

// Error says which task failed, how often, and why.
func (e *TaskError) Error() string {
	if e.Attempts == 1 {
		return fmt.Sprintf("%v task %d failed: %s", e.Kind, e.Index, e.Msg)
	}
	return fmt.Sprintf("%v task %d failed %d times, last: %s", e.Kind, e.Index, e.Attempts, e.Msg)
}

package mapreduce

import (
	"maps"
	"slices"
)

// Counters maps counter names to values: the built-in counters named by
// the Counter constants, and the user's, added with Emitter.Count.
//
// Task counters are counted exactly once per task: only the attempt whose
// output was committed contributes. A failed attempt, the loser of a
// backup race, and a map attempt whose output was lost with its worker (and
// so was run again) add nothing, even though their functions ran. The job
// counters (attempts, re-executions, backups, lost workers) count what the
// coordinator did, failures included.
type Counters map[string]int64

// Names returns the counter names in sorted order.
func (c Counters) Names() []string { return slices.Sorted(maps.Keys(c)) }

// add adds every counter of d to c.
func (c Counters) add(d Counters) {
	for k, v := range d {
		c[k] += v
	}
}

// Built-in task counters, counted from committed attempts.
const (
	CounterMapInputRecords     = "map input records"     // lines given to Map
	CounterMapInputBytes       = "map input bytes"       // bytes given to Map
	CounterMapOutputRecords    = "map output records"    // pairs emitted by Map
	CounterMapOutputBytes      = "map output bytes"      // bytes of keys and values emitted by Map
	CounterCombineInputRecords = "combine input records" // values given to Combine
	CounterCombineOutputValues = "combine output values" // values returned by Combine
	CounterSpills              = "map spills"            // sorted runs written to disk by map tasks
	CounterShuffleBytes        = "reduce shuffle bytes"  // intermediate bytes reducers fetched from other workers
	CounterReduceInputGroups   = "reduce input groups"   // keys given to Reduce
	CounterReduceInputRecords  = "reduce input records"  // values given to Reduce
	CounterReduceOutputRecords = "reduce output records" // lines written by Reduce
	CounterReduceOutputBytes   = "reduce output bytes"   // bytes written by Reduce
)

// Built-in job counters, counted by the coordinator.
const (
	CounterMapTasks       = "map tasks"       // map tasks in the job
	CounterReduceTasks    = "reduce tasks"    // reduce tasks in the job
	CounterAttempts       = "task attempts"   // attempts started, all kinds
	CounterReexecutions   = "re-executions"   // attempts started because an earlier one failed, was lost or stalled
	CounterBackupTasks    = "backup tasks"    // backup attempts started near the end of a phase
	CounterFailedAttempts = "failed attempts" // attempts that panicked, failed or stalled
	CounterLostWorkers    = "lost workers"    // workers declared dead
)

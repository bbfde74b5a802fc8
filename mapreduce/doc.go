// Package mapreduce runs MapReduce jobs, as described in Dean and
// Ghemawat's paper (OSDI 2004): on one goroutine, on goroutines of one
// process, on processes of one program, or across machines, and it
// survives the failures the paper survives.
//
// # The model
//
// A Job names a Map, a Reduce, its inputs and the number of reduce tasks,
// R. The input files are cut into splits (Job.SplitSize, on line
// boundaries); each split is one map task, which calls Map on it. Map emits
// intermediate key/value pairs; a Partition function (hash of the key mod
// R by default) sends each pair to one of the R reduce tasks. A reduce task
// calls Reduce once per key, in key order, with a stream of all the values
// emitted for it, and writes what Reduce emits to its output file,
// OutputDir/part-0000r, one "key\tvalue" line per Emit. An optional Combine
// pre-reduces on the map side, so that a word count ships one partial count
// per word and map task instead of one "1" per occurrence.
//
//	input splits      map tasks          intermediate runs      reduce tasks      output
//	in.txt[0:16M]  ─► Map ─► sort, spill ─► segment 0 ─┐
//	                                     └─► segment 1 ─┼──┐
//	in.txt[16M:]   ─► Map ─► sort, spill ─► segment 0 ─┘  │  ► merge ─► Reduce ─► part-00000
//	                                     └─► segment 1 ───┴──► merge ─► Reduce ─► part-00001
//
// Memory does not grow with the input. A map task buffers its output up to
// a limit (WithMemoryLimit), then sorts it and spills it to disk as a run,
// and at the end merges its runs into one file with a segment per reduce
// task; a reduce task merges the segments of every map task and streams
// each key's values to Reduce from disk. Intermediate data is a compact
// binary encoding with a checksum per segment, not JSON. (This external
// sort is in mapreduce/internal/extsort; this package is the job, the
// scheduler, the coordinator and the workers.)
//
// # Three ways to run a job, one code path
//
// RunSequential is the oracle: it runs the job in the calling goroutine,
// in memory, and the tests check that every other way produces the same
// bytes. Run starts a coordinator and workers in this process, connected
// by rpc over loopback TCP or over a simulated network (WithNetwork, for
// instance a *netsim.Network, whose crashes and partitions then apply).
// Main makes one program play any role, so that
//
//	prog coordinator -listen :7070 -workers 3 in/*.txt
//	prog worker -coordinator host:7070          (on as many machines as you like)
//
// run the job across processes or machines (the coordinator hands out no
// task before three workers have joined: WithMinWorkers), with no Go
// plugins and no shared file system: each worker keeps its map output on
// its own disk and serves it to the reducers over rpc (WithSharedDir puts
// it on a shared file system instead). NewCoordinator and RunWorker are
// the same pieces, for programs that want to wire them themselves.
//
// # Failures, and what is done about them
//
// The coordinator pings no one: workers ask it for work, and heartbeat
// every timeout/10 (WithTimeout; 10 s by default), saying how far their
// current attempt has got.
//
//   - A worker not heard from for the timeout is lost. Its running task is
//     re-executed elsewhere, and so are its completed map tasks, whose
//     output was on its disk and is now out of reach (not with a shared
//     directory, and not once every reduce task is done). A reducer that
//     cannot fetch a map task's output reports it, and that map task runs
//     again too. If the worker serving it could not be reached at all
//     (no answer, a lost connection or a refused dial, twice in a row, or
//     no reply within the timeout; or its server saying goodbye), the
//     report is a confirmed loss: that worker is declared lost at once,
//     as if silent for the timeout, and all its work is redone in one
//     step. An answer, even an error, or data failing its checksum, redoes
//     only that output. (A worker cut off from one reducer only is thus
//     given up; it registers again at its next request.)
//   - A task attempt whose worker is alive (it heartbeats) but which makes
//     no progress for the timeout has stalled: it is abandoned and counts
//     as a failure. Progress is any Emit or Count, and the framework's own
//     steps (map output fetched, a key or value merged); a Map that
//     computes for longer than the timeout without emitting should call
//     Count now and then. An attempt whose Map, Reduce or Combine panics
//     fails too; the panic's message, and where it happened, are in the
//     error. A task that fails WithMaxAttempts times (4) fails the job,
//     with that error in a *TaskError. Attempts lost with their worker do
//     not count: it was not the task's fault. But when workers die faster
//     than the job progresses, it could go on for ever, so the job fails
//     when more attempts and map outputs have been lost with their
//     workers than 32 × WithMaxAttempts per task (128 by default), counted
//     over the whole job. FaultRates.Attempts limits injected faults to a
//     task's first attempts.
//   - Near the end of each phase, when no task waits, idle workers run
//     backup copies of tasks that have run more than twice as long as the
//     phase's average (WithBackupTasks, on by default). The first copy to
//     finish wins; the others are cancelled. In the paper, a sort without
//     them took 44% longer.
//   - The coordinator itself is not replicated, as in the paper: if it
//     dies, the workers notice within about a timeout, exit with
//     ErrCoordinatorLost, and the job must be started again. A
//     coordinator that shuts down in an orderly way (the job is over, or
//     its owner closed it) says goodbye, and its workers return nil at
//     once: they have nothing left to do. Once the job is over,
//     Coordinator.Shutdown (and so Run) waits for the workers to hear it,
//     but not for one silent for more than two heartbeats: it has
//     probably crashed, and waiting would take the timeout.
//
// # What "exactly once" means here
//
// User functions may run more than once: a map task runs again when its
// worker is lost, backup copies race, a stalled attempt may still be
// running when its replacement starts. What happens exactly once is the
// commit of each task's output:
//
//   - Map output becomes visible only when the coordinator records an
//     attempt's report, and the coordinator records one attempt per task
//     at a time (the first to report; later ones are discarded, unless
//     the recorded output is lost with its worker and the task runs
//     again). Reducers read only the recorded attempt's output.
//   - A reduce attempt writes its output under a temporary name, then asks
//     the coordinator for the commit; only one running attempt is granted
//     it, and that attempt renames its file into place, atomically. A
//     reader of OutputDir sees each part file whole, from one attempt, or
//     not at all. (An attempt granted the commit whose worker is then cut
//     off and given up for lost may still rename its file after its
//     replacement did: the file is replaced, atomically, by another whole
//     one.)
//   - Counters are counted from one attempt per task: the one whose output
//     counts. A failed attempt, a backup that lost its race, a map attempt
//     that panicked half-way add nothing.
//
// So if Map and Reduce are deterministic functions of their input, with no
// side effects other than what they emit, the output of a job that
// succeeds is the output of a sequential execution, byte for byte, however
// many workers crashed. Side effects of user functions (writing files,
// printing, updating variables) happen once per execution, not once per
// task. If the functions are not deterministic, each part file is still the
// output of one attempt of its reduce task, but different part files may
// have seen different executions of a map task: the paper's weaker
// guarantee.
//
// Within a reduce task, keys come in byte order; without a Combine, a
// key's values come in input order (by map task, then by order of
// emission), so a grep's matches stay in file order. With a Combine they
// are partial results in no guaranteed order.
//
// # Options
//
// Options come in kinds, by where they apply, so that an option given
// where it would do nothing does not compile:
//
//	kind               NewCoordinator  RunWorker  Run   options
//	Option                   ✓             ✓        ✓    WithTimeout, WithLogger, WithRPCOptions, WithRPCServerOptions
//	JobOption                ✓                      ✓    WithMaxAttempts, WithBackupTasks, WithSharedDir, WithProgress
//	CoordinatorOption        ✓                           WithMinWorkers
//	TaskOption                             ✓        ✓    WithMemoryLimit, WithScratchDir, WithFaults, WithRPCClientOptions
//	WorkerOption                           ✓             WithListener, WithDialer
//	RunOption                                       ✓    WithWorkers, WithNetwork, WithCoordinator
//
// Run passes the job and task options on to its coordinator and workers.
// It has no use for WithMinWorkers (it waits for all its workers) nor for
// WithListener and WithDialer (its workers are on its Network).
//
// # Watching a job
//
// Coordinator.Status returns every task with its attempts, every worker,
// and the counters; Coordinator.Handler serves them as a web page and as
// JSON; WithProgress calls a function as the job advances. Counters holds
// the built-in counters (records, bytes, spills, tasks, attempts,
// re-executions, backups, lost workers) and the user's (Emitter.Count).
//
// # Walkthrough
//
// A word count over every file in a directory, with four workers:
//
//	job := mapreduce.Job{
//		Name:      "wordcount",
//		Inputs:    files,
//		NReduce:   4,
//		OutputDir: "out",
//		Map: func(name, contents string, out mapreduce.Emitter) {
//			for _, w := range strings.Fields(contents) {
//				out.Emit(w, "1")
//			}
//		},
//		Reduce: func(word string, counts iter.Seq[string], out mapreduce.Emitter) {
//			out.Emit(word, strconv.Itoa(sum(counts)))
//		},
//		Combine: func(word string, counts iter.Seq[string]) string {
//			return strconv.Itoa(sum(counts))
//		},
//	}
//	res, err := mapreduce.Run(ctx, job, mapreduce.WithWorkers(4))
//	// res.Outputs: out/part-00000 ... out/part-00003
//	// res.Counters[mapreduce.CounterReexecutions]: how many attempts ran again
//
// The same job as separate processes: call Main from the program's main,
// then run "prog coordinator -http :8080 files..." and, anywhere,
// "prog worker -coordinator host:7070"; the status page is on port 8080.
package mapreduce

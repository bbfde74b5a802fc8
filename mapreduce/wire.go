package mapreduce

import "github.com/distsys-kit/distsys/mapreduce/internal/extsort"

// The messages between workers and the coordinator, and between workers.
// They are plain structs with exported fields (the rpc package refuses
// anything else, rather than send it half). The conversation:
//
//	worker                                coordinator
//	  │── Coordinator.Register ──────────────►│  worker id, job settings
//	  │── Coordinator.GetTask ───────────────►│  (held until there is work,
//	  │◄───────────── map 3, attempt 1 ───────│   or a heartbeat passes)
//	  │── Coordinator.Heartbeat (progress) ──►│  every timeout/10
//	  │◄────────────────────── cancel? ───────│
//	  │── Coordinator.Done (output, counters)►│
//	  │── Coordinator.GetTask ───────────────►│
//	  │◄──── reduce 0, attempt 1, map outputs │
//	  │── Worker.Fetch ──► other workers      │  pull map output segments
//	  │── Coordinator.Commit ────────────────►│  may I rename my output?
//	  │── Coordinator.Done ──────────────────►│
//	  │── Coordinator.GetTask ───────────────►│
//	  │◄──────────────────────────── exit ────│

// coordinatorService and workerService are the rpc service names.
const (
	coordinatorService = "Coordinator"
	workerService      = "Worker"
)

type registerArgs struct {
	Addr string   // where the worker serves its map output
	Jobs []string // the names of the jobs the worker can run
}

type registerReply struct {
	Worker    int
	Job       string // the name of the job to run
	NReduce   int
	OutputDir string
	SharedDir string // map output goes here if not empty
	Timeout   int64  // the failure timeout, in nanoseconds
}

type workerArgs struct {
	Worker int
}

type taskReply struct {
	Kind  assignKind
	Task  attemptRef
	Split split       // a map task's input
	Maps  []mapOutput // for a reduce task: every map task's output, in order
}

type heartbeatArgs struct {
	Worker   int
	Running  *attemptRef // nil if idle
	Progress int64
}

type heartbeatReply struct {
	Cancel bool // abandon the running attempt
}

// doneArgs reports how an attempt ended.
type doneArgs struct {
	Worker   int
	Task     attemptRef
	Err      string    // not empty: the attempt failed
	Output   mapOutput // a map attempt's output
	Counters Counters

	// FetchFailed says that a reduce attempt could not fetch FailedOutput,
	// the output of map task FailedMap; Unreachable, that the worker
	// serving it could not be reached at all (a confirmed failure).
	FetchFailed  bool
	FailedMap    int
	FailedOutput mapOutput
	Unreachable  bool
}

type commitArgs struct {
	Worker int
	Task   attemptRef
}

type commitReply struct {
	Granted bool
}

type empty struct{}

// fetchArgs asks a worker for part of a segment of one of its map outputs:
// Max bytes from offset Pos within the segment.
type fetchArgs struct {
	Path string
	Seg  extsort.Segment
	Pos  int64
	Max  int
}

type fetchReply struct {
	Data []byte
}

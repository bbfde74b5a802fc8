package mapreduce

import (
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// DefaultTimeout is the failure timeout unless WithTimeout says otherwise:
// a worker silent for this long is lost, and an attempt without progress
// for this long has stalled. It is MIT's lab's 10 s.
const DefaultTimeout = 10 * time.Second

// DefaultMaxAttempts is how many failed attempts a task may have before the
// job fails, unless WithMaxAttempts says otherwise. It is Hadoop's 4.
const DefaultMaxAttempts = 4

// A CoordinatorOption configures NewCoordinator.
type CoordinatorOption interface {
	applyCoordinator(*coordinatorOptions)
}

// A WorkerOption configures RunWorker.
type WorkerOption interface {
	applyWorker(*workerOptions)
}

// A RunOption configures Run.
type RunOption interface {
	applyRun(*runOptions)
}

// A JobOption configures the coordinator: NewCoordinator's, or Run's.
type JobOption interface {
	CoordinatorOption
	RunOption
}

// A TaskOption configures how a worker runs its tasks: RunWorker's
// worker, or each of Run's.
type TaskOption interface {
	WorkerOption
	RunOption
}

// An Option configures the coordinator and the workers alike: it applies
// to NewCoordinator, RunWorker and Run.
type Option interface {
	CoordinatorOption
	WorkerOption
	RunOption
}

// commonOptions are the settings of coordinators and workers alike.
type commonOptions struct {
	timeout time.Duration
	logger  *slog.Logger
	// rpcServer and rpcClient are handed to every rpc server this side
	// starts and every rpc client it dials.
	rpcServer []rpc.ServerOption
	rpcClient []rpc.DialOption
}

// heartbeat is how often workers report to the coordinator, and how long
// a worker's request for work waits at most before it is answered "wait".
func (o *commonOptions) heartbeat() time.Duration { return max(o.timeout/10, time.Millisecond) }

func defaultCommon() commonOptions {
	return commonOptions{timeout: DefaultTimeout, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

type coordinatorOptions struct {
	commonOptions
	minWorkers  int
	maxAttempts int
	backups     bool
	sharedDir   string
	progress    func(Progress)
}

func newCoordinatorOptions(opts []CoordinatorOption) coordinatorOptions {
	o := coordinatorOptions{commonOptions: defaultCommon(), maxAttempts: DefaultMaxAttempts, backups: true}
	for _, opt := range opts {
		opt.applyCoordinator(&o)
	}
	return o
}

type workerOptions struct {
	commonOptions
	memLimit int
	scratch  string
	faults   FaultHook
	listener transport.Listener
	dialer   transport.Dialer
}

func newWorkerOptions(opts []WorkerOption) workerOptions {
	o := workerOptions{commonOptions: defaultCommon(), memLimit: DefaultMemoryLimit}
	for _, opt := range opts {
		opt.applyWorker(&o)
	}
	return o
}

type runOptions struct {
	workers     int
	network     Network
	coordinator coordinatorOptions
	worker      workerOptions
	// onCoordinator is WithCoordinator's fn.
	onCoordinator func(*Coordinator)
}

func newRunOptions(opts []RunOption) runOptions {
	o := runOptions{
		workers:     runtime.GOMAXPROCS(0),
		network:     loopbackTCP{},
		coordinator: newCoordinatorOptions(nil),
		worker:      newWorkerOptions(nil),
	}
	for _, opt := range opts {
		opt.applyRun(&o)
	}
	return o
}

// The adapters from functions to the kinds of option.
type (
	commonFunc      func(*commonOptions)      // an Option
	jobFunc         func(*coordinatorOptions) // a JobOption
	coordinatorFunc func(*coordinatorOptions) // a CoordinatorOption
	taskFunc        func(*workerOptions)      // a TaskOption
	workerFunc      func(*workerOptions)      // a WorkerOption
	runFunc         func(*runOptions)         // a RunOption
)

var (
	_ Option            = commonFunc(nil)
	_ JobOption         = jobFunc(nil)
	_ CoordinatorOption = coordinatorFunc(nil)
	_ TaskOption        = taskFunc(nil)
	_ WorkerOption      = workerFunc(nil)
	_ RunOption         = runFunc(nil)
)

func (f commonFunc) applyCoordinator(o *coordinatorOptions) { f(&o.commonOptions) }
func (f commonFunc) applyWorker(o *workerOptions)           { f(&o.commonOptions) }
func (f commonFunc) applyRun(o *runOptions) {
	f(&o.coordinator.commonOptions)
	f(&o.worker.commonOptions)
}
func (f jobFunc) applyCoordinator(o *coordinatorOptions)         { f(o) }
func (f jobFunc) applyRun(o *runOptions)                         { f(&o.coordinator) }
func (f coordinatorFunc) applyCoordinator(o *coordinatorOptions) { f(o) }
func (f taskFunc) applyWorker(o *workerOptions)                  { f(o) }
func (f taskFunc) applyRun(o *runOptions)                        { f(&o.worker) }
func (f workerFunc) applyWorker(o *workerOptions)                { f(o) }
func (f runFunc) applyRun(o *runOptions)                         { f(o) }

// WithTimeout sets the failure timeout: a worker the coordinator has not
// heard from for d is lost; a task attempt that has made no progress for d
// (read, fetched, merged or emitted nothing, and called no Count) while
// its worker heartbeats has stalled and counts as failed; a worker that
// cannot reach its coordinator for d gives up. Workers send heartbeats
// every d/10. Zero or negative means DefaultTimeout. Give the coordinator
// and its workers the same timeout.
func WithTimeout(d time.Duration) Option {
	return commonFunc(func(o *commonOptions) {
		if d <= 0 {
			d = DefaultTimeout
		}
		o.timeout = d
	})
}

// WithLogger makes the coordinator and workers log what they do (tasks
// handed out and finished, workers lost, faults injected) to l. The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return commonFunc(func(o *commonOptions) { o.logger = l })
}

// WithRPCOptions passes options that both sides must agree on
// (rpc.WithCodec, rpc.WithErrors) to the rpc clients and servers of the
// coordinator and workers. To keep strangers out of a job that runs
// across machines, sign its connections instead: serve the coordinator on
// a transport.NewSignedListener, and give workers WithListener and
// WithDialer wrapped by transport.NewSignedListener and NewSignedDialer.
func WithRPCOptions(opts ...rpc.Option) Option {
	return commonFunc(func(o *commonOptions) {
		for _, opt := range opts {
			o.rpcServer = append(o.rpcServer, opt)
			o.rpcClient = append(o.rpcClient, opt)
		}
	})
}

// WithRPCServerOptions passes options to the rpc servers of the
// coordinator and workers (limits, interceptors, a logger).
func WithRPCServerOptions(opts ...rpc.ServerOption) Option {
	return commonFunc(func(o *commonOptions) { o.rpcServer = append(o.rpcServer, opts...) })
}

// WithRPCClientOptions passes options to the rpc clients the workers dial
// (to the coordinator and to other workers).
func WithRPCClientOptions(opts ...rpc.DialOption) TaskOption {
	return taskFunc(func(o *workerOptions) { o.rpcClient = append(o.rpcClient, opts...) })
}

// WithMaxAttempts sets how many attempts of one task may fail (panic,
// return an error, stall) before the job fails. Attempts lost with their
// worker do not count. Zero or negative means DefaultMaxAttempts.
func WithMaxAttempts(n int) JobOption {
	return jobFunc(func(o *coordinatorOptions) {
		if n <= 0 {
			n = DefaultMaxAttempts
		}
		o.maxAttempts = n
	})
}

// WithBackupTasks switches backup tasks on or off (on by default). See
// the package documentation.
func WithBackupTasks(on bool) JobOption {
	return jobFunc(func(o *coordinatorOptions) { o.backups = on })
}

// WithSharedDir puts map output in dir, a directory every worker reads and
// writes under the same path (a shared file system), instead of on the
// disk of the worker that made it. Reducers then read it directly rather
// than fetch it over rpc, and a lost worker's completed map tasks need not
// run again. The job uses a subdirectory of its own, which the
// coordinator's Close removes. The workers learn it from the coordinator.
func WithSharedDir(dir string) JobOption {
	return jobFunc(func(o *coordinatorOptions) { o.sharedDir = dir })
}

// WithProgress sets a function the coordinator calls as the job advances.
// Calls come from one goroutine, one at a time; if fn is slow,
// intermediate states are skipped (fn always sees the latest, and the
// final one). fn must not call the Coordinator's blocking methods.
func WithProgress(fn func(Progress)) JobOption {
	return jobFunc(func(o *coordinatorOptions) { o.progress = fn })
}

// WithMinWorkers makes the coordinator hand out no task until n workers
// have registered (0 by default: start with the first). A job whose
// workers start one by one is then shared by all of them, rather than done
// by the first before the others arrive: a demonstration shows its
// parallelism, a benchmark measures it. Once the job has started, workers
// that are lost do not stop it. (Run always waits for all its workers.)
func WithMinWorkers(n int) CoordinatorOption {
	return coordinatorFunc(func(o *coordinatorOptions) { o.minWorkers = n })
}

// WithMemoryLimit sets how many bytes of map output a map task buffers
// before it sorts and spills them. A worker's memory is about the split
// it reads, plus this, plus a few MiB of merge buffers, whatever the size
// of the job. Zero or negative means DefaultMemoryLimit.
func WithMemoryLimit(bytes int) TaskOption {
	return taskFunc(func(o *workerOptions) {
		if bytes <= 0 {
			bytes = DefaultMemoryLimit
		}
		o.memLimit = bytes
	})
}

// WithScratchDir sets the directory where a worker keeps its map output,
// spills and fetched segments. The worker makes a subdirectory of its own
// in it and removes it when it exits. The default is the system's
// temporary directory.
func WithScratchDir(dir string) TaskOption {
	return taskFunc(func(o *workerOptions) { o.scratch = dir })
}

// WithFaults installs a fault hook in the workers (Run gives it to every
// worker it starts). See FaultHook.
func WithFaults(h FaultHook) TaskOption {
	return taskFunc(func(o *workerOptions) { o.faults = h })
}

// WithListener makes a worker serve its map output on l and advertise
// l's address to the coordinator. The worker closes l when it exits. If
// l's address has an unspecified IP (":7000"), the worker advertises the
// IP it reaches the coordinator from. The default is a TCP listener on a
// free port of every interface.
func WithListener(l transport.Listener) WorkerOption {
	return workerFunc(func(o *workerOptions) { o.listener = l })
}

// WithDialer sets how a worker connects to the coordinator and to other
// workers. The default is TCP.
func WithDialer(d transport.Dialer) WorkerOption {
	return workerFunc(func(o *workerOptions) { o.dialer = d })
}

// WithWorkers sets how many workers Run starts. Zero or negative means
// runtime.GOMAXPROCS(0).
func WithWorkers(n int) RunOption {
	return runFunc(func(o *runOptions) {
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		o.workers = n
	})
}

// WithNetwork makes Run connect its coordinator and workers over n, for
// instance a *netsim.Network, whose faults and crashes then apply to the
// job. The default is TCP on the loopback interface.
func WithNetwork(n Network) RunOption {
	return runFunc(func(o *runOptions) { o.network = n })
}

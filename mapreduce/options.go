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

// An Option configures Run, NewCoordinator or RunWorker. Each option says
// which of them it applies to; the others ignore it, so one option list
// can be handed to all three.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	workers     int
	minWorkers  int
	network     Network
	timeout     time.Duration
	maxAttempts int
	backups     bool
	sharedDir   string
	progress    func(Progress)
	memLimit    int
	scratch     string
	faults      FaultHook
	listener    transport.Listener
	dialer      transport.Dialer
	logger      *slog.Logger
	rpcOpts     []rpc.Option
	// onCoordinator is WithCoordinator's fn (Run only).
	onCoordinator func(*Coordinator)
}

func newOptions(opts []Option) options {
	o := options{
		workers:     runtime.GOMAXPROCS(0),
		network:     loopbackTCP{},
		timeout:     DefaultTimeout,
		maxAttempts: DefaultMaxAttempts,
		backups:     true,
		memLimit:    DefaultMemoryLimit,
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// heartbeat is how often workers report to the coordinator, and how long
// a worker's request for work waits at most before it is answered "wait".
func (o *options) heartbeat() time.Duration { return max(o.timeout/10, time.Millisecond) }

// WithWorkers sets how many workers Run starts (Run only). Zero or
// negative means runtime.GOMAXPROCS(0).
func WithWorkers(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		o.workers = n
	})
}

// WithMinWorkers makes the coordinator hand out no task until n workers
// have registered (NewCoordinator; 0 by default: start with the first;
// Run always waits for all its workers). A
// job whose workers start one by one is then shared by all of them, rather
// than done by the first before the others arrive: a demonstration shows
// its parallelism, a benchmark measures it. Once the job has started,
// workers that are lost do not stop it.
func WithMinWorkers(n int) Option {
	return optionFunc(func(o *options) { o.minWorkers = n })
}

// WithNetwork makes Run connect its coordinator and workers over n (Run
// only), for instance a *netsim.Network, whose faults and crashes then
// apply to the job. The default is TCP on the loopback interface.
func WithNetwork(n Network) Option {
	return optionFunc(func(o *options) { o.network = n })
}

// WithTimeout sets the failure timeout (coordinator and workers): a worker
// the coordinator has not heard from for d is lost; a task attempt that
// has made no progress for d (read, fetched, merged or emitted nothing, and
// called no Count) while its worker heartbeats has stalled and counts as
// failed; a worker that cannot reach its coordinator for d gives up.
// Workers send heartbeats every d/10. Zero or negative means
// DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			d = DefaultTimeout
		}
		o.timeout = d
	})
}

// WithMaxAttempts sets how many attempts of one task may fail (panic,
// return an error, stall) before the job fails (coordinator). Attempts lost
// with their worker do not count. Zero or negative means
// DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultMaxAttempts
		}
		o.maxAttempts = n
	})
}

// WithBackupTasks switches backup tasks on or off (coordinator; on by
// default). See the package documentation.
func WithBackupTasks(on bool) Option {
	return optionFunc(func(o *options) { o.backups = on })
}

// WithSharedDir puts map output in dir, a directory every worker reads and
// writes under the same path (a shared file system), instead of on the
// disk of the worker that made it (coordinator). Reducers then read it
// directly rather than fetch it over rpc, and a lost worker's completed
// map tasks need not run again. The job uses a subdirectory of its own,
// which Close removes.
func WithSharedDir(dir string) Option {
	return optionFunc(func(o *options) { o.sharedDir = dir })
}

// WithProgress sets a function the coordinator calls as the job advances
// (coordinator). Calls come from one goroutine, one at a time; if fn is
// slow, intermediate states are skipped (fn always sees the latest, and the
// final one). fn must not call the Coordinator's blocking methods.
func WithProgress(fn func(Progress)) Option {
	return optionFunc(func(o *options) { o.progress = fn })
}

// WithMemoryLimit sets how many bytes of map output a map task buffers
// before it sorts and spills them (workers). A worker's memory is about
// the split it reads, plus this, plus a few MiB of merge buffers,
// whatever the size of the job. Zero or negative means DefaultMemoryLimit.
func WithMemoryLimit(bytes int) Option {
	return optionFunc(func(o *options) {
		if bytes <= 0 {
			bytes = DefaultMemoryLimit
		}
		o.memLimit = bytes
	})
}

// WithScratchDir sets the directory where a worker keeps its map output,
// spills and fetched segments (workers). The worker makes a subdirectory
// of its own in it and removes it when it exits. The default is the
// system's temporary directory.
func WithScratchDir(dir string) Option {
	return optionFunc(func(o *options) { o.scratch = dir })
}

// WithFaults installs a fault hook in the workers (workers; Run passes it
// to every worker it starts). See FaultHook.
func WithFaults(h FaultHook) Option {
	return optionFunc(func(o *options) { o.faults = h })
}

// WithListener makes a worker serve its map output on l and advertise
// l's address to the coordinator (RunWorker only). The worker closes l
// when it exits. If l's address has an unspecified IP (":7000"), the
// worker advertises the IP it reaches the coordinator from. The default is
// a TCP listener on a free port of every interface.
func WithListener(l transport.Listener) Option {
	return optionFunc(func(o *options) { o.listener = l })
}

// WithDialer sets how a worker connects to the coordinator and to other
// workers (RunWorker only). The default is TCP.
func WithDialer(d transport.Dialer) Option {
	return optionFunc(func(o *options) { o.dialer = d })
}

// WithLogger makes the coordinator and workers log what they do (tasks
// handed out and finished, workers lost, faults injected) to l. The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithRPCOptions passes options to the rpc clients and servers of the
// coordinator and workers, for instance rpc.WithSharedSecret to keep
// strangers out of a job that runs across machines.
func WithRPCOptions(opts ...rpc.Option) Option {
	return optionFunc(func(o *options) { o.rpcOpts = append(o.rpcOpts, opts...) })
}

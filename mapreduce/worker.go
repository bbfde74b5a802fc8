package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// RunWorker runs a worker for the coordinator at addr: it registers, asks
// for tasks and runs them until the coordinator says the job is over, and
// serves the output of its map tasks to the reducers meanwhile. jobs are
// the jobs this worker can run: the coordinator's job must be one of them
// (matched by Job.Name), since functions cannot be sent over a network;
// the coordinator supplies the job's settings (NReduce, OutputDir, the
// splits).
//
// It blocks until the job is over or the coordinator shuts down (nil), the
// coordinator has been unreachable for the timeout (ErrCoordinatorLost),
// the coordinator runs another job (ErrWrongJob), the fault hook crashed
// the worker (ErrCrashed), or ctx ends (ctx.Err()). Before it returns, it
// stops serving and deletes its scratch directory.
func RunWorker(ctx context.Context, addr string, jobs []Job, opts ...WorkerOption) error {
	return runWorker(ctx, addr, jobs, newWorkerOptions(opts))
}

func runWorker(ctx context.Context, addr string, jobs []Job, o workerOptions) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	w := &worker{o: o, jobs: jobs, coordAddr: addr, stop: stop, served: map[string]extsort.RunFile{}, peers: map[string]*rpc.Client{}}
	err := w.run(ctx)
	if errors.Is(err, errCoordinatorGone) {
		o.logger.Info("the coordinator shut down: exiting", "role", "worker", "addr", w.addr)
		return nil
	}
	return err
}

// fetchChunk is how much map output one Worker.Fetch call carries: well
// under the transports' message limits.
const fetchChunk = 1 << 20

// A worker is one RunWorker call's state. Its lifetime is the context of
// the RunWorker call (with a cause, so that the heartbeat loop can say why
// it stopped the worker), passed down to the loops and attempts it runs;
// each attempt runs in a child context, which the coordinator can cancel.
type worker struct {
	o         workerOptions
	jobs      []Job
	coordAddr string
	stop      context.CancelCauseFunc // ends the worker's lifetime, with a reason
	log       *slog.Logger
	scratch   string
	dialer    transport.Dialer
	addr      string // where this worker serves its map output
	srv       *rpc.Server
	coord     *rpc.Client
	localIP   net.IP // the worker's IP, as seen on its connection to the coordinator
	job       Job    // the job, with the coordinator's settings
	mapKeys   int    // distinct keys of the last map task: see taskEnv.keys
	shared    string // the shared directory for map output, if any

	mu          sync.Mutex // protects the fields below
	id          int
	lastContact time.Time
	running     *running
	served      map[string]extsort.RunFile // map outputs this worker serves, by path
	peers       map[string]*rpc.Client
}

// running is the attempt a worker is running.
type running struct {
	ref      attemptRef
	progress progressMeter
	cancel   context.CancelFunc
}

func (w *worker) run(ctx context.Context) error {
	var err error
	if w.scratch, err = os.MkdirTemp(w.o.scratch, "mapreduce-worker-*"); err != nil {
		return fmt.Errorf("mapreduce: scratch dir: %w", err)
	}
	defer os.RemoveAll(w.scratch)

	l := w.o.listener
	if l == nil {
		if l, err = transport.ListenTCP(":0"); err != nil {
			return err
		}
	}
	w.srv = rpc.NewServer(w.o.rpcServer...)
	if err := w.srv.RegisterName(workerService, &workerRPC{w}); err != nil {
		l.Close()
		return err
	}
	serving := make(chan struct{})
	go func() { // exits when w.srv is closed
		defer close(serving)
		_ = w.srv.Serve(l)
	}()
	defer func() {
		w.srv.Close()
		<-serving
	}()

	if err := w.connect(ctx); err != nil {
		return err
	}
	defer w.closeClients()
	w.addr = advertised(l.Addr(), w.localIP)
	w.log = w.o.logger.With("role", "worker", "addr", w.addr)
	if err := w.register(ctx); err != nil {
		return err
	}

	hbDone := make(chan struct{})
	hbCtx, hbStop := context.WithCancel(ctx)
	go func() { // exits when hbCtx ends
		defer close(hbDone)
		w.heartbeatLoop(hbCtx)
	}()
	defer func() {
		hbStop()
		<-hbDone
	}()

	err = w.loop(ctx)
	if errors.Is(err, ErrCrashed) {
		w.log.Info("crashed by the fault hook")
	}
	return err
}

// connect dials the coordinator, retrying until the timeout: in a
// multi-process job the coordinator may start after its workers.
func (w *worker) connect(ctx context.Context) error {
	d := w.o.dialer
	if d == nil {
		d = transport.NewTCPDialer()
	}
	w.dialer = d
	record := transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		c, err := d.Dial(ctx, addr)
		if err == nil {
			if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
				w.localIP = a.IP
			}
		}
		return c, err
	})
	dctx, cancel := context.WithTimeout(ctx, w.o.timeout)
	defer cancel()
	wait := retry.Backoff{Initial: w.o.heartbeat()}
	for {
		c, err := rpc.Dial(dctx, w.coordAddr, append([]rpc.DialOption{rpc.WithDialer(record), wireErrors()}, w.o.rpcClient...)...)
		if err == nil {
			w.coord = c
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if dctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrCoordinatorLost, err)
		}
		if err := wait.Wait(dctx); err != nil {
			return fmt.Errorf("%w: %w", ErrCoordinatorLost, err)
		}
	}
}

// advertised is the address to give the coordinator for a listener at
// addr: with an unspecified IP (":7000"), the worker's IP on its
// connection to the coordinator.
func advertised(addr net.Addr, local net.IP) string {
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsUnspecified() && local != nil {
		return net.JoinHostPort(local.String(), fmt.Sprint(a.Port))
	}
	return addr.String()
}

// register (re)introduces the worker to the coordinator, and learns the
// job's settings.
func (w *worker) register(ctx context.Context) error {
	names := make([]string, len(w.jobs))
	for i, j := range w.jobs {
		names[i] = j.Name
	}
	var reply registerReply
	if err := w.call(ctx, "Register", &registerArgs{Addr: w.addr, Jobs: names}, &reply); err != nil {
		return err
	}
	for _, j := range w.jobs {
		if j.Name == reply.Job {
			j.NReduce, j.OutputDir = reply.NReduce, reply.OutputDir
			job, err := j.withDefaults()
			if err != nil {
				return err
			}
			w.job = job
		}
	}
	w.shared = reply.SharedDir
	w.mu.Lock()
	w.id = reply.Worker
	w.mu.Unlock()
	w.log.Info("registered", "worker", reply.Worker, "job", reply.Job)
	return nil
}

// loop asks for tasks and runs them until the job is over.
func (w *worker) loop(ctx context.Context) error {
	for {
		var reply taskReply
		err := w.call(ctx, "GetTask", &workerArgs{Worker: w.workerID()}, &reply)
		switch {
		case errors.Is(err, ErrUnknownWorker):
			// The coordinator gave up on us (we were too slow to
			// heartbeat): start again as a new worker.
			if err := w.register(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		switch reply.Kind {
		case assignExit:
			w.log.Info("job over: exiting")
			return nil
		case assignWait:
			continue
		}
		if err := w.attempt(ctx, &reply); err != nil {
			return err
		}
	}
}

func (w *worker) workerID() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *worker) closeClients() {
	w.mu.Lock()
	peers := w.peers
	w.peers = nil
	w.mu.Unlock()
	for _, p := range peers {
		p.Close()
	}
	w.coord.Close()
}

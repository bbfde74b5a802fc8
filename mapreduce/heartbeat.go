package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// This file holds how a worker talks to its coordinator: calls that retry
// while the coordinator is out of reach, heartbeats, and the two ways a
// worker learns that its coordinator is gone:
//
//   - It said goodbye: its rpc server refused a call, or closed the
//     connection, because it is shutting down (rpc.ErrServerClosed), or
//     the coordinator answered ErrClosed. A coordinator shuts down when
//     the job is over, or when its owner stops it; either way there is no
//     work left, and the worker returns nil. A worker that joins as the
//     job ends meets this rather than the coordinator's "exit".
//   - It went silent for the timeout (it crashed, or the network cut the
//     worker off): the worker returns ErrCoordinatorLost.

// call calls the coordinator's method, retrying while the coordinator is
// unreachable, for up to the timeout since it last answered. The calls are
// safe to repeat: the scheduler ignores a report it has already had.
func (w *worker) call(ctx context.Context, method string, args, reply any) error {
	wait := retry.Backoff{Initial: w.o.heartbeat()}
	for {
		cctx, cancel := context.WithDeadline(ctx, w.callDeadline())
		err := w.coord.Call(cctx, coordinatorService+"."+method, args, reply)
		cancel()
		var remote *rpc.RemoteError
		switch {
		case err == nil:
			w.touch()
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case saidGoodbye(err):
			return fmt.Errorf("%w: %w", errCoordinatorGone, err)
		case errors.Is(err, transport.ErrUnauthenticated):
			return err // another key: retrying cannot help
		case errors.As(err, &remote):
			w.touch()
			return err
		}
		if w.sinceContact() > w.o.timeout {
			return fmt.Errorf("%w: %w", ErrCoordinatorLost, err)
		}
		if err := wait.Wait(ctx); err != nil {
			return err
		}
	}
}

// callDeadline is when a call to the coordinator gives up: a timeout after
// the coordinator last answered (and a heartbeat more, the longest a
// GetTask waits for work), so that a worker notices a dead coordinator
// within about one timeout, even in the middle of a call.
func (w *worker) callDeadline() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastContact.IsZero() {
		w.lastContact = time.Now()
	}
	return w.lastContact.Add(w.o.timeout + w.o.heartbeat())
}

func (w *worker) touch() {
	w.mu.Lock()
	w.lastContact = time.Now()
	w.mu.Unlock()
}

func (w *worker) sinceContact() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastContact.IsZero() {
		w.lastContact = time.Now()
	}
	return time.Since(w.lastContact)
}

// heartbeatLoop tells the coordinator, every heartbeat, that the worker is
// alive and how far its attempt has got, and cancels the attempt if the
// coordinator says so. If the coordinator says goodbye, or stays silent for
// the timeout, it stops the worker.
func (w *worker) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(w.o.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		r, args := w.running, heartbeatArgs{Worker: w.id}
		w.mu.Unlock()
		if r != nil {
			args.Running, args.Progress = &r.ref, r.progress.read()
		}
		var reply heartbeatReply
		cctx, cancel := context.WithDeadline(ctx, w.callDeadline())
		err := w.coord.Call(cctx, coordinatorService+".Heartbeat", &args, &reply)
		cancel()
		switch {
		case err == nil:
			w.touch()
			if reply.Cancel && r != nil {
				r.cancel()
			}
		case errors.Is(err, ErrUnknownWorker) && r != nil:
			r.cancel() // we were declared lost: our attempt no longer counts
		case saidGoodbye(err):
			w.stop(fmt.Errorf("%w: %w", errCoordinatorGone, err))
			return
		case ctx.Err() == nil && w.sinceContact() > w.o.timeout:
			w.stop(fmt.Errorf("%w: %w", ErrCoordinatorLost, err))
			return
		}
	}
}

// saidGoodbye reports whether err from a call to the coordinator means
// that it shut down in an orderly way.
func saidGoodbye(err error) bool {
	return errors.Is(err, rpc.ErrServerClosed) || errors.Is(err, ErrClosed)
}

package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
	"github.com/distsys-kit/distsys/rpc"
)

// workerRPC is the rpc service a worker offers other workers: the segments
// of its map outputs, in chunks.
type workerRPC struct{ w *worker }

// Fetch returns up to args.Max bytes of a segment of one of the worker's
// map outputs, from offset args.Pos within the segment. It serves only the
// outputs the worker made, and only within their segments.
func (s *workerRPC) Fetch(args *fetchArgs, reply *fetchReply) error {
	s.w.mu.Lock()
	rf, ok := s.w.served[args.Path]
	s.w.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("mapreduce: no map output %s here", args.Path)
	case !slices.Contains(rf.Segs, args.Seg):
		return fmt.Errorf("mapreduce: %s has no such segment", args.Path)
	case args.Pos < 0 || args.Pos >= args.Seg.Length || args.Max <= 0:
		return fmt.Errorf("mapreduce: bad fetch range")
	}
	f, err := os.Open(rf.Path)
	if err != nil {
		return fmt.Errorf("mapreduce: fetch: %w", err)
	}
	defer f.Close()
	reply.Data = make([]byte, min(int64(args.Max), int64(fetchChunk), args.Seg.Length-args.Pos))
	if _, err := f.ReadAt(reply.Data, args.Seg.Offset+args.Pos); err != nil {
		return fmt.Errorf("mapreduce: fetch: %w", err)
	}
	return nil
}

// fetch copies segment seg of map output mo, from the worker that has it,
// to the local file path, and checks its CRC. Each chunk fetched is
// progress.
func (w *worker) fetch(ctx context.Context, mo mapOutput, seg extsort.Segment, path string, progress *progressMeter) error {
	peer, err := w.peer(ctx, mo.Addr)
	if err != nil {
		return fmt.Errorf("%w %s: %w", errPeer, mo.Addr, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mapreduce: fetch: %w", err)
	}
	defer f.Close()
	table := crc32.MakeTable(crc32.Castagnoli)
	var sum uint32
	for pos := int64(0); pos < seg.Length; {
		var reply fetchReply
		cctx, cancel := context.WithTimeout(ctx, w.o.timeout)
		err := peer.Call(cctx, workerService+".Fetch", &fetchArgs{Path: mo.Path, Seg: seg, Pos: pos, Max: fetchChunk}, &reply)
		cancel()
		if err != nil {
			return fmt.Errorf("%w %s: %w", errPeer, mo.Addr, err)
		}
		if len(reply.Data) == 0 || int64(len(reply.Data)) > seg.Length-pos {
			return fmt.Errorf("%w: fetched %d bytes at %d of %d", errCorrupt, len(reply.Data), pos, seg.Length)
		}
		if _, err := f.Write(reply.Data); err != nil {
			return fmt.Errorf("mapreduce: fetch: %w", err)
		}
		sum = crc32.Update(sum, table, reply.Data)
		pos += int64(len(reply.Data))
		progress.Step()
	}
	if sum != seg.CRC {
		return fmt.Errorf("%w: fetched segment fails its checksum", errCorrupt)
	}
	return nil
}

// errPeer marks the errors of a fetch that come from the peer (dialling it,
// or calling it), rather than from this worker's own disk.
var errPeer = errors.New("mapreduce: fetch from")

// fetchConfirmed is fetch, tried a second time (on a fresh connection: the
// rpc client redials) if the first failed because the peer could not be
// reached. A single dropped connection is not a lost worker; two in a row
// are. A call that waited the whole timeout without an answer is not
// retried: the coordinator, too, gives up on a worker silent that long.
func (w *worker) fetchConfirmed(ctx context.Context, mo mapOutput, seg extsort.Segment, path string, progress *progressMeter) error {
	err := w.fetch(ctx, mo, seg, path, progress)
	if err == nil || !peerUnreachable(err) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	return w.fetch(ctx, mo, seg, path, progress)
}

// peerUnreachable reports whether a fetch failed because the worker that
// serves the output could not be reached: it did not answer (dial failed,
// connection lost, no reply within the timeout) or said goodbye (its rpc
// server is shutting down, and its outputs go with it). An answer, even an
// error (no such output), or data failing its checksum, means it is
// reachable; so does a failure of this worker's own disk or its closing.
func peerUnreachable(err error) bool {
	var re *rpc.RemoteError
	switch {
	case !errors.Is(err, errPeer), errors.Is(err, ErrClosed), errors.Is(err, rpc.ErrClosed):
		return false
	case errors.Is(err, rpc.ErrServerClosed):
		return true
	case errors.As(err, &re), errors.Is(err, errCorrupt):
		return false
	}
	return true
}

// peer returns a client for the worker at addr, dialling it the first
// time.
func (w *worker) peer(ctx context.Context, addr string) (*rpc.Client, error) {
	w.mu.Lock()
	c := w.peers[addr]
	w.mu.Unlock()
	if c != nil {
		return c, nil
	}
	cctx, cancel := context.WithTimeout(ctx, w.o.timeout)
	defer cancel()
	c, err := rpc.Dial(cctx, addr, append([]rpc.DialOption{rpc.WithDialer(w.dialer)}, w.o.rpcClient...)...)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if old := w.peers[addr]; old != nil || w.peers == nil { // raced, or closing
		c.Close()
		if old == nil {
			return nil, ErrClosed
		}
		return old, nil
	}
	w.peers[addr] = c
	return c, nil
}

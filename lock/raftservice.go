package lock

import (
	"context"
	"fmt"
)

// raftService is what a RaftServer exposes over rpc: the same methods,
// arguments and replies as service, so that a Client cannot tell the two
// apart. Each request becomes one command in the log.
type raftService struct{ s *RaftServer }

// OpenSession starts a session for the client.
func (v *raftService) OpenSession(ctx context.Context, args *openArgs, reply *openReply) error {
	if len(args.Client) > maxClientNameLen {
		return fmt.Errorf("lock: client name of %d bytes, limit is %d", len(args.Client), maxClientNameLen)
	}
	res, rd, err := v.s.submit(ctx, command{Kind: cmdOpen, Client: args.Client})
	if rd != nil || err != nil {
		return redirectOr(&reply.Redirect, rd, err)
	}
	reply.Session, reply.TTL = res.Session, v.s.ttl
	return nil
}

// KeepAlive renews a session and settles what its client no longer wants.
func (v *raftService) KeepAlive(ctx context.Context, args *keepAliveArgs, reply *keepAliveReply) error {
	res, rd, err := v.s.submit(ctx, command{Kind: cmdKeepAlive, Session: args.Session,
		Renewal: args.Renewal, Floor: args.Floor, Wanted: args.Wanted})
	if rd != nil || err != nil {
		return redirectOr(&reply.Redirect, rd, err)
	}
	reply.Status, reply.TTL = res.Status, v.s.ttl
	return nil
}

// Release ends an acquisition: gives up the lock, or leaves the queue.
func (v *raftService) Release(ctx context.Context, args *releaseArgs, reply *releaseReply) error {
	res, rd, err := v.s.submit(ctx, command{Kind: cmdRelease, Session: args.Session, Seq: args.Seq})
	if rd != nil || err != nil {
		return redirectOr(&reply.Redirect, rd, err)
	}
	reply.Status = res.Status
	return nil
}

// CloseSession ends a session and releases its locks, without lock-delay.
func (v *raftService) CloseSession(ctx context.Context, args *closeArgs, reply *closeReply) error {
	_, rd, err := v.s.submit(ctx, command{Kind: cmdClose, Session: args.Session})
	if rd != nil || err != nil {
		return redirectOr(&reply.Redirect, rd, err)
	}
	reply.Status = statusOK
	return nil
}

// Acquire decides, through the log, and if the acquisition has to wait
// and the client allows it (Poll), holds the call until the acquisition is
// granted or ends, as Server's Acquire does. The grant itself is made by
// whichever command frees the lock (a Release, a CloseSession, a tick
// expiring the holder), so a contended lock passes on with one log entry.
func (v *raftService) Acquire(ctx context.Context, args *acquireArgs, reply *acquireReply) error {
	if n := len(args.Name); n == 0 || n > maxLockNameLen {
		return fmt.Errorf("lock: lock name of %d bytes, want 1 to %d", n, maxLockNameLen)
	}
	res, rd, err := v.s.submit(ctx, command{Kind: cmdAcquire, Session: args.Session, Name: args.Name,
		Seq: args.Seq, Wait: args.Wait})
	if rd == nil && err == nil && res.Status == statusQueued && args.Poll > 0 {
		res, rd, err = v.s.await(ctx, args)
	}
	if rd != nil || err != nil {
		return redirectOr(&reply.Redirect, rd, err)
	}
	reply.Status, reply.Token = res.Status, res.Token
	return nil
}

// redirectOr fills a reply's redirect, or returns err.
func redirectOr(dst, rd *redirect, err error) error {
	if rd != nil {
		*dst = *rd
		return nil
	}
	return err
}

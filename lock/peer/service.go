package peer

import "context"

// The protocol has one request, answered when the receiver agrees:
//
//	Request  from, timestamp  →  timestamp   (the reply is the permission)
//
// A receiver that is in its critical section, or is waiting to enter with
// an earlier request, holds the call until it leaves its critical section:
// that is Ricart and Agrawala's deferred reply. One request and one reply
// per other peer: 2(N-1) messages per entry.
const (
	serviceName   = "Peer"
	methodRequest = serviceName + ".Request"
)

type requestArgs struct {
	From string // the requester's ID, which breaks ties between equal timestamps
	TS   uint64 // the request's Lamport timestamp
}

type replyArgs struct {
	TS uint64 // the reply's Lamport timestamp
}

// earlier reports whether request (ts1, id1) comes before (ts2, id2) in
// the total order every peer agrees on: by timestamp, then by ID.
func earlier(ts1 uint64, id1 string, ts2 uint64, id2 string) bool {
	return ts1 < ts2 || ts1 == ts2 && id1 < id2
}

type service struct{ p *Peer }

// Request answers another peer's request: at once, unless this peer holds
// the critical section or wants it with an earlier request; then when this
// peer's current request ends.
func (v *service) Request(ctx context.Context, args *requestArgs, reply *replyArgs) error {
	p := v.p
	p.clock.Witness(args.TS)
	deferred := false
	for {
		p.mu.Lock()
		mustWait := p.holding || p.wanting && earlier(p.reqTS, p.cfg.ID, args.TS, args.From)
		if !mustWait {
			p.stats.Replies++
			if deferred {
				p.stats.Deferred++
			}
			p.mu.Unlock()
			reply.TS = p.clock.Tick()
			return nil
		}
		wait := p.released
		p.mu.Unlock()
		deferred = true
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.life.Done():
			return ErrClosed
		}
	}
}

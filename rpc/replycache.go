package rpc

import (
	"container/list"
	"sync"
)

// replyCache is the server's memory for at-most-once execution: for each
// client (by id), the calls it has begun and the replies of those that have
// finished, kept until the client acknowledges them.
//
// A client acknowledges by sending, with every request, the lowest sequence
// number it is still waiting for (ack): every reply below it has been
// received or given up on, so the cache forgets those calls, and a late copy
// of one of them is refused instead of run again.
//
// The cache is bounded: at most limits.clients clients (the least recently
// heard from is forgotten first) and limits.perClient calls per client.
type replyCache struct {
	limits cacheLimits

	mu      sync.Mutex // protects clients, lru and every clientEntry
	clients map[uint64]*list.Element
	lru     list.List // of *clientEntry, most recently heard from first
}

type clientEntry struct {
	id    uint64
	low   uint64                 // calls below low are acknowledged and forgotten
	calls map[uint64]*cachedCall // by sequence number
}

type cachedCall struct {
	done  bool
	reply []byte // the reply message, once done
}

// callState is what the cache says about an arriving request.
type callState int

const (
	callNew       callState = iota // run it
	callRunning                    // a copy is running: drop this one, its reply will come
	callDone                       // answer with the saved reply
	callForgotten                  // the client is unknown: maybe run before, refuse
	callStale                      // acknowledged already: nobody waits, refuse
	callTooMany                    // the client has too many calls cached: refuse
)

func newReplyCache(limits cacheLimits) *replyCache {
	return &replyCache{limits: limits, clients: make(map[uint64]*list.Element)}
}

// hello makes the client known, so that its calls can begin.
func (rc *replyCache) hello(client uint64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if el, ok := rc.clients[client]; ok {
		rc.lru.MoveToFront(el)
		return
	}
	for len(rc.clients) >= rc.limits.clients {
		oldest := rc.lru.Back()
		delete(rc.clients, rc.lru.Remove(oldest).(*clientEntry).id)
	}
	e := &clientEntry{id: client, calls: make(map[uint64]*cachedCall)}
	rc.clients[client] = rc.lru.PushFront(e)
}

// begin records that call seq of client arrived with acknowledgement ack,
// and says what to do with it. For callDone it returns the saved reply.
func (rc *replyCache) begin(client, seq, ack uint64) (callState, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	el, ok := rc.clients[client]
	if !ok {
		return callForgotten, nil
	}
	rc.lru.MoveToFront(el)
	e := el.Value.(*clientEntry)
	if ack > e.low {
		for s := range e.calls {
			if s < ack {
				delete(e.calls, s)
			}
		}
		e.low = ack
	}
	if seq < e.low {
		return callStale, nil
	}
	if c, ok := e.calls[seq]; ok {
		if c.done {
			return callDone, c.reply
		}
		return callRunning, nil
	}
	if len(e.calls) >= rc.limits.perClient {
		return callTooMany, nil
	}
	e.calls[seq] = &cachedCall{}
	return callNew, nil
}

// finish saves the reply of call seq of client, unless the cache has
// forgotten the call meanwhile. reply must not be changed afterwards.
func (rc *replyCache) finish(client, seq uint64, reply []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	el, ok := rc.clients[client]
	if !ok {
		return
	}
	if c, ok := el.Value.(*clientEntry).calls[seq]; ok {
		c.done, c.reply = true, reply
	}
}

// lookup is begin for a server that runs no new calls (it is shutting
// down): it reports callDone, with the saved reply, or callRunning, for a
// call the cache knows, and callForgotten for any other.
func (rc *replyCache) lookup(client, seq uint64) (callState, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if el, ok := rc.clients[client]; ok {
		if c, ok := el.Value.(*clientEntry).calls[seq]; ok {
			if c.done {
				return callDone, c.reply
			}
			return callRunning, nil
		}
	}
	return callForgotten, nil
}

package lock

import (
	"errors"
	"time"
)

// The service's methods, as a client calls them over rpc. Every request
// names its session; every acquisition is named by its session and seq, so
// that any request may be repeated, delayed or duplicated without effect
// (see table).
//
//	OpenSession   client name            → session, TTL
//	KeepAlive     session, renewal, floor, wanted → TTL     (renews every lock of the session)
//	Acquire       session, name, seq     → token | queued   (Poll > 0: wait up to Poll for a grant)
//	Release       session, seq           → ok               (also cancels a waiting Lock)
//	CloseSession  session                → ok               (releases everything, no lock-delay)
//
// Expected outcomes (locked, expired, stale) travel as a status in the
// reply rather than as rpc errors, so that they survive any rpc client,
// whatever sentinels it was told about.
const (
	serviceName      = "Lock"
	methodOpen       = serviceName + ".OpenSession"
	methodKeepAlive  = serviceName + ".KeepAlive"
	methodAcquire    = serviceName + ".Acquire"
	methodRelease    = serviceName + ".Release"
	methodClose      = serviceName + ".CloseSession"
	maxClientNameLen = 256
	maxLockNameLen   = 1024
)

type status uint8

const (
	statusOK status = iota
	statusQueued
	statusLocked
	statusSessionExpired
	statusStale
)

// statusOf turns the table's expected errors into a status; any other
// error is returned as an rpc error.
func statusOf(err error) (status, error) {
	switch {
	case err == nil:
		return statusOK, nil
	case errors.Is(err, ErrLocked):
		return statusLocked, nil
	case errors.Is(err, ErrSessionExpired):
		return statusSessionExpired, nil
	case errors.Is(err, errStale):
		return statusStale, nil
	}
	return statusOK, err
}

type openArgs struct {
	Client string // a name for LockInfo; need not be unique
}

type openReply struct {
	Redirect redirect // from a replica that cannot serve the request (RaftServer)
	Session  sessionRef
	TTL      time.Duration
}

type keepAliveArgs struct {
	Session sessionRef
	Renewal uint64   // numbers the session's renewals: an older one is ignored
	Floor   uint64   // the client had started every acquisition below Floor
	Wanted  []uint64 // and still waited for or held only these
}

type keepAliveReply struct {
	Redirect redirect // from a replica that cannot serve the request (RaftServer)
	Status   status
	TTL      time.Duration
}

type acquireArgs struct {
	Session sessionRef
	Name    string
	Seq     uint64
	Wait    bool          // Lock (queue if held) rather than TryLock
	Poll    time.Duration // how long the server may hold the call waiting for a grant
}

type acquireReply struct {
	Redirect redirect // from a replica that cannot serve the request (RaftServer)
	Status   status
	Token    uint64
}

type releaseArgs struct {
	Session sessionRef
	Seq     uint64
}

type releaseReply struct {
	Redirect redirect // from a replica that cannot serve the request (RaftServer)
	Status   status
}

type closeArgs struct {
	Session sessionRef
}

type closeReply struct {
	Redirect redirect // from a replica that cannot serve the request (RaftServer)
	Status   status
}

// redirect is a RaftServer's answer to a request it could not serve: it
// is not the leader, or it lost its office while the request waited, or
// it is shutting down. Leader is the client address of the leader it
// knows of, if any. Every request is idempotent, so the ClusterCaller
// sends it again, to Leader or to the next server; a lock Client never
// sees a redirect. A single Server never sends one.
type redirect struct {
	Retry  bool
	Leader string
}

// redirector is a reply that may carry a redirect.
type redirector interface{ redirected() *redirect }

func (r *openReply) redirected() *redirect      { return &r.Redirect }
func (r *keepAliveReply) redirected() *redirect { return &r.Redirect }
func (r *acquireReply) redirected() *redirect   { return &r.Redirect }
func (r *releaseReply) redirected() *redirect   { return &r.Redirect }
func (r *closeReply) redirected() *redirect     { return &r.Redirect }

package kv

import (
	"errors"

	"github.com/distsys-kit/distsys/rpc"
)

// ServiceName is the name Register gives the service: clients call
// "KV.Get", "KV.Put", "KV.Append" and "KV.PutIf".
const ServiceName = "KV"

// The messages of the service. They are exported because rpc encodes
// them; Client builds and reads them, so users need not.
type (
	// GetArgs asks for Key's entry.
	GetArgs struct{ Key string }
	// GetReply is Key's entry; Found is false for a key never written.
	GetReply struct {
		Entry
		Found bool
	}
	// PutArgs asks to set (Put) or extend (Append) Key's value.
	PutArgs struct{ Key, Value string }
	// PutIfArgs asks to set Key to Value if Key is at Version.
	PutIfArgs struct {
		Key, Value string
		Version    uint64
	}
	// PutReply is Key's entry after the write. Applied says whether it
	// was written; if not, Entry is what is there, and Refused is the
	// server's limit it would have broken, or nil for a PutIf refused for
	// its version.
	PutReply struct {
		Entry
		Applied bool
		Refused *LimitError
	}
)

// Register serves store on srv as the service ServiceName, within the
// default Limits or those given WithLimits. The server runs each call in a
// goroutine of its own; the Store is safe for that.
func Register(srv *rpc.Server, store *Store, opts ...Option) error {
	v := &service{s: store, lim: Limits{}.withDefaults()}
	for _, o := range opts {
		o.apply(v)
	}
	return srv.RegisterName(ServiceName, v)
}

// service adapts a Store to rpc's method shape. Refusals travel in the
// reply (Found, Applied, Refused), not as errors, so that the client
// rebuilds the typed error whatever rpc options it was made with.
type service struct {
	s   *Store
	lim Limits // with defaults set
}

func (v *service) Get(args *GetArgs, reply *GetReply) error {
	e, err := v.s.Get(args.Key)
	*reply = GetReply{Entry: e, Found: err == nil}
	return nil
}

func (v *service) Put(args *PutArgs, reply *PutReply) error {
	*reply = putReply(v.s.put(args.Key, args.Value, v.lim))
	return nil
}

func (v *service) Append(args *PutArgs, reply *PutReply) error {
	*reply = putReply(v.s.append(args.Key, args.Value, v.lim))
	return nil
}

func (v *service) PutIf(args *PutIfArgs, reply *PutReply) error {
	*reply = putReply(v.s.putIf(args.Key, args.Value, args.Version, v.lim))
	return nil
}

// putReply is the reply to a write that returned e and err.
func putReply(e Entry, err error) PutReply {
	r := PutReply{Entry: e, Applied: err == nil}
	errors.As(err, &r.Refused)
	return r
}

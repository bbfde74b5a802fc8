package kv

import "github.com/distsys-kit/distsys/rpc"

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
	// PutReply is Key's entry after the write; for a PutIf, Applied says
	// whether it was written (if not, Entry is what is there).
	PutReply struct {
		Entry
		Applied bool
	}
)

// Register serves store on srv as the service ServiceName. The server
// runs each call in a goroutine of its own; the Store is safe for that.
func Register(srv *rpc.Server, store *Store) error {
	return srv.RegisterName(ServiceName, &service{store})
}

// service adapts a Store to rpc's method shape. Refusals travel in the
// reply (Found, Applied), not as errors, so that the client rebuilds the
// typed error whatever rpc options it was made with.
type service struct{ s *Store }

func (v *service) Get(args *GetArgs, reply *GetReply) error {
	e, err := v.s.Get(args.Key)
	*reply = GetReply{Entry: e, Found: err == nil}
	return nil
}

func (v *service) Put(args *PutArgs, reply *PutReply) error {
	*reply = PutReply{Entry: v.s.Put(args.Key, args.Value), Applied: true}
	return nil
}

func (v *service) Append(args *PutArgs, reply *PutReply) error {
	*reply = PutReply{Entry: v.s.Append(args.Key, args.Value), Applied: true}
	return nil
}

func (v *service) PutIf(args *PutIfArgs, reply *PutReply) error {
	e, err := v.s.PutIf(args.Key, args.Value, args.Version)
	*reply = PutReply{Entry: e, Applied: err == nil}
	return nil
}

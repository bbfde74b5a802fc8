package rpc_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// TestGarbageClosesOnlyThatConnection sends messages that are not requests
// on a connection of their own, and checks that the server cuts that
// connection off while serving another client throughout.
func TestGarbageClosesOnlyThatConnection(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
	}{
		{"Empty", []byte{}},
		{"Short", []byte{1}},
		{"WrongVersion", []byte{9, 1, 0, 1, 0, 0}},
		{"AReply", []byte{1, 2, 0, 7}},
		{"UnknownKind", []byte{1, 77, 0}},
		{"TruncatedMethod", []byte{1, 1, 0, 1, 50, 'A'}},
		{"BadVarint", []byte{1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"HugeMetadataCount", []byte{1, 1, 1 << 2, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				_, l, d := simNet(t, 0)
				svc, _ := startServerWith(t, l)
				good, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d))
				require.NoError(t, err)
				defer good.Close()

				bad, err := d.Dial(t.Context(), "server")
				require.NoError(t, err)
				defer bad.Close()
				require.NoError(t, bad.Send(t.Context(), tt.msg))
				_, err = bad.Recv(t.Context())
				require.Error(t, err, "the server closed the connection")

				var r Reply
				require.NoError(t, good.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r))
				assert.Equal(t, 1, r.C)
				assert.EqualValues(t, 1, svc.n.Load())
			})
		})
	}
}

// TestWrongTypes checks that arguments or replies of the wrong type give a
// clear error, and run nothing they should not.
func TestWrongTypes(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		args    any
		reply   any
		want    error
		wantRan bool
	}{
		{"ArgsOfAnotherType", "Arith.Incr", ptr("hello"), new(Reply), rpc.ErrBadRequest, false},
		{"ArgsSliceForStruct", "Arith.Incr", &[]int{1, 2}, new(Reply), rpc.ErrBadRequest, false},
		{"ReplyOfAnotherType", "Arith.Incr", &Args{A: 1}, new(string), rpc.ErrBadReply, true},
		{"NonPointerReply", "Arith.Incr", &Args{A: 1}, Reply{}, rpc.ErrBadReply, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				e := startEnv(t, simNetwork())
				c := e.dial()
				err := c.Call(t.Context(), tt.method, tt.args, tt.reply)
				require.ErrorIs(t, err, tt.want)
				if tt.wantRan {
					assert.EqualValues(t, 1, e.svc.n.Load())
				} else {
					assert.Zero(t, e.svc.n.Load())
				}
				require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{A: 1}, new(Reply)), "the connection still works")
			})
		})
	}
}

// TestNilArgsIsAnErrorNotAPanic checks a caller's mistake is reported.
func TestNilArgsIsAnErrorNotAPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startEnv(t, simNetwork()).dial()
		var nilArgs *Args
		for _, args := range []any{nil, nilArgs} {
			err := c.Call(t.Context(), "Arith.Add", args, new(Reply))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "encode arguments")
		}
	})
}

// Big makes replies of any size.
type Big struct{}

// Make replies with *n bytes.
func (Big) Make(n *int, reply *[]byte) error {
	*reply = make([]byte, *n)
	return nil
}

// TestHugeMessages checks messages over the transport's limit, on real
// TCP: a request too large for the client's conn fails at once; a request
// too large for the server's makes it cut that conn off; a reply too large
// is replaced by an error. Other calls go on working.
func TestHugeMessages(t *testing.T) {
	const limit = 4096
	l, err := transport.ListenTCP("127.0.0.1:0", transport.WithMaxMessageSize(limit))
	require.NoError(t, err)
	_, srv := startServerWith(t, l)
	require.NoError(t, srv.Register(Big{}))
	ctx := testContext(t)
	dial := func(max int) *rpc.Client {
		conn, err := transport.DialTCP(ctx, l.Addr().String(), transport.WithMaxMessageSize(max))
		require.NoError(t, err)
		c := rpc.NewClient(conn)
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := dial(limit)
	big := make([]byte, 2*limit)
	err = c.Call(ctx, "Arith.Echo", &big, new([]byte))
	require.ErrorIs(t, err, transport.ErrMessageTooLarge, "request too large for the client")

	var reply []byte
	err = c.Call(ctx, "Big.Make", ptr(2*limit), &reply)
	var re *rpc.RemoteError
	require.ErrorAs(t, err, &re, "reply too large for the server")
	require.ErrorIs(t, err, rpc.ErrBadReply)

	require.NoError(t, c.Call(ctx, "Big.Make", ptr(100), &reply))
	assert.Len(t, reply, 100)

	err = dial(1<<20).Call(ctx, "Arith.Echo", &big, new([]byte))
	require.ErrorIs(t, err, rpc.ErrConnLost, "request too large for the server")
	require.NoError(t, c.Call(ctx, "Big.Make", ptr(100), &reply), "other connections are served")
}

// Unsendable types, for TestRegisterRefusesTypesThatLoseData.
type (
	lowerArgs    struct{ key string }
	nestedInner  struct{ Shown, hidden int }
	nestedArgs   struct{ In []nestedInner }
	chanArgs     struct{ C chan int }
	embeddedArgs struct{ nestedInner }
)

type lowerSvc struct{}

func (lowerSvc) Put(args *lowerArgs, reply *Reply) error { return nil }

type nestedSvc struct{}

func (nestedSvc) Put(args *Args, reply *map[string]nestedArgs) error { return nil }

type chanSvc struct{}

func (chanSvc) Put(ctx context.Context, args *chanArgs, reply *Reply) error { return nil }

type embeddedSvc struct{}

func (embeddedSvc) Put(args *embeddedArgs, reply *Reply) error { return nil }

type noMethods struct{}

func (noMethods) Put(args Args) error { return nil } // wrong shape

func TestRegisterRefusesTypesThatLoseData(t *testing.T) {
	tests := []struct {
		name     string
		svc      any
		as       string // RegisterName's name; "" for Register
		contains []string
	}{
		{"UnexportedField", lowerSvc{}, "", []string{"lowerSvc.Put: args: type rpc_test.lowerArgs has unexported field key", "(Key)"}},
		{"NestedUnexportedField", nestedSvc{}, "", []string{"nestedSvc.Put: reply[value].In[i]: type rpc_test.nestedInner has unexported field hidden"}},
		{"ChannelField", chanSvc{}, "", []string{"chanSvc.Put: args.C is a chan"}},
		{"EmbeddedUnexportedStruct", embeddedSvc{}, "", []string{"nestedInner"}},
		{"NoSuitableMethods", noMethods{}, "", []string{"no exported methods"}},
		{"EmptyName", newArith(), "", nil},
		{"DottedName", newArith(), "A.B", []string{"dot"}},
		{"NilReceiver", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := rpc.NewServer()
			defer srv.Close()
			var err error
			switch {
			case tt.name == "EmptyName":
				err = srv.RegisterName("", tt.svc)
			case tt.as != "":
				err = srv.RegisterName(tt.as, tt.svc)
			default:
				err = srv.Register(tt.svc)
			}
			require.ErrorIs(t, err, rpc.ErrInvalidService)
			for _, s := range tt.contains {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestRegisterTwiceIsRefused(t *testing.T) {
	srv := rpc.NewServer()
	defer srv.Close()
	require.NoError(t, srv.Register(newArith()))
	require.ErrorIs(t, srv.Register(newArith()), rpc.ErrInvalidService)
	require.NoError(t, srv.RegisterName("Arith2", newArith()), "another name is fine")
}

package rpc_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// TestTLS serves over TLS on real TCP, with and without client
// certificates, and checks who gets through.
func TestTLS(t *testing.T) {
	certs, err := devcert.New()
	require.NoError(t, err)
	untrusting := &tls.Config{ServerName: "localhost", MinVersion: tls.VersionTLS13} // no root for our CA

	tests := []struct {
		name         string
		server       *tls.Config
		client       *tls.Config
		wantRejected bool
	}{
		{name: "TLS", server: certs.Server, client: certs.Client},
		{name: "MutualTLS", server: certs.MutualServer, client: certs.MutualClient},
		{name: "MutualTLS/ClientWithoutCertificate", server: certs.MutualServer, client: certs.Client, wantRejected: true},
		{name: "ClientDoesNotTrustServer", server: certs.Server, client: untrusting, wantRejected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := transport.ListenTCP("127.0.0.1:0", transport.WithTLS(tt.server))
			require.NoError(t, err)
			srv := rpc.NewServer()
			svc := newArith()
			require.NoError(t, srv.Register(svc))
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			defer func() {
				require.NoError(t, srv.Close())
				require.ErrorIs(t, <-served, rpc.ErrServerClosed)
			}()

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var r Reply
			c, err := rpc.Dial(ctx, l.Addr().String(), rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tt.client))))
			if err == nil {
				defer c.Close()
				err = c.Call(ctx, "Arith.Incr", &Args{A: 1}, &r)
			}
			if tt.wantRejected {
				require.Error(t, err)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "refused, not left hanging")
				assert.Zero(t, svc.n.Load(), "the handler did not run")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 1, r.C)
		})
	}
}

// TestAuthHookRefusesUnknownCallers checks WithAuth with a bearer token
// carried in metadata: callers without the token are refused before the
// handler runs, with the hook's message.
func TestAuthHookRefusesUnknownCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		auth := rpc.WithAuth(func(ctx context.Context, call *rpc.ServerCall) error {
			assert.Nil(t, call.Args, "arguments are not decoded before authentication")
			if call.Metadata["token"] != "s3cret" {
				return errors.New("bad token")
			}
			return nil
		})
		e := startEnv(t, simNetwork(), auth)
		withToken := rpc.WithClientInterceptor(func(ctx context.Context, call *rpc.Call, invoke rpc.Invoker) error {
			call.Metadata = rpc.Metadata{"token": "s3cret"}
			return invoke(ctx, call)
		})
		var r Reply
		require.NoError(t, e.dial(withToken).Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r))
		assert.Equal(t, 1, r.C)

		err := e.dial().Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r)
		var re *rpc.RemoteError
		require.ErrorAs(t, err, &re)
		require.ErrorIs(t, err, rpc.ErrUnauthenticated)
		assert.Contains(t, re.Msg, "bad token")
		assert.EqualValues(t, 1, e.svc.n.Load(), "the refused call did not run")
	})
}

// TestSignedTransport checks rpc over signed conns (transport.NewSignedListener
// and NewSignedDialer): only clients with the key get calls through, and a
// message changed in flight is refused. Every refusal is a clear error,
// not a wait, and runs nothing.
func TestSignedTransport(t *testing.T) {
	key := []byte("correct horse battery staple")
	tests := []struct {
		name    string
		key     []byte // the client's; nil: it does not sign
		corrupt bool   // every message the client sends has a byte changed in flight
		want    error
	}{
		{name: "SameKey", key: key},
		{name: "WrongKey", key: []byte("guess"), want: transport.ErrUnauthenticated},
		{name: "NoKey", want: rpc.ErrConnLost},
		{name: "Tampered", key: key, corrupt: true, want: transport.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				n, l, d := simNet(t, 0)
				if tt.corrupt {
					require.NoError(t, n.SetFaults("client", "server", transport.Faults{Corrupt: 1}))
				}
				svc, _ := startServerWith(t, transport.NewSignedListener(l, key))
				if tt.key != nil {
					d = transport.NewSignedDialer(d, tt.key)
				}
				c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d))
				require.NoError(t, err)
				defer c.Close()

				var r Reply
				err = c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r)
				if tt.want == nil {
					require.NoError(t, err)
					assert.Equal(t, 1, r.C)
					return
				}
				require.ErrorIs(t, err, tt.want)
				assert.Zero(t, svc.n.Load(), "the handler did not run")
			})
		})
	}
}

// recorder is a Conn that keeps a copy of every message sent through it.
type recorder struct {
	transport.Conn
	mu   sync.Mutex // protects sent
	sent [][]byte
}

func (r *recorder) Send(ctx context.Context, msg []byte) error {
	r.mu.Lock()
	r.sent = append(r.sent, bytes.Clone(msg))
	r.mu.Unlock()
	return r.Conn.Send(ctx, msg)
}

func (r *recorder) recorded() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// TestSignedRequestReplayIsRefused captures a signed request on the wire
// and replays it, on the same connection and on a new one: the handler,
// which is not idempotent, runs once.
func TestSignedRequestReplayIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key := []byte("correct horse battery staple")
		_, l, d := simNet(t, 0)
		svc, _ := startServerWith(t, transport.NewSignedListener(l, key))
		ctx := t.Context()
		raw, err := d.Dial(ctx, "server")
		require.NoError(t, err)
		wire := &recorder{Conn: raw}
		conn, err := transport.NewSignedConn(ctx, wire, key)
		require.NoError(t, err)
		c := rpc.NewClient(conn)
		defer c.Close()
		var r Reply
		require.NoError(t, c.Call(ctx, "Arith.Incr", &Args{A: 1}, &r))
		captured := wire.recorded() // the client's hello, then its request

		// On the same connection: dropped as a repeat.
		require.NoError(t, raw.Send(ctx, captured[len(captured)-1]))
		require.NoError(t, c.Call(ctx, "Arith.Incr", &Args{A: 1}, &r))
		assert.Equal(t, 2, r.C, "the replay did not run")

		// On a new connection: refused, and the attacker is told.
		attacker, err := d.Dial(ctx, "server")
		require.NoError(t, err)
		defer attacker.Close()
		for _, msg := range captured {
			require.NoError(t, attacker.Send(ctx, msg))
		}
		for {
			msg, err := attacker.Recv(ctx)
			if err != nil || len(msg) == 1 { // the refusal, or the conn closed
				break
			}
		}
		synctest.Wait()
		assert.EqualValues(t, 2, svc.n.Load(), "the replay did not run")
	})
}

// startServerWith serves a fresh Arith with opts on l until cleanup.
func startServerWith(t *testing.T, l transport.Listener, opts ...rpc.ServerOption) (*Arith, *rpc.Server) {
	svc := newArith()
	srv := rpc.NewServer(opts...)
	require.NoError(t, srv.Register(svc))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-done, rpc.ErrServerClosed)
	})
	return svc, srv
}

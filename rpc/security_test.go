package rpc_test

import (
	"context"
	"crypto/tls"
	"errors"
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
			c, err := rpc.Dial(ctx, l.Addr().String(), rpc.WithTLS(tt.client))
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
		e := startEnv(t, pipeNetwork(), auth)
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

// TestSharedSecret checks WithSharedSecret: only clients with the key get
// calls through, and a message changed in flight is refused.
func TestSharedSecret(t *testing.T) {
	key := []byte("correct horse battery staple")
	tests := []struct {
		name    string
		client  []rpc.Option
		corrupt bool // every request has a byte changed in flight
		wantErr bool
	}{
		{name: "SameKey", client: []rpc.Option{rpc.WithSharedSecret(key)}},
		{name: "WrongKey", client: []rpc.Option{rpc.WithSharedSecret([]byte("guess"))}, wantErr: true},
		{name: "NoKey", wantErr: true},
		{name: "Tampered", client: []rpc.Option{rpc.WithSharedSecret(key)}, corrupt: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var clientFaults transport.Faults
				if tt.corrupt {
					clientFaults.Corrupt = 1
				}
				l := newLossyPipeListener(clientFaults, transport.Faults{}, 0)
				svc, _ := startServerWith(t, l, rpc.WithSharedSecret(key))
				c, err := rpc.Dial(t.Context(), "server", append(tt.client, rpc.WithDialer(l))...)
				require.NoError(t, err)
				defer c.Close()

				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				var r Reply
				err = c.Call(ctx, "Arith.Incr", &Args{A: 1}, &r)
				if !tt.wantErr {
					require.NoError(t, err)
					assert.Equal(t, 1, r.C)
					return
				}
				// A refusal, or (if the corruption hit the header) a
				// connection the server cut off.
				require.Error(t, err)
				assert.True(t, errors.Is(err, rpc.ErrUnauthenticated) || errors.Is(err, rpc.ErrConnLost), "got %v", err)
				assert.Zero(t, svc.n.Load(), "the handler did not run")
			})
		})
	}
}

// startServerWith serves a fresh Arith with opts on l until cleanup.
func startServerWith(t *testing.T, l transport.Listener, opts ...rpc.Option) (*Arith, *rpc.Server) {
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

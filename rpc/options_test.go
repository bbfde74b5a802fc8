package rpc_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// TestOptionsFitOnlyWhereTheyApply checks where each option can be given:
// a type that lacks a kind's method cannot be passed where that kind is
// expected, so a server option handed to Dial, say, does not compile.
func TestOptionsFitOnlyWhereTheyApply(t *testing.T) {
	var (
		server = reflect.TypeFor[rpc.ServerOption]()
		client = reflect.TypeFor[rpc.ClientOption]()
		dial   = reflect.TypeFor[rpc.DialOption]()
	)
	auth := func(context.Context, *rpc.ServerCall) error { return nil }
	tests := []struct {
		name                 string
		opt                  any
		server, client, dial bool
	}{
		{"WithCodec", rpc.WithCodec(rpc.NewJSONCodec()), true, true, true},
		{"WithErrors", rpc.WithErrors(errDivByZero), true, true, true},
		{"WithServerInterceptor", rpc.WithServerInterceptor(), true, false, false},
		{"WithAuth", rpc.WithAuth(auth), true, false, false},
		{"WithReplyCache", rpc.WithReplyCache(1, 1), true, false, false},
		{"WithLogger", rpc.WithLogger(nil), true, false, false},
		{"WithMaxConns", rpc.WithMaxConns(1), true, false, false},
		{"WithMaxCalls", rpc.WithMaxCalls(1), true, false, false},
		{"WithIdleTimeout", rpc.WithIdleTimeout(1), true, false, false},
		{"WithStallTimeout", rpc.WithStallTimeout(1), true, false, false},
		{"WithClientInterceptor", rpc.WithClientInterceptor(), false, true, true},
		{"WithRetry", rpc.WithRetry(rpc.RetryPolicy{}), false, true, true},
		{"WithDialer", rpc.WithDialer(transport.NewTCPDialer()), false, false, true},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.opt)
		assert.Equal(t, tt.server, typ.Implements(server), "%s for NewServer", tt.name)
		assert.Equal(t, tt.client, typ.Implements(client), "%s for NewClient", tt.name)
		assert.Equal(t, tt.dial, typ.Implements(dial), "%s for Dial", tt.name)
	}
}

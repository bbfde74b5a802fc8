package dashboard_test

import (
	"context"
	"testing"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// BenchmarkMessages measures what a dashboard costs the network it shows:
// messages sent and received on a netsim conn, with no dashboard (the
// baseline), and with one that encodes every event for a browser.
//
//	go test -run='^$' -bench=Messages -benchmem ./dashboard/
func BenchmarkMessages(b *testing.B) {
	for _, tt := range []struct {
		name  string
		watch bool
	}{{"netsim", false}, {"netsim+dashboard", true}} {
		b.Run(tt.name, func(b *testing.B) {
			n := netsim.NewNetwork(1)
			defer n.Close()
			if tt.watch {
				d := dashboard.New(n)
				defer d.Close()
			}
			l, err := n.Listen("b")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			a, err := n.Dial(ctx, "a", "b")
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			c, err := l.Accept(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, 64)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := a.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Recv(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

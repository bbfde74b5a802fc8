// Package kcp holds no code, only a benchmark: transport/reliable beside
// kcp-go (github.com/xtaci/kcp-go/v5) in its fast mode, streaming messages
// over loopback UDP at 0% and 5% loss. It is a module of its own so that
// the library itself does not depend on kcp-go:
//
//	cd bench/kcp && go test -run='^$' -bench=. -benchmem
package kcp

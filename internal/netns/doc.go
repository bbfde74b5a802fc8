// Package netns builds small networks of Linux network namespaces for
// tests that must cross real network stacks: each node is a namespace of
// its own, with one interface (eth0, an address 10.99.0.N/24) joined by a
// veth pair to a bridge in a hub namespace, so nodes reach each other
// through the kernel's TCP/IP, ARP and bridging, as machines on one switch
// do, and through nothing else: the addresses exist only in the namespaces
// the test made.
//
//	hub namespace:   br0 ── n1 ─┬─ (veth) ── eth0  node "coord"  10.99.0.1
//	                     ── n2 ─┼─ (veth) ── eth0  node "w1"     10.99.0.2
//	                     ── b3 ─┘  d3 ⇄ n3 ─ eth0  node "w2"     10.99.0.3 (delayed)
//
// A test cuts a node's link (Cut: the bridge port goes down, as when a
// cable is pulled), heals it, adds random loss (SetLoss), and runs
// programs inside nodes (Command, Start), which are always killed at the
// end of the test.
//
// Loss and delay use tc netem where the kernel has it. Where it does not
// (CONFIG_NET_SCH_NETEM unset, as on the machine this was written on),
// loss is an nftables rule on the bridge, "numgen random mod 10000 < N
// drop", and delay is a delay line in this process: two AF_PACKET sockets
// in the hub namespace, on the node's veth and on a second veth pair into
// the bridge, forwarding every frame after the delay, both ways (the d3 ⇄
// n3 of node w2 above). Frames keep their offload metadata (PACKET_VNET_HDR),
// so TCP's large segments and partial checksums cross intact. WithDelay
// sets a node's delay, one way, per direction; two delayed nodes talk
// through both their delays.
//
// Everything a Net makes is named with a prefix unique to the process and
// the Net ("dsns-PID-N-"), and removed by the test's Cleanup, on failure
// too; New first sweeps what a crashed earlier run left behind (namespaces
// whose process is gone, and the programs still running in them).
//
// It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the ip command of
// iproute2; loss without netem needs nft (Debian's nftables package).
// Available says what is missing; New skips the test with that message.
package netns

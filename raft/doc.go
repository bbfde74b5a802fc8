// Package raft is the Raft consensus algorithm (Ongaro and Ousterhout, "In
// Search of an Understandable Consensus Algorithm", 2014), written to be
// read beside the paper.
//
// (Work in progress: the protocol core, storage and driver land in later
// commits; this file is completed with them.)
package raft

package raft_test

import (
	"testing"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/storagetest"
)

func TestMemoryStorageContract(t *testing.T) {
	storagetest.RunStorageTests(t, func(t *testing.T) raft.Storage { return raft.NewMemoryStorage() })
}

// The zero MemoryStorage is ready to use.
func TestZeroMemoryStorageContract(t *testing.T) {
	storagetest.RunStorageTests(t, func(t *testing.T) raft.Storage { return new(raft.MemoryStorage) })
}

package bench

import (
	"encoding/binary"
	"os"
	"path/filepath"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// etcdLog is the smallest durable log for etcd raft: each Ready's hard
// state and entries appended to one file as length-prefixed protobufs,
// then one fsync when the Ready must be synced, as raft/wal does once per
// Save. It is never read back:
// the benchmark pays for durability, and does not restart.
type etcdLog struct {
	f   *os.File
	buf []byte
}

func openEtcdLog(dir string) (*etcdLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &etcdLog{f: f}, nil
}

func (l *etcdLog) save(hs *pb.HardState, ents []*pb.Entry, sync bool) error {
	l.buf = l.buf[:0]
	var err error
	if hs != nil {
		if l.buf, err = appendProto(l.buf, hs); err != nil {
			return err
		}
	}
	for _, e := range ents {
		if l.buf, err = appendProto(l.buf, e); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(l.buf); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return l.f.Sync()
}

func appendProto(dst []byte, m proto.Message) ([]byte, error) {
	n := proto.Size(m)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	return proto.MarshalOptions{}.MarshalAppend(dst, m)
}

func (l *etcdLog) Close() error { return l.f.Close() }

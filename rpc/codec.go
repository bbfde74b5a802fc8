package rpc

import (
	"bytes"
	"encoding/json"
)

// A Codec turns argument and reply values into bytes and back. Client and
// server must use the same codec: each request names its codec, and a server
// refuses a request encoded with another one (ErrBadRequest), rather than
// guessing.
//
// The default is NewGobCodec; NewJSONCodec is slower but readable, and
// speaks to programs in other languages. WithCodec picks one. A Codec must
// be safe for concurrent use by multiple goroutines.
type Codec interface {
	// Name identifies the codec on the wire: "gob", "json".
	Name() string
	// Append appends the encoding of v to b and returns the extended slice.
	Append(b []byte, v any) ([]byte, error)
	// Decode decodes data into v, a non-nil pointer to a zero value.
	// Decode must not keep data, or any part of it, after it returns
	// (copy what v needs): client and server receive messages into
	// buffers they reuse. encoding/gob and encoding/json copy.
	Decode(data []byte, v any) error
}

// NewJSONCodec returns a Codec that encodes values as JSON with
// encoding/json. Field names travel with every message, so it is larger and
// slower than gob, but a person can read it.
func NewJSONCodec() Codec { return jsonCodec{} }

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Append(b []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return b, err
	}
	return buf.Bytes(), nil
}

func (jsonCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

package rpc

// Reflection lives in this file and in the gob codec, nowhere else. It does
// three things: find a receiver's methods of the accepted shapes and call
// them (the only way to serve arbitrary methods by name, as net/rpc does),
// check that argument and reply types survive the wire, and zero a reply
// before it is decoded.

import (
	"context"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// method is one registered method, ready to call.
type method struct {
	name      string        // "Service.Method"
	rcvr      reflect.Value // the registered receiver
	fn        reflect.Value // the method as a function taking the receiver first
	withCtx   bool          // fn takes a context.Context before the arguments
	withErr   bool          // fn returns an error (labrpc's handlers return nothing)
	argType   reflect.Type  // the type of the args parameter
	replyType reflect.Type  // what the reply parameter points to
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// suitableMethods returns the methods of rcvr that have one of the shapes
//
//	func (t *T) M(ctx context.Context, args A, reply *R) error
//	func (t *T) M(args A, reply *R) error   // net/rpc's
//	func (t *T) M(args A, reply *R)         // labrpc's: it cannot fail
//
// (A is usually a pointer) named "service.M", after checking that A and R
// survive the wire (see checkWireType). Other methods are ignored, as
// net/rpc ignores them.
func suitableMethods(service string, rcvr any) ([]*method, error) {
	v := reflect.ValueOf(rcvr)
	t := v.Type()
	var methods []*method
	for i := range t.NumMethod() {
		m := t.Method(i)
		withCtx, withErr, ok := servable(m)
		if !ok {
			continue
		}
		ft := m.Type
		argType, replyType := ft.In(ft.NumIn()-2), ft.In(ft.NumIn()-1)
		name := service + "." + m.Name
		if err := checkWireType(argType, "args"); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidService, name, err)
		}
		if err := checkWireType(replyType, "reply"); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidService, name, err)
		}
		methods = append(methods, &method{
			name: name, rcvr: v, fn: m.Func, withCtx: withCtx, withErr: withErr,
			argType: argType, replyType: replyType.Elem(),
		})
	}
	if len(methods) == 0 {
		hint := ""
		if pt := reflect.PointerTo(t); t.Kind() != reflect.Pointer && hasServable(pt) {
			// As net/rpc says: the methods are there, on the pointer.
			hint = fmt.Sprintf(" (hint: its methods are on %v: pass a pointer, &%v{...})", pt, t)
		}
		return nil, fmt.Errorf("%w: type %v has no exported methods of the form "+
			"M(args *A, reply *R) error or M(ctx context.Context, args *A, reply *R) error%s", ErrInvalidService, t, hint)
	}
	return methods, nil
}

// servable reports whether m has one of the shapes suitableMethods serves,
// whether it takes a context and whether it returns an error.
func servable(m reflect.Method) (withCtx, withErr, ok bool) {
	ft := m.Type // the receiver is parameter 0
	withErr = ft.NumOut() == 1 && ft.Out(0) == errorType
	if !m.IsExported() || ft.NumOut() != 0 && !withErr {
		return false, false, false
	}
	in := ft.NumIn()
	withCtx = in == 4 && ft.In(1) == ctxType
	if in != 3 && !withCtx {
		return false, false, false
	}
	return withCtx, withErr, ft.In(in-1).Kind() == reflect.Pointer
}

// hasServable reports whether t has a method suitableMethods would serve.
func hasServable(t reflect.Type) bool {
	for i := range t.NumMethod() {
		if _, _, ok := servable(t.Method(i)); ok {
			return true
		}
	}
	return false
}

// serviceName is the name Register gives rcvr: its type's name, without
// the pointer.
func serviceName(rcvr any) string {
	t := reflect.TypeOf(rcvr)
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// newArgs returns a new zero argument and reply for m. args is a pointer
// whether or not the method takes one, so that it can be decoded into. A
// reply of map or slice type starts empty rather than nil, as in net/rpc,
// so that a handler may write into it (*reply)[k] = v.
func (m *method) newArgs() (args, reply any) {
	if m.argType.Kind() == reflect.Pointer {
		args = reflect.New(m.argType.Elem()).Interface()
	} else {
		args = reflect.New(m.argType).Interface()
	}
	rv := reflect.New(m.replyType)
	switch m.replyType.Kind() {
	case reflect.Map:
		rv.Elem().Set(reflect.MakeMap(m.replyType))
	case reflect.Slice:
		rv.Elem().Set(reflect.MakeSlice(m.replyType, 0, 0))
	}
	return args, rv.Interface()
}

// call runs the method.
func (m *method) call(ctx context.Context, args, reply any) error {
	av := reflect.ValueOf(args)
	if m.argType.Kind() != reflect.Pointer {
		av = av.Elem()
	}
	var out []reflect.Value
	if m.withCtx {
		// ValueOf(ctx) holds ctx's concrete type, which Call converts to
		// the context.Context parameter; ValueOf(&ctx).Elem() would move
		// ctx to the heap on every call, handlers without one included.
		out = m.fn.Call([]reflect.Value{m.rcvr, reflect.ValueOf(ctx), av, reflect.ValueOf(reply)})
	} else {
		out = m.fn.Call([]reflect.Value{m.rcvr, av, reflect.ValueOf(reply)})
	}
	if !m.withErr {
		return nil
	}
	err, _ := out[0].Interface().(error)
	return err
}

// Types that encode themselves are opaque to checkWireType: their own
// methods decide what is sent.
var selfEncoders = []reflect.Type{
	reflect.TypeFor[gob.GobEncoder](),
	reflect.TypeFor[encoding.BinaryMarshaler](),
	reflect.TypeFor[encoding.TextMarshaler](),
	reflect.TypeFor[json.Marshaler](),
}

// checkWireType reports the first part of t that would not cross the wire
// intact: an unexported struct field (gob and JSON silently skip it, which
// MIT's labgob warns about at run time), a channel or a function. Types
// that encode themselves, and interfaces (whose contents are only known at
// run time), are not looked into. root names t in the message ("args").
func checkWireType(t reflect.Type, root string) error {
	return walkType(t, root, map[reflect.Type]bool{}, func(t reflect.Type, path string) error {
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return fmt.Errorf("%s is a %v, which cannot be sent", path, t.Kind())
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); !f.IsExported() {
					return fmt.Errorf("%s: type %v has unexported field %s, which would silently not be sent; "+
						"export it (%s)", path, t, f.Name, strings.ToUpper(f.Name[:1])+f.Name[1:])
				}
			}
		}
		return nil
	})
}

// holdsInterface reports whether values of t can hold interface values.
func holdsInterface(t reflect.Type) bool {
	err := walkType(t, "", map[reflect.Type]bool{}, func(t reflect.Type, _ string) error {
		if t.Kind() == reflect.Interface {
			return errFound
		}
		return nil
	})
	return err != nil
}

var errFound = fmt.Errorf("found")

// walkType calls visit on t and every type reachable from it through
// pointers, slices, arrays, maps and exported struct fields, each once,
// stopping at self-encoding types and at the first error.
func walkType(t reflect.Type, path string, seen map[reflect.Type]bool, visit func(reflect.Type, string) error) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	for _, s := range selfEncoders {
		if t.Implements(s) || reflect.PointerTo(t).Implements(s) {
			return nil
		}
	}
	if err := visit(t, path); err != nil {
		return err
	}
	switch t.Kind() {
	case reflect.Pointer:
		return walkType(t.Elem(), path, seen, visit)
	case reflect.Slice, reflect.Array:
		return walkType(t.Elem(), path+"[i]", seen, visit)
	case reflect.Map:
		if err := walkType(t.Key(), path+"[key]", seen, visit); err != nil {
			return err
		}
		return walkType(t.Elem(), path+"[value]", seen, visit)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if err := walkType(f.Type, path+"."+f.Name, seen, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

// zero sets what v points to to its zero value, so that decoding into it
// leaves exactly what was sent (gob and JSON both leave absent fields
// alone). v must be a non-nil pointer; anything else is left for the codec
// to complain about.
//
// With keepBytes, a byte slice (v itself, or an exported field of the
// struct v points to) keeps its array, emptied, so that gob decodes into
// it instead of allocating another, as encoding/json reuses slices; after
// decoding, unkeepBytes sets to nil those gob left empty. Gob never sends
// an empty slice, so an empty one was not sent, and decoding into a zero
// value would have left it nil: the result is the same, and for a 4 KiB
// reply, a 4 KiB allocation fewer.
func zero(v any, keepBytes bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return
	}
	e := rv.Elem()
	switch {
	case !keepBytes:
		e.SetZero()
	case isBytes(e.Type()):
		e.SetLen(0)
	case e.Kind() == reflect.Struct:
		// Save the slices, zero the whole struct (unexported fields
		// included, which reflect cannot set one by one), put them back.
		// (Bytes and SetBytes, unlike Slice and Set, allocate nothing.)
		var kept [4]struct {
			i int
			b []byte
		}
		n := 0
		for i := range e.NumField() {
			if f := e.Field(i); n < len(kept) && f.CanSet() && isBytes(f.Type()) && f.Cap() > 0 {
				kept[n].i, kept[n].b = i, f.Bytes()[:0]
				n++
			}
		}
		e.SetZero()
		for _, k := range kept[:n] {
			e.Field(k.i).SetBytes(k.b)
		}
	default:
		e.SetZero()
	}
}

// unkeepBytes sets to nil the byte slices that zero(v, true) kept and
// decoding left empty.
func unkeepBytes(v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return
	}
	e := rv.Elem()
	switch {
	case isBytes(e.Type()):
		if e.Len() == 0 {
			e.SetZero()
		}
	case e.Kind() == reflect.Struct:
		for i := range e.NumField() {
			if f := e.Field(i); f.CanSet() && isBytes(f.Type()) && f.Len() == 0 {
				f.SetZero()
			}
		}
	}
}

func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

package codec

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Marshaler is implemented by types with their own encoding. MarshalFlow must
// write exactly one value and be canonical: equal values, equal bytes.
type Marshaler interface {
	MarshalFlow(e *Encoder)
}

// Unmarshaler is implemented by pointers to types with their own encoding.
// UnmarshalFlow reads exactly one value and reports problems with
// [Decoder.Fail].
type Unmarshaler interface {
	UnmarshalFlow(d *Decoder)
}

// TypeError is returned when a Go type cannot cross the membrane.
type TypeError struct {
	Type   reflect.Type
	Reason string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("codec: type %s cannot cross the membrane: %s", e.Type, e.Reason)
}

// ErrorCodec converts values of the error interface. The flow package installs
// one that keeps registered sentinel errors recognisable with errors.Is.
type ErrorCodec struct {
	Encode func(err error) (code, message string)
	Decode func(code, message string) error
}

var errorCodec = ErrorCodec{
	Encode: func(err error) (string, string) { return "", err.Error() },
	Decode: func(_, message string) error { return errors.New(message) },
}

// SetErrorCodec installs the conversion used for values of the error
// interface. It is meant to be called once, from an init function.
func SetErrorCodec(c ErrorCodec) { errorCodec = c }

// EncodeError writes err (which may be nil) through the installed ErrorCodec.
func (e *Encoder) EncodeError(err error) {
	if err == nil {
		e.PutNil()
		return
	}
	code, msg := errorCodec.Encode(err)
	e.PutError(code, msg)
}

// DecodeError reads an error written by [Encoder.EncodeError].
func (d *Decoder) DecodeError() error {
	code, msg, ok := d.ReadError()
	if !ok || d.err != nil {
		return nil
	}
	return errorCodec.Decode(code, msg)
}

var (
	marshalerType       = reflect.TypeFor[Marshaler]()
	unmarshalerType     = reflect.TypeFor[Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
	errorType           = reflect.TypeFor[error]()
)

// A plan encodes and decodes one Go type.
type plan struct {
	enc func(e *Encoder, v reflect.Value)
	dec func(d *Decoder, v reflect.Value) // v is settable
	err error
}

var plans sync.Map // reflect.Type → *plan

// Check reports whether values of type t can cross the membrane.
func Check(t reflect.Type) error { return planFor(t).err }

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	b := builder{building: map[reflect.Type]*plan{}}
	p := b.build(t)
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*plan)
}

type builder struct {
	building map[reflect.Type]*plan
}

func (b *builder) build(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := b.building[t]; ok {
		return p // a recursive type; filled in when its outer build returns
	}
	p := &plan{}
	b.building[t] = p
	b.fill(p, t)
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		if p.err == nil {
			guard(p)
		}
	}
	return p
}

// guard bounds the nesting of a container plan, so a cyclic value fails to
// encode instead of overflowing the stack, and hostile input fails to decode.
func guard(p *plan) {
	enc, dec := p.enc, p.dec
	p.enc = func(e *Encoder, v reflect.Value) {
		if e.depth >= maxDepth {
			e.fail(fmt.Errorf("codec: value nested more than %d deep (is it cyclic?)", maxDepth))
			return
		}
		e.depth++
		enc(e, v)
		e.depth--
	}
	p.dec = func(d *Decoder, v reflect.Value) {
		if d.depth >= maxDepth {
			d.malformed("nesting too deep")
			return
		}
		d.depth++
		dec(d, v)
		d.depth--
	}
}

func unsupported(p *plan, t reflect.Type, reason string) {
	err := &TypeError{Type: t, Reason: reason}
	p.err = err
	p.enc = func(e *Encoder, _ reflect.Value) { e.fail(err) }
	p.dec = func(d *Decoder, _ reflect.Value) { d.Fail(err) }
}

func inherit(p *plan, t reflect.Type, inner *plan) bool {
	if inner.err != nil {
		unsupported(p, t, inner.err.Error())
		return true
	}
	return false
}

func (b *builder) fill(p *plan, t reflect.Type) {
	pt := reflect.PointerTo(t)
	switch {
	case t == timeType:
		p.enc = func(e *Encoder, v reflect.Value) { e.PutTime(v.Interface().(time.Time)) }
		p.dec = func(d *Decoder, v reflect.Value) { v.Set(reflect.ValueOf(d.ReadTime())) }
		return
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && pt.Implements(unmarshalerType) &&
		(t.Implements(marshalerType) || pt.Implements(marshalerType)):
		p.enc = func(e *Encoder, v reflect.Value) { addressable(v).Interface().(Marshaler).MarshalFlow(e) }
		p.dec = func(d *Decoder, v reflect.Value) { v.Addr().Interface().(Unmarshaler).UnmarshalFlow(d) }
		return
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && pt.Implements(textUnmarshalerType) &&
		(t.Implements(textMarshalerType) || pt.Implements(textMarshalerType)):
		p.enc = func(e *Encoder, v reflect.Value) {
			txt, err := addressable(v).Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				e.fail(fmt.Errorf("codec: %s: %w", t, err))
				return
			}
			e.putText(txt)
		}
		p.dec = func(d *Decoder, v reflect.Value) {
			txt := d.text()
			if d.err != nil {
				return
			}
			v.SetZero()
			if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(txt); err != nil {
				d.Fail(fmt.Errorf("codec: %s: %w", t, err))
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		p.enc = func(e *Encoder, v reflect.Value) { e.PutBool(v.Bool()) }
		p.dec = func(d *Decoder, v reflect.Value) { v.SetBool(d.ReadBool()) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		p.enc = func(e *Encoder, v reflect.Value) { e.PutInt(v.Int()) }
		p.dec = func(d *Decoder, v reflect.Value) { v.SetInt(d.ReadInt(bits)) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		p.enc = func(e *Encoder, v reflect.Value) { e.PutUint(v.Uint()) }
		p.dec = func(d *Decoder, v reflect.Value) { v.SetUint(d.ReadUint(bits)) }
	case reflect.Float32, reflect.Float64:
		p.enc = func(e *Encoder, v reflect.Value) { e.PutFloat(v.Float()) }
		p.dec = func(d *Decoder, v reflect.Value) { v.SetFloat(d.ReadFloat()) }
	case reflect.String:
		p.enc = func(e *Encoder, v reflect.Value) { e.PutString(v.String()) }
		p.dec = func(d *Decoder, v reflect.Value) { v.SetString(d.ReadString()) }
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			p.enc = func(e *Encoder, v reflect.Value) { e.PutBytes(v.Bytes()) }
			p.dec = func(d *Decoder, v reflect.Value) { v.SetBytes(d.ReadBytes()) }
			return
		}
		ep := b.build(t.Elem())
		if inherit(p, t, ep) {
			return
		}
		p.enc = func(e *Encoder, v reflect.Value) {
			if v.IsNil() {
				e.PutNil()
				return
			}
			n := v.Len()
			e.PutList(n)
			for i := 0; i < n && e.err == nil; i++ {
				ep.enc(e, v.Index(i))
			}
		}
		p.dec = func(d *Decoder, v reflect.Value) {
			if d.ReadNil() {
				v.SetZero()
				return
			}
			n := d.ReadList()
			if d.err != nil {
				return
			}
			s := reflect.MakeSlice(t, n, n)
			for i := 0; i < n && d.err == nil; i++ {
				ep.dec(d, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Array:
		n := t.Len()
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			p.enc = func(e *Encoder, v reflect.Value) {
				e.buf = append(e.buf, tagBytes)
				e.uvarint(uint64(n))
				for i := range n {
					e.buf = append(e.buf, byte(v.Index(i).Uint()))
				}
			}
			p.dec = func(d *Decoder, v reflect.Value) {
				if d.ReadNil() {
					v.SetZero()
					return
				}
				b := d.ReadBytes()
				if d.err == nil && len(b) != n {
					d.Fail(fmt.Errorf("codec: %d bytes for %s", len(b), t))
					return
				}
				reflect.Copy(v, reflect.ValueOf(b))
			}
			return
		}
		ep := b.build(t.Elem())
		if inherit(p, t, ep) {
			return
		}
		p.enc = func(e *Encoder, v reflect.Value) {
			e.PutList(n)
			for i := 0; i < n && e.err == nil; i++ {
				ep.enc(e, v.Index(i))
			}
		}
		p.dec = func(d *Decoder, v reflect.Value) {
			v.SetZero()
			if d.ReadNil() {
				return
			}
			got := d.ReadList()
			if d.err == nil && got != n {
				d.Fail(fmt.Errorf("codec: %d values for %s", got, t))
				return
			}
			for i := 0; i < n && d.err == nil; i++ {
				ep.dec(d, v.Index(i))
			}
		}
	case reflect.Map:
		kp, vp := b.build(t.Key()), b.build(t.Elem())
		if inherit(p, t, kp) || inherit(p, t, vp) {
			return
		}
		p.enc = func(e *Encoder, v reflect.Value) { encodeMap(e, v, kp, vp) }
		p.dec = func(d *Decoder, v reflect.Value) {
			switch tg := d.tag(); tg {
			case tagNil:
				v.SetZero()
				return
			case tagMap:
			default:
				d.mismatch(tg, t.String())
				return
			}
			n := d.count(2)
			if d.err != nil {
				return
			}
			m := reflect.MakeMapWithSize(t, n)
			for i := 0; i < n && d.err == nil; i++ {
				k := reflect.New(t.Key()).Elem()
				kp.dec(d, k)
				el := reflect.New(t.Elem()).Elem()
				vp.dec(d, el)
				if d.err == nil {
					m.SetMapIndex(k, el)
				}
			}
			v.Set(m)
		}
	case reflect.Pointer:
		ep := b.build(t.Elem())
		if inherit(p, t, ep) {
			return
		}
		p.enc = func(e *Encoder, v reflect.Value) {
			if v.IsNil() {
				e.PutNil()
				return
			}
			ep.enc(e, v.Elem())
		}
		p.dec = func(d *Decoder, v reflect.Value) {
			if d.ReadNil() {
				v.SetZero()
				return
			}
			nv := reflect.New(t.Elem())
			ep.dec(d, nv.Elem())
			v.Set(nv)
		}
	case reflect.Struct:
		b.fillStruct(p, t)
	case reflect.Interface:
		if t != errorType {
			unsupported(p, t, RefuseKind(reflect.Interface).String())
			return
		}
		p.enc = func(e *Encoder, v reflect.Value) {
			if v.IsNil() {
				e.PutNil()
				return
			}
			e.EncodeError(v.Interface().(error))
		}
		p.dec = func(d *Decoder, v reflect.Value) {
			err := d.DecodeError()
			if err == nil {
				v.SetZero()
				return
			}
			v.Set(reflect.ValueOf(err))
		}
	default:
		if r := RefuseKind(t.Kind()); r != nil {
			unsupported(p, t, r.String())
			return
		}
		unsupported(p, t, fmt.Sprintf("%s values have no encoding", t.Kind()))
	}
}

type fieldPlan struct {
	name  string
	index int
	plan  *plan
}

func (b *builder) fillStruct(p *plan, t reflect.Type) {
	var fields []fieldPlan
	seen := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, omit := FieldName(f.Name, f.Tag)
		if omit {
			continue
		}
		if !f.IsExported() {
			unsupported(p, t, RefuseUnexported(f.Name).String())
			return
		}
		if prev, dup := seen[name]; dup {
			unsupported(p, t, RefuseDuplicate(prev, f.Name, name).String())
			return
		}
		seen[name] = f.Name
		fp := b.build(f.Type)
		if fp.err != nil {
			unsupported(p, t, fmt.Sprintf("field %s: %v", f.Name, fp.err))
			return
		}
		fields = append(fields, fieldPlan{name: name, index: i, plan: fp})
	}
	slices.SortFunc(fields, func(a, b fieldPlan) int { return strings.Compare(a.name, b.name) })
	byName := make(map[string]int, len(fields))
	for i, f := range fields {
		byName[f.name] = i
	}
	p.enc = func(e *Encoder, v reflect.Value) {
		n := 0
		for _, f := range fields {
			if !v.Field(f.index).IsZero() {
				n++
			}
		}
		e.buf = append(e.buf, tagStruct)
		e.uvarint(uint64(n))
		for _, f := range fields {
			fv := v.Field(f.index)
			if fv.IsZero() {
				continue
			}
			e.str(f.name)
			f.plan.enc(e, fv)
		}
	}
	p.dec = func(d *Decoder, v reflect.Value) {
		v.SetZero()
		switch tg := d.tag(); tg {
		case tagNil:
			return
		case tagStruct:
		default:
			d.mismatch(tg, t.String())
			return
		}
		n := d.count(2)
		for i := 0; i < n && d.err == nil; i++ {
			name := d.raw(d.count(0))
			j, found := byName[string(name)] // no allocation for a lookup
			if !found {
				d.Skip() // a field this version does not know
				continue
			}
			fields[j].plan.dec(d, v.Field(fields[j].index))
		}
	}
}

func encodeMap(e *Encoder, v reflect.Value, kp, vp *plan) {
	if v.IsNil() {
		e.PutNil()
		return
	}
	type pair struct{ k, v []byte }
	pairs := make([]pair, 0, v.Len())
	var sub Encoder
	it := v.MapRange()
	for it.Next() {
		sub.Reset()
		kp.enc(&sub, it.Key())
		k := bytes.Clone(sub.buf)
		sub.Reset()
		vp.enc(&sub, it.Value())
		if sub.err != nil {
			e.fail(sub.err)
			return
		}
		pairs = append(pairs, pair{k, bytes.Clone(sub.buf)})
	}
	// By key, then by value: keys distinct in the map can encode alike (NaNs,
	// pointers to equal values), and their pairs must still come in one
	// order. Pairs equal in both are indistinguishable.
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := bytes.Compare(a.k, b.k); c != 0 {
			return c
		}
		return bytes.Compare(a.v, b.v)
	})
	e.buf = append(e.buf, tagMap)
	e.uvarint(uint64(len(pairs)))
	for _, p := range pairs {
		e.buf = append(e.buf, p.k...)
		e.buf = append(e.buf, p.v...)
	}
}

// addressable returns v, or an addressable copy of it, so methods with pointer
// receivers can be called.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v.Addr()
	}
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	return c
}

func encodeReflect(e *Encoder, v any) {
	rv := reflect.ValueOf(v)
	planFor(rv.Type()).enc(e, rv)
}

func decodeReflect(d *Decoder, ptr any) {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		d.Fail(fmt.Errorf("codec: decode needs a non-nil pointer, not %T", ptr))
		return
	}
	planFor(rv.Type().Elem()).dec(d, rv.Elem())
}

package codec

import (
	"encoding/binary"
	"math"
	"time"
)

// Tags start every encoded value.
const (
	tagNil    byte = 0x00
	tagFalse  byte = 0x01
	tagTrue   byte = 0x02
	tagPosInt byte = 0x03 // uvarint n, the value n
	tagNegInt byte = 0x04 // uvarint n, the value -1-n
	tagFloat  byte = 0x05 // 8 bytes, big-endian IEEE 754 bits
	tagString byte = 0x06 // uvarint length, UTF-8 bytes
	tagBytes  byte = 0x07 // uvarint length, bytes
	tagList   byte = 0x08 // uvarint count, values
	tagMap    byte = 0x09 // uvarint count, key/value pairs ordered by encoded key, then value
	tagStruct byte = 0x0a // uvarint count, name/value pairs ordered by name
	tagTime   byte = 0x0b // varint seconds, uvarint nanoseconds, varint zone offset seconds
	tagVow    byte = 0x0c // 16 bytes
	tagRef    byte = 0x0d // string kind, string name, string key
	tagError  byte = 0x0e // string code, string message
	tagText   byte = 0x0f // uvarint length, text of an encoding.TextMarshaler
	tagMax    byte = tagText
)

// canonicalNaN is the one bit pattern every NaN is written as.
const canonicalNaN = 0x7ff8000000000001

// An Encoder appends encoded values to a buffer. Its zero value is ready to
// use. Generated code writes tuples with the Put methods; [Encoder.Value]
// encodes any supported value by reflection. The first error is kept and
// reported by [Encoder.Err]; later writes are ignored.
type Encoder struct {
	buf   []byte
	err   error
	depth int
}

// NewEncoder returns an Encoder that appends to buf.
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns the encoded bytes. They are valid until the next write.
func (e *Encoder) Bytes() []byte { return e.buf }

// Err reports the first error met while encoding.
func (e *Encoder) Err() error { return e.err }

// Reset empties the buffer and clears the error, keeping the capacity.
func (e *Encoder) Reset() { e.buf, e.err = e.buf[:0], nil }

// Fail records err as the encoder's error unless one is already recorded.
// Generated encoders use it for a value that cannot be written.
func (e *Encoder) Fail(err error) { e.fail(err) }

func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *Encoder) uvarint(n uint64) { e.buf = binary.AppendUvarint(e.buf, n) }

// PutNil writes the absent value: a nil pointer, slice or map.
func (e *Encoder) PutNil() { e.buf = append(e.buf, tagNil) }

// PutBool writes a boolean.
func (e *Encoder) PutBool(b bool) {
	if b {
		e.buf = append(e.buf, tagTrue)
	} else {
		e.buf = append(e.buf, tagFalse)
	}
}

// PutInt writes a signed integer of any width.
func (e *Encoder) PutInt(i int64) {
	if i >= 0 {
		e.buf = append(e.buf, tagPosInt)
		e.uvarint(uint64(i))
		return
	}
	e.buf = append(e.buf, tagNegInt)
	e.uvarint(uint64(-(i + 1)))
}

// PutUint writes an unsigned integer of any width. An unsigned and a signed
// integer of the same value encode alike.
func (e *Encoder) PutUint(u uint64) {
	e.buf = append(e.buf, tagPosInt)
	e.uvarint(u)
}

// PutFloat writes a floating-point number. Every NaN is written alike.
func (e *Encoder) PutFloat(f float64) {
	bits := math.Float64bits(f)
	if f != f {
		bits = canonicalNaN
	}
	e.buf = append(e.buf, tagFloat)
	e.buf = binary.BigEndian.AppendUint64(e.buf, bits)
}

// PutString writes a string.
func (e *Encoder) PutString(s string) {
	e.buf = append(e.buf, tagString)
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// PutBytes writes a byte slice; a nil slice is written as nil.
func (e *Encoder) PutBytes(b []byte) {
	if b == nil {
		e.PutNil()
		return
	}
	e.buf = append(e.buf, tagBytes)
	e.uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// PutList writes the header of a list of n values; the values follow.
func (e *Encoder) PutList(n int) {
	e.buf = append(e.buf, tagList)
	e.uvarint(uint64(n))
}

// PutTime writes an instant with its zone offset. The location name and the
// monotonic clock reading are not kept.
func (e *Encoder) PutTime(t time.Time) {
	_, offset := t.Zone()
	e.buf = append(e.buf, tagTime)
	e.buf = binary.AppendVarint(e.buf, t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	e.buf = binary.AppendVarint(e.buf, int64(offset))
}

// PutVow writes a vow identifier.
func (e *Encoder) PutVow(id [16]byte) {
	e.buf = append(e.buf, tagVow)
	e.buf = append(e.buf, id[:]...)
}

// PutRef writes a reference to a host object: its kind ("service" for a named
// service, "object" for a keyed host object), its name (the service's name, or
// the resolver's) and its key (empty for a service).
func (e *Encoder) PutRef(kind, name, key string) {
	e.buf = append(e.buf, tagRef)
	e.str(kind)
	e.str(name)
	e.str(key)
}

// PutError writes an error as its stable code and message.
func (e *Encoder) PutError(code, message string) {
	e.buf = append(e.buf, tagError)
	e.str(code)
	e.str(message)
}

func (e *Encoder) putText(b []byte) {
	e.buf = append(e.buf, tagText)
	e.uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// str writes a string without its tag, for fields whose kind is fixed.
func (e *Encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Value writes any supported value by reflection (see the package
// documentation for what is supported).
func (e *Encoder) Value(v any) {
	if e.err != nil {
		return
	}
	switch x := v.(type) {
	case nil:
		e.PutNil()
	case string:
		e.PutString(x)
	case int:
		e.PutInt(int64(x))
	case int64:
		e.PutInt(x)
	case bool:
		e.PutBool(x)
	case []byte:
		e.PutBytes(x)
	case float64:
		e.PutFloat(x)
	case Raw:
		x.MarshalFlow(e)
	default:
		encodeReflect(e, v)
	}
}

// Marshal encodes v.
func Marshal(v any) ([]byte, error) {
	e := Encoder{buf: make([]byte, 0, 128)}
	e.Value(v)
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// MarshalTuple encodes vs as one list, the form of argument and result tuples.
func MarshalTuple(vs ...any) ([]byte, error) {
	e := Encoder{buf: make([]byte, 0, 64)}
	e.PutList(len(vs))
	for _, v := range vs {
		e.Value(v)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// Raw is an already encoded value, written as is. It lets one encoding be
// embedded in another without decoding it. An empty Raw is written as nil.
type Raw []byte

// MarshalFlow implements Marshaler.
func (r Raw) MarshalFlow(e *Encoder) {
	if len(r) == 0 {
		e.PutNil()
		return
	}
	e.buf = append(e.buf, r...)
}

// UnmarshalFlow implements Unmarshaler.
func (r *Raw) UnmarshalFlow(d *Decoder) { *r = append(Raw(nil), d.ReadRaw()...) }

package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrMalformed is returned when bytes are not a well-formed encoding: cut
// short, an unknown tag, a length past the end, or nesting too deep.
var ErrMalformed = errors.New("codec: malformed encoding")

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 256

// A Decoder reads encoded values from a byte slice. The first error is kept
// and reported by [Decoder.Err]; after it every read returns a zero value.
type Decoder struct {
	buf   []byte
	off   int
	err   error
	depth int
	onRef func(kind, name, key string) // called by Skip for each reference; see Refs
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err reports the first error met while decoding.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless one is already recorded.
// Generated decoders use it to report a value that does not fit.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Done reports an error if bytes remain after the last value read.
func (d *Decoder) Done() error {
	if d.err == nil && d.off != len(d.buf) {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.buf)-d.off)
	}
	return d.err
}

// Remaining reports how many bytes are left.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

func (d *Decoder) malformed(what string) {
	d.Fail(fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.off))
}

func (d *Decoder) mismatch(tag byte, want string) {
	if tag > tagMax {
		d.off--
		d.malformed(fmt.Sprintf("unknown tag 0x%02x", tag))
		return
	}
	d.Fail(&MismatchError{Got: tagName(tag), Want: want})
}

// MismatchError is returned when an encoded value does not fit the Go type it
// is decoded into.
type MismatchError struct {
	Got  string // the encoded kind
	Want string // the Go type or kind expected
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("codec: cannot decode %s into %s", e.Got, e.Want)
}

func (d *Decoder) peek() byte {
	if d.err != nil {
		return tagNil
	}
	if d.off >= len(d.buf) {
		d.malformed("unexpected end")
		return tagNil
	}
	return d.buf[d.off]
}

func (d *Decoder) tag() byte {
	t := d.peek()
	if d.err == nil {
		d.off++
	}
	return t
}

func (d *Decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.buf[d.off:])
	if k <= 0 {
		d.malformed("bad varint")
		return 0
	}
	d.off += k
	return n
}

func (d *Decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.buf[d.off:])
	if k <= 0 {
		d.malformed("bad varint")
		return 0
	}
	d.off += k
	return n
}

// count reads a length or element count and checks that at least min bytes per
// unit remain, so hostile counts cannot cause huge allocations.
func (d *Decoder) count(min int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.buf)-d.off) || (min > 0 && n*uint64(min) > uint64(len(d.buf)-d.off)) {
		d.malformed("length past end")
		return 0
	}
	return int(n)
}

func (d *Decoder) raw(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf)-d.off {
		d.malformed("length past end")
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

func (d *Decoder) str() string {
	n := d.count(0)
	return string(d.raw(n))
}

// ReadNil reads a nil if the next value is one, and reports whether it was.
func (d *Decoder) ReadNil() bool {
	if d.peek() == tagNil && d.err == nil {
		d.off++
		return true
	}
	return false
}

// ReadBool reads a boolean.
func (d *Decoder) ReadBool() bool {
	switch t := d.tag(); t {
	case tagTrue:
		return true
	case tagFalse, tagNil:
		return false
	default:
		d.mismatch(t, "bool")
		return false
	}
}

// ReadInt reads a signed integer that fits in bits bits (8 to 64).
func (d *Decoder) ReadInt(bits int) int64 {
	switch t := d.tag(); t {
	case tagNil:
		return 0
	case tagPosInt:
		n := d.uvarint()
		if n > uint64(1)<<(bits-1)-1 {
			d.Fail(fmt.Errorf("codec: %d overflows int%d", n, bits))
			return 0
		}
		return int64(n)
	case tagNegInt:
		n := d.uvarint()
		if n > uint64(1)<<(bits-1)-1 {
			d.Fail(fmt.Errorf("codec: -%d-1 overflows int%d", n, bits))
			return 0
		}
		return -int64(n) - 1
	default:
		d.mismatch(t, "integer")
		return 0
	}
}

// ReadUint reads an unsigned integer that fits in bits bits (8 to 64).
func (d *Decoder) ReadUint(bits int) uint64 {
	switch t := d.tag(); t {
	case tagNil:
		return 0
	case tagPosInt:
		n := d.uvarint()
		if bits < 64 && n > uint64(1)<<bits-1 {
			d.Fail(fmt.Errorf("codec: %d overflows uint%d", n, bits))
			return 0
		}
		return n
	case tagNegInt:
		d.uvarint()
		d.Fail(fmt.Errorf("codec: negative value for uint%d", bits))
		return 0
	default:
		d.mismatch(t, "unsigned integer")
		return 0
	}
}

// ReadFloat reads a floating-point number; integers are accepted too.
func (d *Decoder) ReadFloat() float64 {
	switch t := d.tag(); t {
	case tagNil:
		return 0
	case tagFloat:
		b := d.raw(8)
		if d.err != nil {
			return 0
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	case tagPosInt:
		return float64(d.uvarint())
	case tagNegInt:
		return -float64(d.uvarint()) - 1
	default:
		d.mismatch(t, "float")
		return 0
	}
}

// ReadString reads a string.
func (d *Decoder) ReadString() string {
	switch t := d.tag(); t {
	case tagNil:
		return ""
	case tagString, tagText:
		return d.str()
	default:
		d.mismatch(t, "string")
		return ""
	}
}

// ReadBytes reads a byte slice into fresh memory.
func (d *Decoder) ReadBytes() []byte {
	switch t := d.tag(); t {
	case tagNil:
		return nil
	case tagBytes:
		n := d.count(0)
		b := d.raw(n)
		if d.err != nil {
			return nil
		}
		return append(make([]byte, 0, n), b...)
	default:
		d.mismatch(t, "bytes")
		return nil
	}
}

// ReadList reads a list header and returns the number of values that follow; a
// nil value reads as an empty list.
func (d *Decoder) ReadList() int {
	switch t := d.tag(); t {
	case tagNil:
		return 0
	case tagList:
		return d.count(1)
	default:
		d.mismatch(t, "list")
		return 0
	}
}

// ReadTime reads an instant. A zero offset gives UTC, any other a fixed zone.
func (d *Decoder) ReadTime() time.Time {
	switch t := d.tag(); t {
	case tagNil:
		return time.Time{}
	case tagTime:
		sec := d.varint()
		nsec := d.uvarint()
		off := d.varint()
		if d.err != nil {
			return time.Time{}
		}
		if nsec >= 1e9 || off < -24*3600 || off > 24*3600 {
			d.malformed("bad time")
			return time.Time{}
		}
		tm := time.Unix(sec, int64(nsec))
		if off == 0 {
			return tm.UTC()
		}
		return tm.In(time.FixedZone("", int(off)))
	default:
		d.mismatch(t, "time")
		return time.Time{}
	}
}

// ReadVow reads a vow identifier; nil reads as the zero identifier.
func (d *Decoder) ReadVow() [16]byte {
	var id [16]byte
	switch t := d.tag(); t {
	case tagNil:
	case tagVow:
		copy(id[:], d.raw(16))
	default:
		d.mismatch(t, "vow")
	}
	return id
}

// ReadRef reads a host object reference written by [Encoder.PutRef].
func (d *Decoder) ReadRef() (kind, name, key string) {
	switch t := d.tag(); t {
	case tagNil:
	case tagRef:
		kind, name, key = d.str(), d.str(), d.str()
	default:
		d.mismatch(t, "host reference")
	}
	return kind, name, key
}

// ReadError reads an error written by [Encoder.PutError]; ok is false for nil.
func (d *Decoder) ReadError() (code, message string, ok bool) {
	switch t := d.tag(); t {
	case tagNil:
	case tagError:
		code, message, ok = d.str(), d.str(), true
	default:
		d.mismatch(t, "error")
	}
	return code, message, ok
}

func (d *Decoder) text() []byte {
	switch t := d.tag(); t {
	case tagNil:
		return nil
	case tagText, tagString:
		n := d.count(0)
		return d.raw(n)
	default:
		d.mismatch(t, "text")
		return nil
	}
}

// ReadRaw reads the next value, whatever it is, and returns its encoded bytes.
func (d *Decoder) ReadRaw() []byte {
	start := d.off
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.buf[start:d.off]
}

// Skip passes over the next value, whatever it is.
func (d *Decoder) Skip() {
	if d.depth >= maxDepth {
		d.malformed("nesting too deep")
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	switch t := d.tag(); t {
	case tagNil, tagFalse, tagTrue:
	case tagPosInt, tagNegInt:
		d.uvarint()
	case tagFloat:
		d.raw(8)
	case tagString, tagBytes, tagText:
		d.raw(d.count(0))
	case tagList:
		n := d.count(1)
		for i := 0; i < n && d.err == nil; i++ {
			d.Skip()
		}
	case tagMap:
		n := d.count(2)
		for i := 0; i < 2*n && d.err == nil; i++ {
			d.Skip()
		}
	case tagStruct:
		n := d.count(2)
		for i := 0; i < n && d.err == nil; i++ {
			d.raw(d.count(0))
			d.Skip()
		}
	case tagTime:
		d.varint()
		d.uvarint()
		d.varint()
	case tagVow:
		d.raw(16)
	case tagRef:
		kind, name, key := d.str(), d.str(), d.str()
		if d.onRef != nil && d.err == nil {
			d.onRef(kind, name, key)
		}
	case tagError:
		d.str()
		d.str()
	default:
		if d.err == nil {
			d.off--
			d.malformed(fmt.Sprintf("unknown tag 0x%02x", t))
		}
	}
}

// Value decodes the next value into the value ptr points to, by reflection.
func (d *Decoder) Value(ptr any) {
	if d.err != nil {
		return
	}
	switch p := ptr.(type) {
	case *string:
		*p = d.ReadString()
	case *int:
		*p = int(d.ReadInt(64))
	case *int64:
		*p = d.ReadInt(64)
	case *bool:
		*p = d.ReadBool()
	case *[]byte:
		*p = d.ReadBytes()
	default:
		decodeReflect(d, ptr)
	}
}

// Unmarshal decodes data, which must hold exactly one value, into the value
// ptr points to.
func Unmarshal(data []byte, ptr any) error {
	d := Decoder{buf: data}
	d.Value(ptr)
	return d.Done()
}

// Valid reports whether data is exactly one well-formed value.
func Valid(data []byte) error {
	d := Decoder{buf: data}
	d.Skip()
	return d.Done()
}

func tagName(t byte) string {
	switch t {
	case tagNil:
		return "nil"
	case tagFalse, tagTrue:
		return "bool"
	case tagPosInt, tagNegInt:
		return "integer"
	case tagFloat:
		return "float"
	case tagString:
		return "string"
	case tagBytes:
		return "bytes"
	case tagList:
		return "list"
	case tagMap:
		return "map"
	case tagStruct:
		return "struct"
	case tagTime:
		return "time"
	case tagVow:
		return "vow"
	case tagRef:
		return "host reference"
	case tagError:
		return "error"
	case tagText:
		return "text"
	}
	return fmt.Sprintf("tag 0x%02x", t)
}

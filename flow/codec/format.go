package codec

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxFormat bounds the text Format produces, so a huge value cannot flood a
// diagnostic.
const maxFormat = 2048

// Format renders encoded bytes as readable text, without knowing their Go
// type: strings quoted, structs as {Name: value}, lists as [a, b], maps as
// {key: value}, times in RFC 3339. Malformed input is rendered as far as it is
// well formed, followed by a note of what is wrong.
func Format(b []byte) string {
	var sb strings.Builder
	d := Decoder{buf: b}
	for first := true; d.off < len(d.buf) && d.err == nil; first = false {
		if !first {
			sb.WriteString(" ")
		}
		formatValue(&sb, &d)
	}
	if d.err != nil {
		sb.WriteString(" <")
		sb.WriteString(d.err.Error())
		sb.WriteString(">")
	}
	if sb.Len() > maxFormat {
		return sb.String()[:maxFormat] + "…"
	}
	return sb.String()
}

// FormatTuple renders an encoded list as comma-separated values without the
// brackets, the way arguments are written in a call.
func FormatTuple(b []byte) string {
	s := Format(b)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return s[1 : len(s)-1]
	}
	return s
}

func formatValue(sb *strings.Builder, d *Decoder) {
	if sb.Len() > maxFormat {
		d.Skip()
		return
	}
	if d.depth >= maxDepth {
		d.malformed("nesting too deep")
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	switch t := d.tag(); t {
	case tagNil:
		sb.WriteString("nil")
	case tagFalse:
		sb.WriteString("false")
	case tagTrue:
		sb.WriteString("true")
	case tagPosInt:
		sb.WriteString(strconv.FormatUint(d.uvarint(), 10))
	case tagNegInt:
		n := d.uvarint()
		if n == math.MaxUint64 {
			sb.WriteString("-18446744073709551616")
		} else {
			sb.WriteString("-" + strconv.FormatUint(n+1, 10))
		}
	case tagFloat:
		if b := d.raw(8); d.err == nil {
			sb.WriteString(strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(b)), 'g', -1, 64))
		}
	case tagString, tagText:
		sb.WriteString(strconv.Quote(d.str()))
	case tagBytes:
		b := d.raw(d.count(0))
		sb.WriteString("0x")
		if len(b) > 64 {
			sb.WriteString(hex.EncodeToString(b[:64]))
			sb.WriteString("…(" + strconv.Itoa(len(b)) + " bytes)")
		} else {
			sb.WriteString(hex.EncodeToString(b))
		}
	case tagList:
		n := d.count(1)
		sb.WriteString("[")
		for i := 0; i < n && d.err == nil; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			formatValue(sb, d)
		}
		sb.WriteString("]")
	case tagMap:
		n := d.count(2)
		sb.WriteString("{")
		for i := 0; i < n && d.err == nil; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			formatValue(sb, d)
			sb.WriteString(": ")
			formatValue(sb, d)
		}
		sb.WriteString("}")
	case tagStruct:
		n := d.count(2)
		sb.WriteString("{")
		for i := 0; i < n && d.err == nil; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(d.str())
			sb.WriteString(": ")
			formatValue(sb, d)
		}
		sb.WriteString("}")
	case tagTime:
		d.off--
		if tm := d.ReadTime(); d.err == nil {
			sb.WriteString(tm.Format(time.RFC3339Nano))
		}
	case tagVow:
		if b := d.raw(16); d.err == nil {
			sb.WriteString("vow:" + hex.EncodeToString(b))
		}
	case tagRef:
		kind, name, key := d.str(), d.str(), d.str()
		sb.WriteString(FormatRef(kind, name, key))
	case tagError:
		code, msg := d.str(), d.str()
		sb.WriteString("error(")
		if code != "" {
			sb.WriteString(code + ": ")
		}
		sb.WriteString(strconv.Quote(msg) + ")")
	default:
		d.off--
		d.malformed("unknown tag 0x" + hex.EncodeToString([]byte{t}))
	}
}

// FormatRef renders a host object reference the way diagnostics show it: a
// named service as service("ledger"), a keyed object as Account["acct-42"].
func FormatRef(kind, name, key string) string {
	if kind == "service" || kind == "" {
		return "service(" + strconv.Quote(name) + ")"
	}
	return name + "[" + strconv.Quote(key) + "]"
}

package membrane

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// Kind says what an entry records. The numbers are stored: never change one.
type Kind int

// Entry kinds.
const (
	KindCall   Kind = 1 // a host call and its outcome: target, method, args, outcome
	KindIssue  Kind = 2 // a host call issued without waiting: future, target, method, args
	KindResult Kind = 3 // a future's outcome, when the guest observed it: future, outcome
	KindVow    Kind = 4 // a vow's settlement, when the guest observed it: vow, outcome
	KindMarker Kind = 5 // a value the membrane provided: name, data
	KindChild  Kind = 6 // a child activation started: flow, args, child id, outcome vow
)

func (k Kind) String() string {
	switch k {
	case KindCall:
		return "call"
	case KindIssue:
		return "issue"
	case KindResult:
		return "result"
	case KindVow:
		return "vow"
	case KindMarker:
		return "marker"
	case KindChild:
		return "child"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// outcome is a settlement: a value, or an error.
type outcome struct {
	ok    bool
	value []byte // encoded value (a result tuple for calls and futures)
	err   []byte // encoded error
}

func (o outcome) put(e *codec.Encoder) {
	e.PutBool(o.ok)
	if o.ok {
		e.Value(codec.Raw(o.value))
	} else {
		e.Value(codec.Raw(o.err))
	}
}

func (o outcome) String() string {
	if o.ok {
		return codec.Format(o.value)
	}
	return "error " + codec.Format(o.err)
}

// guestError returns the error a guest sees for a rejected outcome.
func (o outcome) guestError() error {
	d := codec.NewDecoder(o.err)
	err := d.DecodeError()
	if err == nil || d.Done() != nil {
		return &flow.Error{Message: "undecodable error " + codec.Format(o.err)}
	}
	return err
}

func okOutcome(value []byte) outcome { return outcome{ok: true, value: value} }

// settled is a vow's settlement as an outcome.
func settled(s Settlement) outcome {
	if s.Rejected {
		return outcome{err: s.Value}
	}
	return okOutcome(s.Value)
}

func errOutcome(err error) outcome {
	var e codec.Encoder
	e.EncodeError(err)
	return outcome{err: e.Bytes()}
}

func readOutcome(d *codec.Decoder) outcome {
	o := outcome{ok: d.ReadBool()}
	if o.ok {
		o.value = d.ReadRaw()
	} else {
		o.err = d.ReadRaw()
	}
	return o
}

// entry is a decoded log entry.
type entry struct {
	step   int64
	kind   Kind
	gen    int64
	future int      // KindIssue, KindResult
	target flow.Ref // KindCall, KindIssue
	method string
	args   []byte
	out    outcome           // KindCall, KindResult, KindVow
	vow    flow.VowID        // KindVow; the outcome vow for KindChild
	marker string            // KindMarker
	data   []byte            // KindMarker
	flow   string            // KindChild, with args
	child  flow.ActivationID // KindChild
}

func encodeEntry(en *entry) []byte {
	var e codec.Encoder
	switch en.kind {
	case KindCall:
		en.target.MarshalFlow(&e)
		e.PutString(en.method)
		e.Value(codec.Raw(en.args))
		en.out.put(&e)
	case KindIssue:
		e.PutInt(int64(en.future))
		en.target.MarshalFlow(&e)
		e.PutString(en.method)
		e.Value(codec.Raw(en.args))
	case KindResult:
		e.PutInt(int64(en.future))
		en.out.put(&e)
	case KindVow:
		e.PutVow(en.vow)
		en.out.put(&e)
	case KindMarker:
		e.PutString(en.marker)
		e.Value(codec.Raw(en.data))
	case KindChild:
		e.PutString(en.flow)
		e.Value(codec.Raw(en.args))
		e.PutVow(en.child)
		e.PutVow(en.vow)
	}
	return e.Bytes()
}

func decodeEntry(r Entry) (*entry, error) {
	en := &entry{step: r.Step, kind: r.Kind, gen: r.Gen}
	d := codec.NewDecoder(r.Payload)
	switch r.Kind {
	case KindCall:
		en.target.UnmarshalFlow(d)
		en.method = d.ReadString()
		en.args = d.ReadRaw()
		en.out = readOutcome(d)
	case KindIssue:
		en.future = int(d.ReadInt(32))
		en.target.UnmarshalFlow(d)
		en.method = d.ReadString()
		en.args = d.ReadRaw()
	case KindResult:
		en.future = int(d.ReadInt(32))
		en.out = readOutcome(d)
	case KindVow:
		en.vow = d.ReadVow()
		en.out = readOutcome(d)
	case KindMarker:
		en.marker = d.ReadString()
		en.data = d.ReadRaw()
	case KindChild:
		en.flow = d.ReadString()
		en.args = d.ReadRaw()
		en.child = d.ReadVow()
		en.vow = d.ReadVow()
	default:
		return nil, fmt.Errorf("unknown entry kind %d", int(r.Kind))
	}
	if err := d.Done(); err != nil {
		return nil, err
	}
	if (r.Kind == KindIssue || r.Kind == KindResult) && en.future < 1 {
		return nil, fmt.Errorf("future number %d", en.future)
	}
	return en, nil
}

// String renders the entry the way diagnostics show it.
func (en *entry) String() string {
	switch en.kind {
	case KindCall:
		return callString(en.target, en.method, en.args) + " → " + en.out.String()
	case KindIssue:
		return "go " + callString(en.target, en.method, en.args) + " as future#" + strconv.Itoa(en.future)
	case KindResult:
		return "future#" + strconv.Itoa(en.future) + " settled → " + en.out.String()
	case KindVow:
		return "vow:" + en.vow.String() + " settled → " + en.out.String()
	case KindMarker:
		return markerString(en.marker, en.data)
	case KindChild:
		return childString(en.flow, en.args) + " = activation " + en.child.String() + ", outcome vow:" + en.vow.String()
	}
	return "entry of kind " + en.kind.String()
}

func childString(flowName string, args []byte) string {
	return "child " + flowName + "(" + codec.FormatTuple(args) + ")"
}

func callString(target flow.Ref, method string, args []byte) string {
	return target.String() + "." + method + "(" + codec.FormatTuple(args) + ")"
}

func markerString(name string, data []byte) string {
	switch name {
	case markerNow:
		return "flow.Now() = " + codec.Format(data)
	case markerAfter:
		return "flow.After" + formatAfter(data)
	case markerPatched:
		return "flow.Patched(" + codec.Format(data) + ") = true"
	case markerRandom:
		return "flow.Random() = " + codec.Format(data)
	case markerUUID:
		return "flow.UUID() = " + formatUUID(data)
	case markerDecided:
		if ids, err := decodeIDs(data); err == nil {
			return "replay decided " + decisionsString(ids) + " (no marker where asked)"
		}
	case markerReceive:
		name, vow, err := decodeReceive(data)
		if err == nil {
			return "flow.Signal(" + strconv.Quote(name) + ").Next() = vow:" + vow.String()
		}
	case markerStatus:
		name, value, err := decodeStatus(data)
		if err == nil {
			return "flow.Status(" + strconv.Quote(name) + ").Set(" + codec.Format(value) + ")"
		}
	case markerRetry:
		if r, err := decodeRetry(data); err == nil {
			return r.String()
		}
	}
	return "marker " + name + " " + codec.Format(data)
}

func formatAfter(data []byte) string {
	d := codec.NewDecoder(data)
	n := d.ReadList()
	dur := time.Duration(d.ReadInt(64))
	id := d.ReadVow()
	deadline := d.ReadTime()
	if d.Err() != nil || n != 3 {
		return "(" + codec.Format(data) + ")"
	}
	return "(" + dur.String() + ") = vow:" + flow.VowID(id).String() + " due " + deadline.Format(time.RFC3339Nano)
}

func formatUUID(data []byte) string {
	d := codec.NewDecoder(data)
	b := d.ReadBytes()
	if d.Done() != nil || len(b) != 16 {
		return codec.Format(data)
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func keysString(keys []flow.AwaitKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}

// Describe renders a log entry readably, for inspection tools.
func Describe(e Entry) string {
	en, err := decodeEntry(e)
	if err != nil {
		return "corrupt entry of kind " + strconv.Itoa(int(e.Kind)) + ": " + err.Error() + ": " + codec.Format(e.Payload)
	}
	return en.String()
}

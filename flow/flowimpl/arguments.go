package flowimpl

import (
	"fmt"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// Arguments is a flow's stored argument tuple, as the run function a
// generated Register passes to [Register] receives it.
//
// Stored arguments outlive the code that stored them. A flow that gained
// parameters at the end decodes the arguments of activations started before
// with the new parameters' zero values, as a struct that gained a field
// does. Any other change — a parameter removed, or one whose type no longer
// fits its stored value — fails the activation with a diagnostic naming the
// parameter, until a build that fits is deployed.
type Arguments struct {
	flow string // the flow's durable name
	b    []byte
	st   *argState
}

// argState is what Decoder tells Decoded.
type argState struct {
	buf    []byte   // what the decoder reads: the stored tuple, padded to n values
	n      int      // the parameters the flow takes
	stored int      // the values stored
	names  []string // the parameters' names, as far as known
}

// Decoder starts decoding the n arguments of the flow, whose parameters are
// named names (generated code gives them; "" for an unnamed one), for the
// diagnostic of a value that no longer fits. Stored arguments of fewer
// values get zero values for the parameters after them; more values than n
// end the flow as a replay failure.
func (a Arguments) Decoder(fc flow.Context, n int, names ...string) *codec.Decoder {
	d := codec.NewDecoder(a.b)
	got := d.ReadList()
	if d.Err() != nil {
		badArguments(fc, a.flow+": the stored arguments do not decode: "+d.Err().Error())
	}
	if got > n {
		rest := a.b[len(a.b)-d.Remaining():]
		extra := codec.NewDecoder(rest)
		for range n {
			extra.Skip()
		}
		badArguments(fc, fmt.Sprintf("%s: the stored arguments are %d values, the flow takes %d: parameter %d, stored as %s, was removed",
			a.flow, got, n, n+1, codec.Format(extra.ReadRaw())))
	}
	buf := a.b
	if got < n {
		// Zero values for the parameters added since: nil decodes as zero.
		var e codec.Encoder
		e.PutList(n)
		buf = append(e.Bytes(), a.b[len(a.b)-d.Remaining():]...)
		for range n - got {
			buf = append(buf, nilValue...)
		}
	}
	if a.st != nil {
		a.st.buf, a.st.n, a.st.stored, a.st.names = buf, n, got, names
	}
	d = codec.NewDecoder(buf)
	d.ReadList()
	return d
}

var nilValue = func() []byte {
	var e codec.Encoder
	e.PutNil()
	return e.Bytes()
}()

// Decoded ends decoding what Decoder started; if the bytes did not fit, the
// flow ends as a replay failure naming the parameter that does not.
func (a Arguments) Decoded(fc flow.Context, d *codec.Decoder) {
	err := d.Done()
	if err == nil {
		return
	}
	if a.st == nil || a.st.buf == nil {
		badArguments(fc, a.flow+": the stored arguments "+codec.Format(a.b)+" do not decode: "+err.Error())
	}
	buf := a.st.buf
	at := len(buf) - d.Remaining() // where decoding stopped
	scan := codec.NewDecoder(buf)
	scan.ReadList()
	i, start := 0, len(buf)-scan.Remaining()
	for ; i < a.st.n; i++ {
		scan.Skip()
		end := len(buf) - scan.Remaining()
		if at <= end || scan.Err() != nil {
			break
		}
		start = end
	}
	i = min(i, a.st.n-1)
	value := "nothing (a parameter added since: it gets its zero value)"
	if i < a.st.stored {
		value = codec.Format(buf[start : len(buf)-scan.Remaining()])
	}
	param := "parameter " + strconv.Itoa(i+1) + " of " + strconv.Itoa(a.st.n)
	if i < len(a.st.names) && a.st.names[i] != "" {
		param += " (" + a.st.names[i] + ")"
	}
	badArguments(fc, a.flow+": "+param+" no longer fits its stored value "+value+": "+err.Error())
}

// badArguments ends the flow because its stored arguments no longer fit its
// parameters. It does not return.
func badArguments(fc flow.Context, reason string) {
	g := mustGuest(fc)
	if b, ok := g.(interface{ BadArguments(reason string) }); ok {
		b.BadArguments(reason)
	}
	g.Diverge(reason)
}

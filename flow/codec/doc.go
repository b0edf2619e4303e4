// Package codec is the encoding every value crossing the membrane goes through:
// arguments and results of host calls, flow arguments and outcomes, vow
// settlements and log entries.
//
// The encoding has three properties the runtime relies on.
//
// It is canonical: the same Go value always encodes to the same bytes. Map
// entries are written in the order of their encoded keys (then of their
// encoded values, for keys distinct in the map that encode alike, such as
// NaNs), struct fields in the
// order of their names, integers in one form whatever their Go width or
// signedness, and NaN in one bit pattern. Replay compares a guest's arguments
// with the logged ones byte for byte, so this is what makes replay exact.
//
// It is tolerant of the most common upgrade, a new struct field: fields are
// keyed by name, fields holding their zero value are left out, and fields the
// decoding type does not know are skipped. A value logged by one version of a
// struct therefore replays under a version with one more field, and a new
// version that leaves the new field zero produces the same bytes as the old.
// A field can keep its logged name across a rename with the tag `flow:"name"`;
// `flow:"-"` leaves a field out.
//
// It is self-describing: every value starts with a tag byte, so [Format] renders
// any encoded value as readable text without its Go type. Replay diagnostics
// use this to show what was logged and what the guest did instead.
//
// Supported Go types: booleans, integers (not uintptr), floating-point numbers, strings,
// byte slices, slices, arrays, maps, pointers, structs whose fields are all
// exported (or tagged `flow:"-"`), [time.Time] (the instant and the zone offset;
// the location name and monotonic reading are not kept), [time.Duration] and
// other named types of those kinds, the error interface (through the hooks the
// flow package installs), types implementing [Marshaler] and [Unmarshaler],
// and types implementing both [encoding.TextMarshaler] and
// [encoding.TextUnmarshaler], which cross as their text. Channels, functions,
// complex numbers, uintptrs, unsafe pointers and interface types other than
// error are refused with an error naming the type; [RefuseKind] says why, in
// the words flowgen uses when it refuses a flow's types before they run.
package codec

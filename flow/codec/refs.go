package codec

// Refs calls fn for each reference (written by [Encoder.PutRef]) that the
// encoded value b holds, at any depth, in order. It returns an error if b is
// not exactly one well-formed value. The runtime uses it to check, when an
// activation starts, that every host object its arguments refer to can be
// reached.
func Refs(b []byte, fn func(kind, name, key string)) error {
	d := NewDecoder(b)
	d.onRef = fn
	d.Skip()
	return d.Done()
}

package codec_test

import (
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

type Address struct {
	Street string
	City   string
}

type Order struct {
	ID       string
	Cents    int64
	Lines    []Line
	Tags     map[string]int
	Ship     *Address
	Placed   time.Time
	Timeout  time.Duration
	Raw      []byte
	Priority uint8
	Ratio    float64
	Code     [4]byte
	Grid     [2]int
	Renamed  string `flow:"old_name"`
	Skipped  func() `flow:"-" json:"-"`
}

type Line struct {
	SKU string
	Qty int
}

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, codec.Valid(b))
	var out T
	require.NoError(t, codec.Unmarshal(b, &out))
	return out
}

func TestRoundTripScalars(t *testing.T) {
	assert.Equal(t, true, roundTrip(t, true))
	assert.Equal(t, int8(-128), roundTrip(t, int8(-128)))
	assert.Equal(t, int64(math.MinInt64), roundTrip(t, int64(math.MinInt64)))
	assert.Equal(t, int64(math.MaxInt64), roundTrip(t, int64(math.MaxInt64)))
	assert.Equal(t, uint64(math.MaxUint64), roundTrip(t, uint64(math.MaxUint64)))
	assert.Equal(t, float32(1.5), roundTrip(t, float32(1.5)))
	assert.Equal(t, "héllo\x00", roundTrip(t, "héllo\x00"))
	assert.Equal(t, []byte{}, roundTrip(t, []byte{}))
	assert.Nil(t, roundTrip[[]byte](t, nil))
	assert.Equal(t, 90*time.Second, roundTrip(t, 90*time.Second))
	assert.True(t, math.IsNaN(roundTrip(t, math.NaN())))
}

func TestRoundTripStruct(t *testing.T) {
	in := Order{
		ID:       "o-1",
		Cents:    -500,
		Lines:    []Line{{"a", 1}, {"b", 2}},
		Tags:     map[string]int{"x": 1, "y": 2, "z": 3},
		Ship:     &Address{Street: "1 Main", City: "Springfield"},
		Placed:   time.Date(2026, 11, 27, 10, 0, 0, 123, time.UTC),
		Timeout:  time.Minute,
		Raw:      []byte{1, 2, 3},
		Priority: 7,
		Ratio:    0.25,
		Code:     [4]byte{9, 8, 7, 6},
		Grid:     [2]int{-1, 1},
		Renamed:  "kept",
	}
	out := roundTrip(t, in)
	assert.True(t, in.Placed.Equal(out.Placed))
	out.Placed = in.Placed
	assert.Equal(t, in, out)
}

func TestCanonical(t *testing.T) {
	// Maps: insertion order must not matter.
	a := map[string]int{}
	b := map[string]int{}
	for i := range 50 {
		a[string(rune('a'+i%26))+string(rune('A'+i/26))] = i
	}
	for i := 49; i >= 0; i-- {
		b[string(rune('a'+i%26))+string(rune('A'+i/26))] = i
	}
	ba, err := codec.Marshal(a)
	require.NoError(t, err)
	for range 20 {
		bb, err := codec.Marshal(b)
		require.NoError(t, err)
		assert.Equal(t, ba, bb)
	}

	// Integers: width and signedness do not matter.
	i1, _ := codec.Marshal(int8(5))
	i2, _ := codec.Marshal(uint64(5))
	i3, _ := codec.Marshal(5)
	assert.Equal(t, i1, i2)
	assert.Equal(t, i1, i3)

	// A time's monotonic reading does not matter.
	now := time.Now()
	t1, _ := codec.Marshal(now)
	t2, _ := codec.Marshal(now.Round(0))
	assert.Equal(t, t1, t2)

	// Every NaN is written alike.
	n1, _ := codec.Marshal(math.NaN())
	n2, _ := codec.Marshal(math.Float64frombits(0x7ff8000000000abc))
	assert.Equal(t, n1, n2)
}

// TestCanonicalMapsWithEqualKeys: keys that are distinct in the map but
// encode alike — NaNs, pointers to equal values, structs holding NaN — give
// one encoding, whatever order the map yields them in.
func TestCanonicalMapsWithEqualKeys(t *testing.T) {
	nan := math.NaN()
	type point struct{ X, Y float64 }
	one, two, three := 7, 7, 7
	cases := map[string]any{
		"NaN keys":          map[float64]string{nan: "a", math.Float64frombits(0x7ff8000000000abc): "b", nan: "c", 1.5: "d", nan: "e"},
		"pointer keys":      map[*int]string{&one: "x", &two: "y", &three: "z"},
		"struct keys":       map[point]int{{nan, 1}: 1, {nan, 1}: 2, {nan, 1}: 3, {0, 1}: 4},
		"values that cross": map[float64][]int{nan: {1}, math.NaN(): {2}, math.NaN(): {1, 2}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			first, err := codec.Marshal(m)
			require.NoError(t, err)
			for range 100 {
				b, err := codec.Marshal(m)
				require.NoError(t, err)
				require.Equal(t, first, b, "the same map encodes to the same bytes")
			}
		})
	}
	var back map[float64]string
	b, err := codec.Marshal(cases["NaN keys"])
	require.NoError(t, err)
	require.NoError(t, codec.Unmarshal(b, &back))
	assert.Len(t, back, 5, "every NaN key comes back")
}

type fieldOrderA struct {
	Alpha string
	Beta  int
}

type fieldOrderB struct {
	Beta  int
	Alpha string
}

func TestStructFieldOrderDoesNotMatter(t *testing.T) {
	a, _ := codec.Marshal(fieldOrderA{"x", 1})
	b, _ := codec.Marshal(fieldOrderB{1, "x"})
	assert.Equal(t, a, b)
}

// PaymentV1 and PaymentV2 are two versions of one struct: V2 adds a field.
type PaymentV1 struct {
	To    string
	Cents int64
}

type PaymentV2 struct {
	To    string
	Cents int64
	Memo  string
}

func TestStructEvolution(t *testing.T) {
	// A value logged by V1 decodes under V2, the new field zero.
	logged, err := codec.Marshal(PaymentV1{To: "bob", Cents: 500})
	require.NoError(t, err)
	var v2 PaymentV2
	require.NoError(t, codec.Unmarshal(logged, &v2))
	assert.Equal(t, PaymentV2{To: "bob", Cents: 500}, v2)

	// V2 leaving the new field zero writes the same bytes as V1: replay matches.
	again, err := codec.Marshal(v2)
	require.NoError(t, err)
	assert.Equal(t, logged, again)

	// A value written by V2 decodes under V1, the unknown field skipped.
	newer, err := codec.Marshal(PaymentV2{To: "amy", Cents: 1, Memo: "rent"})
	require.NoError(t, err)
	var v1 PaymentV1
	require.NoError(t, codec.Unmarshal(newer, &v1))
	assert.Equal(t, PaymentV1{To: "amy", Cents: 1}, v1)
}

func TestDecodeIntoFreshValues(t *testing.T) {
	b, err := codec.Marshal(Order{ID: "x"})
	require.NoError(t, err)
	out := Order{Cents: 99, Tags: map[string]int{"stale": 1}, Lines: []Line{{"old", 1}}}
	require.NoError(t, codec.Unmarshal(b, &out))
	assert.Equal(t, Order{ID: "x"}, out)
}

type withChan struct{ C chan int }

type withUnexported struct {
	Visible string
	hidden  int
}

var _ = withUnexported{}.hidden // the field exists to be refused

type withIface struct{ V any }

type withDuplicate struct {
	A int `flow:"a"`
	B int `flow:"a"`
}

type cyclic struct {
	Next *cyclic
	N    int
}

func TestUnsupportedTypes(t *testing.T) {
	for _, v := range []any{
		make(chan int),
		func() {},
		complex(1, 2),
		withChan{},
		withUnexported{},
		withIface{},
		uintptr(1),
		withDuplicate{},
	} {
		_, err := codec.Marshal(v)
		var te *codec.TypeError
		assert.ErrorAs(t, err, &te, "%T", v)
	}
	_, err := codec.Marshal(withUnexported{})
	assert.ErrorContains(t, err, "field hidden is unexported")
	_, err = codec.Marshal(withDuplicate{})
	assert.ErrorContains(t, err, `fields A and B both cross as "a"`)
	_, err = codec.Marshal(uintptr(1))
	assert.ErrorContains(t, err, "a uintptr is an address")

	c := &cyclic{N: 1}
	c.Next = c
	_, err = codec.Marshal(c)
	assert.ErrorContains(t, err, "cyclic")

	// A recursive type without a cycle is fine.
	out := roundTrip(t, &cyclic{N: 1, Next: &cyclic{N: 2}})
	assert.Equal(t, 2, out.Next.N)
}

func TestMismatchAndOverflow(t *testing.T) {
	b, _ := codec.Marshal("text")
	var n int
	var me *codec.MismatchError
	assert.ErrorAs(t, codec.Unmarshal(b, &n), &me)

	big, _ := codec.Marshal(300)
	var small int8
	assert.ErrorContains(t, codec.Unmarshal(big, &small), "overflows int8")
	var u uint8
	assert.ErrorContains(t, codec.Unmarshal(big, &u), "overflows uint8")
	neg, _ := codec.Marshal(-1)
	var uu uint
	assert.ErrorContains(t, codec.Unmarshal(neg, &uu), "negative")

	var arr [3]byte
	four, _ := codec.Marshal([4]byte{})
	assert.Error(t, codec.Unmarshal(four, &arr))
}

func TestMalformed(t *testing.T) {
	good, err := codec.Marshal(Order{ID: "o", Lines: []Line{{"a", 1}}, Tags: map[string]int{"k": 1}})
	require.NoError(t, err)
	for i := range good {
		var o Order
		err := codec.Unmarshal(good[:i], &o)
		assert.Error(t, err, "prefix %d", i)
	}
	var o Order
	assert.ErrorIs(t, codec.Unmarshal(append(good, 0), &o), codec.ErrMalformed)
	assert.ErrorIs(t, codec.Unmarshal([]byte{0xff}, &o), codec.ErrMalformed)
	// A list claiming more elements than there are bytes.
	assert.ErrorIs(t, codec.Valid([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f}), codec.ErrMalformed)
	// Nesting too deep.
	deep := make([]byte, 0, 2000)
	for range 1000 {
		deep = append(deep, 0x08, 0x01)
	}
	deep = append(deep, 0x00)
	assert.ErrorIs(t, codec.Valid(deep), codec.ErrMalformed)
}

type textID struct{ A, B byte }

func (t textID) MarshalText() ([]byte, error) { return []byte{'0' + t.A, '-', '0' + t.B}, nil }
func (t *textID) UnmarshalText(b []byte) error {
	if len(b) != 3 || b[1] != '-' {
		return errors.New("bad id")
	}
	t.A, t.B = b[0]-'0', b[2]-'0'
	return nil
}

func TestTextMarshalers(t *testing.T) {
	assert.Equal(t, textID{1, 2}, roundTrip(t, textID{1, 2}))
	addr := netip.MustParseAddr("10.0.0.1")
	assert.Equal(t, addr, roundTrip(t, addr))
	b, _ := codec.Marshal(textID{3, 4})
	assert.Equal(t, `"3-4"`, codec.Format(b))
}

func TestFormat(t *testing.T) {
	b, err := codec.MarshalTuple("treasury", "bob", int64(500), PaymentV2{To: "x", Cents: -2})
	require.NoError(t, err)
	assert.Equal(t, `"treasury", "bob", 500, {Cents: -2, To: "x"}`, codec.FormatTuple(b))

	b, _ = codec.Marshal(map[int]bool{2: true, 1: false})
	assert.Equal(t, `{1: false, 2: true}`, codec.Format(b))

	b, _ = codec.Marshal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	assert.Equal(t, `2026-01-02T03:04:05Z`, codec.Format(b))

	var e codec.Encoder
	e.PutRef("service", "ledger", "")
	e.PutRef("object", "Account", "acct-1")
	e.PutError("payout.denied", "denied")
	e.PutVow([16]byte{0xab})
	assert.Equal(t, `service("ledger") Account["acct-1"] error(payout.denied: "denied") vow:ab000000000000000000000000000000`, codec.Format(e.Bytes()))

	assert.Contains(t, codec.Format([]byte{0x08, 0x02, 0x03}), "malformed")
}

func FuzzDecode(f *testing.F) {
	seeds := []any{
		Order{ID: "o", Lines: []Line{{"a", 1}}, Tags: map[string]int{"k": 1}, Ship: &Address{City: "c"}},
		[]string{"a", "b"},
		map[string][]int{"a": {1, 2}},
		time.Unix(12345, 678),
		-42,
	}
	for _, s := range seeds {
		b, err := codec.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = codec.Format(b)
		_ = codec.Valid(b)
		var o Order
		if codec.Unmarshal(b, &o) == nil {
			// Whatever decodes re-encodes and decodes to the same value.
			again, err := codec.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var o2 Order
			if err := codec.Unmarshal(again, &o2); err != nil {
				t.Fatal(err)
			}
			third, _ := codec.Marshal(o2)
			if string(third) != string(again) {
				t.Fatalf("not canonical: %x vs %x", again, third)
			}
		}
		var m map[string]any
		_ = codec.Unmarshal(b, &m)
		var s []*Order
		_ = codec.Unmarshal(b, &s)
	})
}

func TestRefs(t *testing.T) {
	var e codec.Encoder
	e.PutList(3)
	e.PutRef("service", "mailer", "")
	e.PutList(2)
	e.PutString("x")
	e.PutRef("object", "shop.Cart", "c-1")
	e.PutInt(7)
	var got []string
	require.NoError(t, codec.Refs(e.Bytes(), func(kind, name, key string) { got = append(got, kind+" "+name+" "+key) }))
	assert.Equal(t, []string{"service mailer ", "object shop.Cart c-1"}, got)
	assert.ErrorIs(t, codec.Refs(append(e.Bytes(), 0x00), func(string, string, string) {}), codec.ErrMalformed)
}

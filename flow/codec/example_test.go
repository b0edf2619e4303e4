package codec_test

import (
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// Format shows what bytes hold without their Go type, the way replay
// diagnostics show a logged value and what the code did instead. Struct
// fields are keyed by name, in name order, and zero fields are left out.
func ExampleFormat() {
	type Payment struct {
		To    string
		Cents int64
		At    time.Time
		Tags  []string
		Memo  string // zero: not encoded
	}
	b, err := codec.Marshal(Payment{
		To:    "bob",
		Cents: 500,
		At:    time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		Tags:  []string{"vip"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(codec.Format(b))

	args, err := codec.MarshalTuple("treasury", "bob", 500)
	if err != nil {
		panic(err)
	}
	fmt.Println("Transfer(" + codec.FormatTuple(args) + ")")

	// Bytes cut short render as far as they go, with what is wrong.
	fmt.Println(codec.Format(b[:len(b)-3]))
	// Output:
	// {At: 2026-03-01T09:30:00Z, Cents: 500, Tags: ["vip"], To: "bob"}
	// Transfer("treasury", "bob", 500)
	// {At: 2026-03-01T09:30:00Z, Cents: 500, Tags: ["vip"], To: ""} <codec: malformed encoding: length past end at byte 39>
}

package codec_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"testing"
	"time"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// sample is a typical value crossing the membrane: an order with lines.
var sample = Order{
	ID:     "order-2026-000123",
	Cents:  129_99,
	Lines:  []Line{{"sku-1", 2}, {"sku-22", 1}, {"sku-333", 5}},
	Tags:   map[string]int{"priority": 2, "gift": 1},
	Ship:   &Address{Street: "1 Main St", City: "Springfield"},
	Placed: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
}

// The codec beside the standard library's encodings, encode and decode of
// one value. Sizes are reported as B/value.
func BenchmarkEncodeDecode(b *testing.B) {
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			data, err := codec.Marshal(sample)
			if err != nil {
				b.Fatal(err)
			}
			var out Order
			if err := codec.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
			size = len(data)
		}
		b.ReportMetric(float64(size), "B/value")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			data, err := json.Marshal(sample)
			if err != nil {
				b.Fatal(err)
			}
			var out Order
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
			size = len(data)
		}
		b.ReportMetric(float64(size), "B/value")
	})
	b.Run("gob", func(b *testing.B) {
		// gob sends type descriptions once per stream; a log entry is its own
		// stream, so each value pays for them.
		b.ReportAllocs()
		var size int
		for b.Loop() {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(sample); err != nil {
				b.Fatal(err)
			}
			size = buf.Len()
			var out Order
			if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "B/value")
	})
}

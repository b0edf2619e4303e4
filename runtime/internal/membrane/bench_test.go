package membrane

import (
	"testing"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// BenchmarkReplayCall replays host calls that match their log: the hot path
// of a revival, with no host and no store. Nothing is formatted on it.
func BenchmarkReplayCall(b *testing.B) {
	args, _ := codec.MarshalTuple("treasury", "bob", int64(500))
	res, _ := codec.MarshalTuple("tx-1")
	const n = 1000
	es := make([]*entry, n)
	for i := range es {
		es[i] = callEntry("Transfer", args, res)
	}
	log := logOf(es...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := New(Config{Activation: testActivation, Flow: "bench.F", Log: log, Host: newHost()})
		for range n {
			if _, err := m.Call(host, "Transfer", args); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "entries/s")
}

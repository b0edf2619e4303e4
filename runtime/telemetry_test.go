package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

func attrsOf(kvs []attribute.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

// TestTelemetry runs an activation across two incarnations with the
// OpenTelemetry SDK, then a build that no longer replays another: a span for
// each run and each host call, live or replayed, a span event for the
// replay failure, and the metrics.
func TestTelemetry(t *testing.T) {
	path := tempStore(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	opts := runtime.Options{TracerProvider: tp, MeterProvider: mp}

	e1 := incarnation(t, path, "b1", opts, askThenEcho)
	v := e1.start("a")
	other := e1.start("b")
	aID := e1.waitByOutcome(v.ID(), runtime.StateSuspended).ID.String()
	e1.waitByOutcome(other.ID(), runtime.StateSuspended)
	asked, ok := e1.host.Asked("approve a")
	require.True(t, ok)
	e1.close()

	e2 := incarnation(t, path, "b2", opts, askThenEcho)
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "yes"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "a yes", got)
	e2.close()

	e3 := incarnation(t, path, "b3", runtime.Options{TracerProvider: tp, MeterProvider: mp, WakeAll: true}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, "changed "+a)
	})
	e3.waitByOutcome(other.ID(), runtime.StateFailed)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	e3.close()

	var calls, runs []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch {
		case len(s.Name()) > 15 && s.Name()[:15] == "asyncflow.call ":
			calls = append(calls, s)
		case s.Name() == "asyncflow.run test.F" || s.Name() == "asyncflow.resume test.F":
			runs = append(runs, s)
		}
	}
	// The activation a's calls: Ask live (b1), Ask replayed and Echo live (b2).
	// Each is a child of a span of a's own runs.
	var seen []string
	for _, s := range calls {
		a := attrsOf(s.Attributes())
		if a["asyncflow.activation"] != aID {
			continue
		}
		parent := ""
		for _, r := range runs {
			if r.SpanContext().SpanID() == s.Parent().SpanID() {
				parent, _ = attrsOf(r.Attributes())["asyncflow.activation"].(string)
			}
		}
		assert.Equal(t, aID, parent, "%s: a call is a child of its activation's run span", s.Name())
		assert.Equal(t, "test.F", a["asyncflow.flow"])
		assert.Equal(t, `service("host")`, a["asyncflow.target"])
		assert.Contains(t, a["asyncflow.idempotency_key"], aID+"/")
		live := "live"
		if a["asyncflow.replayed"] == true {
			live = "replayed"
		}
		seen = append(seen, a["asyncflow.method"].(string)+" "+live+" #"+string(rune('0'+a["asyncflow.call.index"].(int64))))
	}
	assert.ElementsMatch(t, []string{"Ask live #0", "Ask replayed #0", "Echo live #1"}, seen)

	// The failed replay: an event on its run's span.
	var event map[string]any
	for _, r := range runs {
		for _, ev := range r.Events() {
			if ev.Name == "asyncflow.replay.failed" {
				event = attrsOf(ev.Attributes)
			}
		}
	}
	require.NotNil(t, event, "a span event for the replay failure")
	assert.Equal(t, "other-call", event["asyncflow.problem"])
	assert.Equal(t, `call service("host").Echo("changed b")`, event["asyncflow.did"])

	// Metrics.
	sums := map[string]int64{}
	histograms := map[string]uint64{}
	gauges := map[string]bool{}
	var failures []map[string]any
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sums[m.Name] += p.Value
					if m.Name == "asyncflow.failures" {
						failures = append(failures, attrsOf(p.Attributes.ToSlice()))
					}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					histograms[m.Name] += p.Count
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					histograms[m.Name] += p.Count
				}
			case metricdata.Gauge[int64]:
				gauges[m.Name] = len(d.DataPoints) > 0
			}
		}
	}
	assert.GreaterOrEqual(t, sums["asyncflow.steps"], int64(3), "the steps")
	assert.GreaterOrEqual(t, sums["asyncflow.replays"], int64(2), "a revived by its vow, b woken by b3")
	assert.Equal(t, int64(1), sums["asyncflow.failures"])
	require.Len(t, failures, 1)
	assert.Equal(t, "other-call", failures[0]["asyncflow.problem"])
	assert.Positive(t, histograms["asyncflow.store.commit.submissions"])
	assert.Positive(t, histograms["asyncflow.store.commit.duration"])
	assert.True(t, gauges["asyncflow.resident"])
}

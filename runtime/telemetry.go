package runtime

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// instrumentation is the name the runtime's tracer and meter go by.
const instrumentation = "github.com/asyncflow-go/asyncflow/runtime"

// telemetry is what the runtime reports through OpenTelemetry. With no
// provider in Options it is nil, and the runtime does nothing for it but
// check: its hot paths allocate nothing more.
type telemetry struct {
	rt     atomic.Pointer[Runtime]
	tracer trace.Tracer // nil without a TracerProvider

	meters        bool
	steps         metric.Int64Counter
	replays       metric.Int64Counter
	failures      metric.Int64Counter
	commitBatch   metric.Int64Histogram
	commitLatency metric.Float64Histogram
}

// Telemetry attribute keys.
var (
	attrFlow       = attribute.Key("asyncflow.flow")
	attrActivation = attribute.Key("asyncflow.activation")
	attrBuild      = attribute.Key("asyncflow.build")
	attrMethod     = attribute.Key("asyncflow.method")
	attrTarget     = attribute.Key("asyncflow.target")
	attrIndex      = attribute.Key("asyncflow.call.index")
	attrReplayed   = attribute.Key("asyncflow.replayed")
	attrKey        = attribute.Key("asyncflow.idempotency_key")
	attrEntries    = attribute.Key("asyncflow.log.entries")
	attrProblem    = attribute.Key("asyncflow.problem")
)

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	if tp == nil && mp == nil {
		return nil, nil
	}
	t := &telemetry{}
	if tp != nil {
		t.tracer = tp.Tracer(instrumentation)
	}
	if mp == nil {
		return t, nil
	}
	m := mp.Meter(instrumentation)
	var err error
	if t.steps, err = m.Int64Counter("asyncflow.steps", metric.WithDescription("Log entries appended: the durable steps of activations."), metric.WithUnit("{entry}")); err != nil {
		return nil, err
	}
	if t.replays, err = m.Int64Counter("asyncflow.replays", metric.WithDescription("Revivals that replayed a log."), metric.WithUnit("{replay}")); err != nil {
		return nil, err
	}
	if t.failures, err = m.Int64Counter("asyncflow.failures", metric.WithDescription("Activations that got stuck, by problem kind."), metric.WithUnit("{failure}")); err != nil {
		return nil, err
	}
	if t.commitBatch, err = m.Int64Histogram("asyncflow.store.commit.submissions", metric.WithDescription("Submissions that shared one store transaction (group commit)."), metric.WithUnit("{submission}")); err != nil {
		return nil, err
	}
	if t.commitLatency, err = m.Float64Histogram("asyncflow.store.commit.duration", metric.WithDescription("How long a store transaction took to become durable."), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	resident, err := m.Int64ObservableGauge("asyncflow.resident", metric.WithDescription("Activations with a goroutine in this process: running, replaying or parked."), metric.WithUnit("{activation}"))
	if err != nil {
		return nil, err
	}
	if _, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		rt := t.rt.Load()
		if rt == nil {
			return nil
		}
		rt.mu.Lock()
		n := len(rt.active)
		rt.mu.Unlock()
		o.ObserveInt64(resident, int64(n))
		return nil
	}, resident); err != nil {
		return nil, err
	}
	t.meters = true
	return t, nil
}

// onCommit is the store's report of a commit, for the metrics.
func (t *telemetry) onCommit(c store.CommitStats) {
	ctx := context.Background()
	t.commitBatch.Record(ctx, int64(c.Submissions))
	t.commitLatency.Record(ctx, c.Took.Seconds())
}

// runStarted opens the span of a run of an activation: from its start or
// revival (or its resumption after it parked) to when it parks, finishes,
// fails or leaves.
func (a *activation) runStarted(name string, replaying bool) {
	t := a.rt.tel
	if t == nil || t.tracer == nil {
		return
	}
	a.telMu.Lock()
	defer a.telMu.Unlock()
	if a.span != nil {
		a.span.End()
	}
	_, a.span = t.tracer.Start(a.rt.hostCtx, name+" "+a.fd.name, trace.WithAttributes(
		attrFlow.String(a.fd.name), attrActivation.String(a.id.String()), attrBuild.String(a.rt.build),
		attrEntries.Int(len(a.replay)), attrReplayed.Bool(replaying)))
}

// runEnded closes the run's span, if one is open.
func (a *activation) runEnded() {
	if t := a.rt.tel; t == nil || t.tracer == nil {
		return
	}
	a.telMu.Lock()
	defer a.telMu.Unlock()
	if a.span != nil {
		a.span.End()
		a.span = nil
	}
}

// callContext is the context of a live host call: with tracing, its span,
// a child of the run's.
func (a *activation) callContext(ctx context.Context, info flow.CallInfo) (context.Context, trace.Span) {
	t := a.rt.tel
	if t == nil || t.tracer == nil {
		return ctx, nil
	}
	a.telMu.Lock()
	if a.span != nil {
		ctx = trace.ContextWithSpan(ctx, a.span)
	}
	a.telMu.Unlock()
	return t.tracer.Start(ctx, "asyncflow.call "+info.Target.Name+"."+info.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(callAttrs(info, false)...))
}

func callAttrs(info flow.CallInfo, replayed bool) []attribute.KeyValue {
	return []attribute.KeyValue{attrFlow.String(info.Flow), attrTarget.String(info.Target.String()), attrMethod.String(info.Method),
		attrActivation.String(info.Activation.String()), attrIndex.Int(info.Index), attrReplayed.Bool(replayed), attrKey.String(info.IdempotencyKey())}
}

// endCall ends a live call's span with its outcome.
func endCall(span trace.Span, err error, cut bool) {
	if span == nil {
		return
	}
	switch {
	case cut:
		span.SetStatus(codes.Unset, "cut short by shutdown; made again next incarnation")
	case err != nil:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// replayed reports the host calls a replay answered from the log, up to
// where it went: a span each, children of the run's, for a trace that shows
// every call the activation made, live or replayed.
func (a *activation) replayed(upto int64) {
	t := a.rt.tel
	if t == nil || t.tracer == nil {
		return
	}
	a.telMu.Lock()
	defer a.telMu.Unlock()
	a.reportReplayed(t, upto)
}

// reportReplayed is replayed, under telMu.
func (a *activation) reportReplayed(t *telemetry, upto int64) {
	if a.span == nil || len(a.replay) == 0 {
		return
	}
	ctx := trace.ContextWithSpan(a.rt.hostCtx, a.span)
	now := time.Now()
	index := 0
	for _, e := range a.replay {
		if e.Step >= upto {
			break
		}
		target, method, ok := membrane.CallOf(e)
		if !ok {
			continue
		}
		info := flow.CallInfo{Activation: a.id, Flow: a.fd.name, Index: index, Target: target, Method: method}
		index++
		_, span := t.tracer.Start(ctx, "asyncflow.call "+target.Name+"."+method, trace.WithTimestamp(now),
			trace.WithAttributes(append(callAttrs(info, true), attribute.Int64("asyncflow.step", e.Step), attribute.Int64("asyncflow.logged_gen", e.Gen))...))
		span.End(trace.WithTimestamp(now))
	}
	a.replay = nil
}

// failed marks the run's span with a failure, as an event carrying the
// diagnostic, and counts it.
func (a *activation) failedTelemetry(d *diag.Diagnostic) {
	t := a.rt.tel
	if t == nil {
		return
	}
	if t.meters {
		t.failures.Add(context.Background(), 1, metric.WithAttributes(attrFlow.String(d.Flow), attrProblem.String(string(d.Problem))))
	}
	if t.tracer == nil {
		return
	}
	a.telMu.Lock()
	defer a.telMu.Unlock()
	if a.span == nil {
		return
	}
	a.reportReplayed(t, d.Step)
	attrs := []attribute.KeyValue{attrProblem.String(string(d.Problem)), attribute.Int64("asyncflow.step", d.Step)}
	for k, v := range map[string]string{"asyncflow.logged": d.Logged, "asyncflow.did": d.Got, "asyncflow.at": d.Site,
		"asyncflow.detail": d.Detail, "asyncflow.logged_build": d.WrittenBuild, "asyncflow.failed_build": d.FailedBuild} {
		if v != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	name := "asyncflow.replay.failed"
	if d.Problem == diag.GuestPanic || d.Problem == diag.HostPanic || d.Problem == diag.Illegal {
		name = "asyncflow.failed"
	}
	a.span.AddEvent(name, trace.WithAttributes(attrs...))
	a.span.SetStatus(codes.Error, d.Headline())
}

// countStep counts an appended entry.
func (a *activation) countStep() {
	if t := a.rt.tel; t != nil && t.meters {
		t.steps.Add(context.Background(), 1, metric.WithAttributes(attrFlow.String(a.fd.name)))
	}
}

// countReplay counts a revival that replays a log.
func (a *activation) countReplay() {
	if t := a.rt.tel; t != nil && t.meters {
		t.replays.Add(context.Background(), 1, metric.WithAttributes(attrFlow.String(a.fd.name)))
	}
}

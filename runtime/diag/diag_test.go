package diag_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

func example() *diag.Diagnostic {
	return &diag.Diagnostic{
		Problem:      diag.OtherCall,
		Activation:   flow.ActivationID{0xab, 0xcd},
		Flow:         "payments.Payout",
		Step:         2,
		Logged:       `service("ledger").Transfer("treasury", "bob", 500) → ["tx-1"]`,
		Got:          `call service("ledger").Balance("treasury")`,
		Site:         "payments/payout.go:31",
		WrittenGen:   1,
		WrittenBuild: "b1",
		FailedGen:    2,
		FailedBuild:  "b2",
		Time:         time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
	}
}

func TestError(t *testing.T) {
	assert.Equal(t, `activation abcd0000000000000000000000000000 of flow payments.Payout is stuck: replay failed: the code calls a different host method than the log records
  at:        payments/payout.go:31
  log step:  2
  logged:    service("ledger").Transfer("treasury", "bob", 500) → ["tx-1"]
  code did:  call service("ledger").Balance("treasury")
  logged by: incarnation 1, build b1
  failed in: incarnation 2, build b2`, example().Error())

	d := &diag.Diagnostic{Problem: diag.GuestPanic, Flow: "f", Step: -1, Detail: "boom", Stack: "main.f()\n\tf.go:3\n", FailedGen: 3, FailedBuild: "b3"}
	assert.Contains(t, d.Error(), "is stuck: the flow panicked\n  detail:    boom\n  failed in: incarnation 3, build b3\n  stack:\n    main.f()\n    \tf.go:3")
	assert.NotContains(t, d.Error(), "log step", "no step is shown for -1")
	assert.Contains(t, (&diag.Diagnostic{Problem: "something-new"}).Error(), "is stuck: something-new")
}

func TestJSONRoundTrip(t *testing.T) {
	d := example()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"activation":"abcd0000000000000000000000000000"`)
	assert.Contains(t, string(b), `"problem":"other-call"`)
	var back diag.Diagnostic
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *d, back)

	assert.Error(t, json.Unmarshal([]byte(`{"activation":"not hex"}`), &back))
}

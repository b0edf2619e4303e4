package runtime_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// minting draws a number and a UUID, hands them to the host, waits for an
// answer, and returns what it drew: a replay after the answer must draw the
// same.
func minting(fc flow.Context, h testkit.Teller, a string) (string, error) {
	id := flow.UUID(fc)
	n := flow.Random(fc)
	if _, err := h.Echo(fc, id+" "+strconv.FormatUint(n, 10)); err != nil {
		return "", err
	}
	v, err := h.Ask(fc, "q")
	if err != nil {
		return "", err
	}
	ans, err := flow.Await(fc, v)
	if err != nil {
		return "", err
	}
	return id + " " + strconv.FormatUint(n, 10) + " " + ans, nil
}

func TestRandomAndUUIDReplayAcrossIncarnations(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "build-one", runtime.Options{}, minting)
	e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	calls := e1.host.Calls()
	require.Len(t, calls, 2)
	drawn := calls[0].Args
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} \d+$`), drawn)
	log, err := e1.rt.Admin().Log(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, log, 4)
	assert.Regexp(t, `^flow\.UUID\(\) = `+drawn[:36]+`$`, log[0].Text)
	assert.Regexp(t, `^flow\.Random\(\) = \d+$`, log[1].Text)
	asked, ok := e1.host.Asked("q")
	require.True(t, ok)
	e1.close()

	// The next incarnation replays the draws: the host sees no call again,
	// and the flow returns what it drew the first time.
	e2 := incarnation(t, path, "build-one", runtime.Options{}, minting)
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "yes"))
	got, err := e2.wait(flow.VowOf[string](e2.only().Outcome))
	require.NoError(t, err)
	assert.Equal(t, drawn+" yes", got)
	assert.Empty(t, e2.host.Calls(), "the replay calls no host")
}

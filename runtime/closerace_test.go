package runtime_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// seeded returns a seed for a randomized test, from env if set, and logs it.
func seeded(t *testing.T, env string) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, env, seed)
	return rand.New(rand.NewPCG(seed, 0xc105e))
}

// asker asks many questions, each a host call that makes a vow through the
// runtime, and returns when all are asked.
func asker(fc flow.Context, h testkit.Teller, a string) (string, error) {
	for i := range 25 {
		if _, err := h.Ask(fc, fmt.Sprintf("%s/%d", a, i)); err != nil {
			return "", err
		}
	}
	return "asked " + a, nil
}

// TestCloseNeverReplacesAnOutcome closes the runtime, round after round,
// while host calls that use it are under way. A call cut short by the
// shutdown — its host method seeing the runtime closed, in whatever form —
// is not a result: it is made again by the next incarnation, and every flow
// ends with its own outcome.
func TestCloseNeverReplacesAnOutcome(t *testing.T) {
	rng := seeded(t, "ASYNCFLOW_CLOSE_SEED")
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	const flows = 24
	path := tempStore(t)
	// Close dawdles right after it has marked the runtime closing, so that
	// host calls under way run into it.
	defer runtime.SetCloseHook(func() { time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) })()
	var all []flow.Vow[string]
	var args []string
	for r := range rounds {
		e := incarnation(t, path, "b", runtime.Options{}, asker)
		rt := e.rt
		// Flows of earlier rounds, revived by Start, may be calling already.
		e.host.SetHook(func(ctx context.Context, method string, _ ...any) error {
			// Host methods that use the runtime: each a check that it is
			// open, and a vow.
			for range 3 {
				if _, err := runtime.NewVow[int](ctx, rt); err != nil {
					return err
				}
			}
			return nil
		})
		for i := range flows {
			arg := fmt.Sprintf("r%d-f%d", r, i)
			all, args = append(all, e.start(arg)), append(args, arg)
		}
		time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
		e.close()
	}
	e := incarnation(t, path, "b", runtime.Options{}, asker)
	bad := 0
	for i, v := range all {
		got, err := e.wait(v)
		if !assert.NoError(t, err, "flow %s: a shutdown's error became its outcome", args[i]) {
			bad++
			continue
		}
		assert.Equal(t, "asked "+args[i], got)
	}
	t.Logf("%d rounds, %d flows, %d outcomes replaced", rounds, len(all), bad)
}

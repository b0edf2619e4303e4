package clocks // want package:"analysed"

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Mailer interface { // want Mailer:"host"
	Send(ctx context.Context, to, body string) error
}

//flowgen:flow
func Remind(fc flow.Context, m Mailer, to string) error { // want `flow Remind is not closed: Remind → time.Now: reads the wall clock` Remind:`open: clocks\.Remind → time\.Now`
	now := time.Now()     // want `time.Now: reads the wall clock; use flow.Now\(fc\) \(flow Remind: Remind → time.Now\)`
	time.Sleep(time.Hour) // want `time.Sleep: sleeps on the wall clock`
	return m.Send(fc, to, fmt.Sprint(now))
}

//flowgen:flow
func Good(fc flow.Context, m Mailer, to string) error {
	start := flow.Now(fc)
	flow.Sleep(fc, time.Hour)
	deadline := start.Add(48 * time.Hour)
	if flow.Now(fc).After(deadline) {
		return nil
	}
	d, _ := time.ParseDuration("90m")
	return m.Send(fc, to, start.Format(time.RFC3339)+d.String())
}

//flowgen:flow
func Timers(fc flow.Context) { // want `flow Timers is not closed` Timers:`open: clocks\.Timers → channel receive`
	<-time.After(time.Second)         // want `time.After: starts a wall-clock timer` `channel receive`
	t := time.NewTimer(time.Second)   // want `time.NewTimer`
	t.Stop()                          // want `Timer\).Stop`
	_ = time.Since(time.Unix(0, 0))   // want `time.Since: reads the wall clock`
	_ = time.Until(time.Unix(0, 0))   // want `time.Until`
	tk := time.NewTicker(time.Second) // want `time.NewTicker`
	_ = tk
	_ = time.Tick(time.Second)             // want `time.Tick`
	time.AfterFunc(time.Second, func() {}) // want `time.AfterFunc`
}

//flowgen:flow
func Zones(fc flow.Context) string { // want `flow Zones is not closed` Zones:`open: clocks\.Zones → \(time\.Time\)\.Local`
	t := flow.Now(fc)
	_ = t.Local()                               // want `Time\).Local: converts to the host's time zone`
	loc, _ := time.LoadLocation("Europe/Paris") // want `time.LoadLocation`
	_ = time.Local                              // want `time.Local: is the host's time zone`
	return t.In(loc).String()
}

// notAFlow uses the clock, but no flow reaches it: nothing is reported.
func notAFlow() time.Time { return time.Now() } // want notAFlow:`open: clocks\.notAFlow → time\.Now`

// Package subscribe is a subscription with a trial and billing periods, // want package:"analysed"
// and a poller, after the subscription and polling samples.
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Billing interface { // want Billing:"host"
	Charge(ctx context.Context, customer string, cents int64) error
	Cancelled(ctx context.Context, customer string) (flow.Vow[bool], error)
}

//flowgen:host
type Mail interface { // want Mail:"host"
	Send(ctx context.Context, to, text string) error
}

//flowgen:host
type Status interface { // want Status:"host"
	Check(ctx context.Context, job string) (string, error)
}

// Plan is what a customer subscribed to.
type Plan struct {
	Customer  string
	Email     string
	Cents     int64
	Trial     time.Duration
	Period    time.Duration
	MaxPeriod int
}

// Defaults fill in a plan.
var Defaults = Plan{Trial: 14 * 24 * time.Hour, Period: 30 * 24 * time.Hour, MaxPeriod: 12}

var ErrGaveUp = errors.New("gave up") // want ErrGaveUp:"sentinel"

func (p Plan) withDefaults() Plan { // want withDefaults:`closed reads\(corpus/subscribe\.Defaults\)$`
	if p.Trial == 0 {
		p.Trial = Defaults.Trial
	}
	if p.Period == 0 {
		p.Period = Defaults.Period
	}
	if p.MaxPeriod == 0 {
		p.MaxPeriod = Defaults.MaxPeriod
	}
	return p
}

// Subscribe runs a trial, then bills every period until cancelled.
//
//flowgen:flow
func Subscribe(fc flow.Context, b Billing, m Mail, p Plan) error { // want Subscribe:`closed reads\(corpus/subscribe\.Defaults\)`
	p = p.withDefaults()
	cancelled, err := b.Cancelled(fc, p.Customer)
	if err != nil {
		return err
	}
	if err := m.Send(fc, p.Email, "Welcome! Your trial ends "+flow.Now(fc).Add(p.Trial).Format("2 Jan")); err != nil {
		return err
	}
	if flow.Race(fc, cancelled, flow.After(fc, p.Trial)) == 0 {
		return m.Send(fc, p.Email, "Sorry to see you go")
	}
	for period := 1; period <= p.MaxPeriod; period++ {
		if err := b.Charge(fc, p.Customer, p.Cents); err != nil {
			return fmt.Errorf("period %d: %w", period, err)
		}
		if flow.Race(fc, cancelled, flow.After(fc, p.Period)) == 0 {
			return m.Send(fc, p.Email, fmt.Sprintf("Cancelled after %d periods", period))
		}
	}
	return m.Send(fc, p.Email, "Your subscription has ended")
}

// Countdown mails how long is left, computed from the host's clock.
//
//flowgen:flow
func Countdown(fc flow.Context, m Mail, p Plan, ends time.Time) error { // want `flow Countdown is not closed: Countdown → time.Until` Countdown:`open: subscribe\.Countdown → time\.Until`
	left := time.Until(ends) // want `time.Until`
	return m.Send(fc, p.Email, fmt.Sprintf("%d days left", int(left.Hours()/24)))
}

// Poll checks a job until it is done, backing off exponentially.
//
//flowgen:flow
func Poll(fc flow.Context, s Status, job string) (string, error) {
	for attempt := 0; attempt < 10; attempt++ {
		st, err := s.Check(fc, job)
		if err == nil && strings.EqualFold(st, "done") {
			return st, nil
		}
		flow.Sleep(fc, time.Duration(math.Pow(2, float64(attempt)))*time.Second)
	}
	return "", ErrGaveUp
}

// PollSleeping waits on the host's timer.
//
//flowgen:flow
func PollSleeping(fc flow.Context, s Status, job string) (string, error) { // want `flow PollSleeping is not closed: PollSleeping → time.Sleep` PollSleeping:`open: subscribe\.PollSleeping → time\.Sleep`
	for {
		st, err := s.Check(fc, job)
		if err == nil && st == "done" {
			return st, nil
		}
		time.Sleep(time.Minute) // want `time.Sleep`
	}
}

// pollInterval is read from the environment when the process starts.
var pollInterval = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("POLL")); err == nil { // want `os.Getenv`
		return d
	}
	return time.Minute
}()

// PollConfigured waits for an interval taken from the environment.
//
//flowgen:flow
func PollConfigured(fc flow.Context, s Status, job string) (string, error) { // want `flow PollConfigured is not closed: PollConfigured → package variable pollInterval` PollConfigured:`open: subscribe\.PollConfigured → package variable pollInterval`
	for {
		if st, err := s.Check(fc, job); err == nil && st == "done" {
			return st, nil
		}
		flow.Sleep(fc, pollInterval) // want `package variable pollInterval: is initialised by code that is not closed`
	}
}

// Deadline computes a deadline in a fixed zone.
//
//flowgen:flow
func Deadline(fc flow.Context, m Mail, p Plan) error {
	loc := time.FixedZone("CET", 3600)
	due := flow.Now(fc).In(loc).Add(p.Period).Truncate(24 * time.Hour)
	return m.Send(fc, p.Email, "Due "+due.Format(time.DateOnly))
}

// LocalDeadline converts to the host's time zone.
//
//flowgen:flow
func LocalDeadline(fc flow.Context, m Mail, p Plan) error { // want `flow LocalDeadline is not closed` LocalDeadline:`open: subscribe\.LocalDeadline → \(time\.Time\)\.Local`
	due := flow.Now(fc).Add(p.Period).Local() // want `Time\).Local`
	return m.Send(fc, p.Email, "Due "+due.Format(time.DateOnly))
}

// Package saga is a money transfer with compensations, after the saga // want package:"analysed"
// samples: withdraw, deposit, and undo what was done if a step fails.
package saga

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"corpus/sagalib"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Bank interface { // want Bank:"host"
	Withdraw(ctx context.Context, account string, cents int64, key string) error
	Deposit(ctx context.Context, account string, cents int64, key string) error
}

// Transfer is what to move.
type Transfer struct {
	From, To string
	Cents    int64
	ID       string
}

var ErrSame = errors.New("same account") // want ErrSame:"sentinel"

// compensations is this package's own helper.
type compensations []func() error

func (c *compensations) add(f func() error) { *c = append(*c, f) } // want add:`closed writes\[\-1\] stores\(\-1\[\] ← 0\)`

func (c compensations) run() error { // want run:`closed calls\(param \-1\[\] \)`
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}

// Move withdraws and deposits, undoing the withdrawal if the deposit fails.
//
//flowgen:flow
func Move(fc flow.Context, bank Bank, t Transfer) error {
	if t.From == t.To {
		return ErrSame
	}
	var comp compensations
	if err := bank.Withdraw(fc, t.From, t.Cents, t.ID+"-w"); err != nil {
		return err
	}
	comp.add(func() error { return bank.Deposit(fc, t.From, t.Cents, t.ID+"-undo-w") })
	if err := bank.Deposit(fc, t.To, t.Cents, t.ID+"-d"); err != nil {
		return errors.Join(err, comp.run())
	}
	return nil
}

// MoveWithLib does the same with the library's saga.
//
//flowgen:flow
func MoveWithLib(fc flow.Context, bank Bank, t Transfer) error {
	var s sagalib.Saga
	if err := bank.Withdraw(fc, t.From, t.Cents, t.ID+"-w"); err != nil {
		return err
	}
	s.Add("withdraw", func(ctx context.Context) error { return bank.Deposit(ctx, t.From, t.Cents, t.ID+"-undo-w") })
	if err := bank.Deposit(fc, t.To, t.Cents, t.ID+"-d"); err != nil {
		return fmt.Errorf("deposit: %w (undo: %v)", err, s.Compensate(fc))
	}
	return nil
}

// refundAll is a compensation that reads the environment.
func refundAll(ctx context.Context) error { // want refundAll:`open: saga\.refundAll → os\.Getenv`
	if os.Getenv("DRY_RUN") != "" { // want `os.Getenv`
		return nil
	}
	return nil
}

// MoveDryRun registers a compensation that reads the environment.
//
//flowgen:flow
func MoveDryRun(fc flow.Context, bank Bank, t Transfer) error { // want `flow MoveDryRun is not closed: MoveDryRun → refundAll → os.Getenv` MoveDryRun:`open: saga\.MoveDryRun → saga\.refundAll → os\.Getenv`
	var s sagalib.Saga
	s.Add("refund", refundAll)
	if err := bank.Deposit(fc, t.To, t.Cents, t.ID+"-d"); err != nil {
		return s.Compensate(fc)
	}
	return nil
}

// MoveTimed stamps the idempotency key with the host's clock.
//
//flowgen:flow
func MoveTimed(fc flow.Context, bank Bank, t Transfer) error { // want `flow MoveTimed is not closed` MoveTimed:`open: saga\.MoveTimed → time\.Now`
	key := fmt.Sprintf("%s-%d", t.ID, time.Now().UnixNano()) // want `time.Now`
	return bank.Withdraw(fc, t.From, t.Cents, key)
}

// MoveKeyed stamps it with the flow's clock.
//
//flowgen:flow
func MoveKeyed(fc flow.Context, bank Bank, t Transfer) error {
	key := fmt.Sprintf("%s-%d", t.ID, flow.Now(fc).UnixNano())
	return bank.Withdraw(fc, t.From, t.Cents, key)
}

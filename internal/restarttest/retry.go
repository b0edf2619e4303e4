package restarttest

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Gateway delivers messages over a flaky network: a failed delivery is made
// again after a backoff of 1s, then 2s, then 4s.
//
//flowgen:host
//flowgen:retry attempts=4 backoff=1s multiplier=2
type Gateway interface {
	Deliver(ctx context.Context, msg string) (string, error)
}

// Notify delivers a message.
//
//flowgen:flow name=restarttest.Notify
func Notify(fc flow.Context, g Gateway, msg string) (string, error) {
	return g.Deliver(fc, msg)
}

// Attempt is one line of the gateway's journal: one attempt of a delivery.
type Attempt struct {
	Key        string `json:"key"`
	AttemptKey string `json:"attempt_key"`
	Attempt    int    `json:"attempt"`
	At         int64  `json:"at"` // Unix nanoseconds
	PID        int    `json:"pid"`
}

// FlakyGateway fails every attempt up to Fail and journals every attempt,
// durably, before it answers.
type FlakyGateway struct {
	Journal *os.File
	Fail    int
	mu      sync.Mutex
}

// Deliver implements Gateway.
func (g *FlakyGateway) Deliver(ctx context.Context, msg string) (string, error) {
	info, _ := flow.CallInfoFrom(ctx)
	line, err := json.Marshal(Attempt{Key: info.IdempotencyKey(), AttemptKey: info.AttemptKey(), Attempt: info.Attempt, At: time.Now().UnixNano(), PID: os.Getpid()})
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	_, err = g.Journal.Write(append(line, '\n'))
	if err == nil {
		err = g.Journal.Sync()
	}
	g.mu.Unlock()
	if err != nil {
		return "", err
	}
	if info.Attempt <= g.Fail {
		return "", fmt.Errorf("attempt %d: network unreachable", info.Attempt)
	}
	return "delivered " + msg, nil
}

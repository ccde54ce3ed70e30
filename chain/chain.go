// Package chain is the request path of siplens: a fixed order of small steps that each
// look at a request and either pass it on, answer it, or reject it with a code and a reason.
//
// The contract, written once here so that every step can rely on it:
//
//   - A step's Handle returns nil to pass the request to the next step.
//   - A step that answers the request itself writes a final response through the
//     ResponseWriter; the chain stops at the first final response.
//   - A step that refuses the request returns a *Error (see Reject). The frame turns it
//     into the response and the diagnosis keeps its reason and the step's name.
//   - Any other error, or a panic, becomes a 500 for that request only.
//
// Steps never import each other: what they share (the served domain, the authenticated
// user, the target set) lives on Request.
package chain

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
)

// Step is one link of the chain.
type Step interface {
	// Name is the short name used in logs, traces and docs/responses.md ("sanity", "auth", ...).
	Name() string
	// Handle looks at the request; see the package comment for what the return value means.
	Handle(ctx context.Context, w ResponseWriter, r *Request) error
}

// Chain runs its steps in order.
type Chain struct {
	steps []Step
}

// New builds a chain from steps in the order given; the server passes them in Order.
func New(steps ...Step) *Chain {
	return &Chain{steps: steps}
}

// Steps returns the steps in order (for docs and tests).
func (c *Chain) Steps() []Step { return c.steps }

// Serve runs the request through the steps. It returns the error that ended the chain, or
// nil when a step answered or every step passed. A panic in a step is recovered and
// returned as an internal error that carries the stack, so one bad request never takes the
// server down.
func (c *Chain) Serve(ctx context.Context, w ResponseWriter, r *Request) (err error) {
	for _, step := range c.steps {
		w.SetProducer(step.Name())
		if err := runStep(ctx, step, w, r); err != nil {
			var rej *Error
			if errors.As(err, &rej) && rej.Step == "" {
				rej.Step = step.Name()
			}
			return err
		}
		if w.Final() {
			return nil
		}
	}
	return nil
}

func runStep(ctx context.Context, step Step, w ResponseWriter, r *Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Step: step.Name(), Value: p, Stack: debug.Stack()}
		}
	}()
	return step.Handle(ctx, w, r)
}

// PanicError is a recovered panic from a step.
type PanicError struct {
	Step  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic in step %s: %v", e.Step, e.Value)
}

package chain

import (
	"sync"

	"github.com/emiago/sipgo/sip"
)

// ResponseWriter sends the responses to one request and remembers who produced them.
type ResponseWriter interface {
	// Reply answers the request with a locally generated response. Every local response to
	// one request carries the same To-tag (RFC 3261 8.2.6.2); an empty phrase means the
	// standard one.
	Reply(code int, phrase string, headers ...sip.Header) error
	// ReplyWith sends a response the caller built from the request (a 200 with a body, say);
	// its To-tag is replaced by the pinned one.
	ReplyWith(res *sip.Response) error
	// Relay passes on a response that came from a branch, as it is.
	Relay(res *sip.Response) error
	// SetProducer names who writes from now on (a step, "branch 1", "timer C").
	SetProducer(name string)
	Producer() string
	// Final reports whether a final (>= 200) response has been sent.
	Final() bool
	// Status is the last status code sent (0 for none).
	Status() int
}

// Sender is what a ResponseWriter writes to: a sipgo server transaction satisfies it.
type Sender interface {
	Respond(res *sip.Response) error
}

// Written is one response that went out, with who produced it.
type Written struct {
	Response *sip.Response
	Producer string
}

// Writer is the ResponseWriter over a server transaction.
type Writer struct {
	req    *sip.Request
	sender Sender
	// OnWrite, when set, sees every response after it is sent (logs, traces).
	OnWrite func(Written)

	mu       sync.Mutex
	toTag    string
	producer string
	status   int
	final    bool
}

// NewWriter returns a writer that answers req through sender.
func NewWriter(req *sip.Request, sender Sender) *Writer {
	return &Writer{req: req, sender: sender}
}

// ToTag is the tag every locally generated response to this request carries.
func (w *Writer) ToTag() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.toTag == "" {
		if to := w.req.To(); to != nil {
			if tag, ok := to.Params.Get("tag"); ok && tag != "" {
				// In-dialog request: the tag is already the dialog's.
				w.toTag = tag
				return tag
			}
		}
		w.toTag = sip.GenerateTagN(16)
	}
	return w.toTag
}

func (w *Writer) Reply(code int, phrase string, headers ...sip.Header) error {
	if phrase == "" {
		phrase = StandardPhrase(code)
	}
	res := sip.NewResponseFromRequest(w.req, code, phrase, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	return w.ReplyWith(res)
}

func (w *Writer) ReplyWith(res *sip.Response) error {
	// sipgo copies the request's version; a 505 to "SIP/7.0" must still speak SIP/2.0.
	res.SipVersion = "SIP/2.0"
	if res.StatusCode != 100 {
		// sipgo draws a fresh random tag for every response it builds; pin ours.
		if to := res.To(); to != nil {
			tag := w.ToTag()
			to.Params.Remove("tag")
			to.Params.Add("tag", tag)
		}
	}
	return w.send(res)
}

func (w *Writer) Relay(res *sip.Response) error {
	return w.send(res)
}

func (w *Writer) send(res *sip.Response) error {
	w.mu.Lock()
	w.status = res.StatusCode
	if res.StatusCode >= 200 {
		w.final = true
	}
	producer := w.producer
	w.mu.Unlock()
	err := w.sender.Respond(res)
	if w.OnWrite != nil {
		w.OnWrite(Written{Response: res, Producer: producer})
	}
	return err
}

func (w *Writer) SetProducer(name string) {
	w.mu.Lock()
	w.producer = name
	w.mu.Unlock()
}

func (w *Writer) Producer() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.producer
}

func (w *Writer) Final() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.final
}

func (w *Writer) Status() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Recorder is a Sender that keeps responses instead of sending them: the response writer
// of step tests.
type Recorder struct {
	mu        sync.Mutex
	Responses []*sip.Response
}

func (r *Recorder) Respond(res *sip.Response) error {
	r.mu.Lock()
	r.Responses = append(r.Responses, res)
	r.mu.Unlock()
	return nil
}

// Last returns the last recorded response or nil.
func (r *Recorder) Last() *sip.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Responses) == 0 {
		return nil
	}
	return r.Responses[len(r.Responses)-1]
}

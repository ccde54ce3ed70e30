package chain

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// Error is a rejection: the status code and reason phrase that go on the wire, the plain
// reason that goes into the log and the diagnosis, and the step that produced it.
type Error struct {
	Code int
	// Phrase is the reason phrase sent on the status line; empty means the standard one.
	Phrase string
	// Reason says why in plain words, for the log and the call's diagnosis.
	Reason string
	// Step is filled in by the chain with the name of the step that returned the error.
	Step string
	// Headers are added to the response (Retry-After, Min-Expires, Unsupported, Allow,
	// WWW-Authenticate, Warning, ...).
	Headers []sip.Header
}

// Reject builds a rejection with the standard reason phrase.
func Reject(code int, reason string, headers ...sip.Header) *Error {
	return &Error{Code: code, Reason: reason, Headers: headers}
}

// RejectPhrase builds a rejection whose status line carries a specific phrase, for codes
// such as 400 where the phrase itself should name what was wrong.
func RejectPhrase(code int, phrase, reason string, headers ...sip.Header) *Error {
	return &Error{Code: code, Phrase: phrase, Reason: reason, Headers: headers}
}

// Drop refuses a request that cannot be answered (its Via gives nowhere to send a
// response): nothing is sent, the request is counted and logged with the reason.
func Drop(reason string) *Error {
	return &Error{Code: 0, Reason: reason}
}

// Dropped reports whether the rejection is a silent drop.
func (e *Error) Dropped() bool { return e.Code == 0 }

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.StatusPhrase(), e.Reason)
}

// StatusPhrase is the reason phrase to send.
func (e *Error) StatusPhrase() string {
	if e.Phrase != "" {
		return e.Phrase
	}
	return StandardPhrase(e.Code)
}

// StandardPhrase is the RFC reason phrase for the codes siplens sends itself.
func StandardPhrase(code int) string {
	if p, ok := standardPhrases[code]; ok {
		return p
	}
	switch code / 100 {
	case 1:
		return "Trying"
	case 2:
		return "OK"
	case 3:
		return "Redirection"
	case 4:
		return "Bad Request"
	case 5:
		return "Server Internal Error"
	}
	return "Global Failure"
}

var standardPhrases = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
	200: "OK", 202: "Accepted",
	301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
	407: "Proxy Authentication Required", 408: "Request Timeout", 413: "Request Entity Too Large",
	414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
	420: "Bad Extension", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
	481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
	484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
	500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
	600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

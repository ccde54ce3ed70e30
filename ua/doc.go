// Package ua is siplens' user-agent side: a phone that registers, calls, answers and
// probes, used by the register, call, answer and options commands and by the end-to-end
// tests as a peer.
//
// It acts on every response the way RFC 3261 tells a phone to:
//
//   - 401/407 (8.1.3.5, 22.2): retried once with digest credentials per realm. A second
//     challenge for a realm already answered means the password or user is wrong; the
//     phone reports that instead of looping (a stale=true nonce is answered once more).
//   - 3xx (8.1.3.4): the Contacts are tried in decreasing q order, at most
//     CallOptions.MaxRedirects times, never the same URI twice (loop detection).
//   - 503 with Retry-After (21.5.4): waited for and retried once, if no longer than
//     CallOptions.MaxRetryAfter; otherwise reported.
//   - 1xx (13.2.2.1): shown; a 183 (or 180) with SDP is early media.
//   - 2xx (13.2.2.4): ACK, hold for CallOptions.Duration, BYE (15.1.1). A second 2xx from
//     another fork is ACKed and ended with BYE.
//   - A call abandoned while ringing (ring timeout, cancelled context) is CANCELled
//     (9.1) as soon as a provisional response allows it; the INVITE then ends with 487.
//
// Every message sent and received, and every decision, is an Event; Config.OnEvent sees
// them as they happen, and each result carries the events of its call (WriteLadder
// renders them as a ladder). The outcome of a call, registration or probe is one of the
// Outcome constants, with the matching exit status (ExitCode).
//
// sipgo (github.com/emiago/sipgo) provides the transports and transactions; a Phone
// builds its requests itself so that every header is what the RFC asks for, and relies on
// sipgo for retransmissions, the ACK of non-2xx responses and, on the answering side, the
// answers to CANCEL.
package ua

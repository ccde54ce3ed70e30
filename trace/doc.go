// Package trace records calls: every SIP message siplens receives or sends, and every
// decision its steps take, on one timeline per Call-ID.
//
// A call's record (Call) holds two kinds of entries:
//
//   - Message: the raw bytes of one SIP message as it crossed the wire, with its time (µs),
//     direction, transport and addresses. The wire tap fills these, so retransmissions and
//     the answers sipgo sends by itself (100 Trying, 487 after a CANCEL, stateless 400s)
//     are there too. A pcap importer fills the same struct from a capture.
//   - Event: a decision of siplens (which step answered and why, an ACL rule that matched,
//     an auth verdict, a location lookup, a branch opened or answered, a timer that fired,
//     a CANCEL sent, the best-response choice). Steps add them through the context.
//
// Nothing in a record refers to live server state: a record is plain data that can be
// stored, reloaded and explained (package diag) long after the call.
//
// The server owns one Tracer. Its wire tap calls SIPTraceRead and SIPTraceWrite (the
// Tracer satisfies sipgo's sip.SIPTracer), and for every request it attaches a Recorder to
// the context:
//
//	ctx = trace.WithRecorder(ctx, tracer.ForRequest(req))
//
// Steps then record decisions without knowing whether tracing is on:
//
//	trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.NoBinding,
//		Producer: "locate", Code: 480, User: aor, Reason: reason})
//
// Recording never blocks: entries go through a bounded queue to one background writer,
// which frames TCP streams into messages, keys messages by Call-ID, keeps the call
// summaries up to date and hands batches to a Sink (in memory, or SQLite).
package trace

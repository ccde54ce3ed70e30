package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("show", "show CALL-ID [--format text|mermaid|svg|json|pcap|trace] [--name IP[:PORT]=LABEL ...] [--verbose] [--admin URL] [--token T]", stderr)
	format := fs.String("format", "text", "text (the diagnosis, then the ladder), only the ladder as mermaid, svg or json, "+
		"the messages as a pcap file for Wireshark (pcap), or the record as JSON that siplens analyze reads back (trace)")
	var names stringList
	fs.Var(&names, "name", "label a host on the ladder: 10.0.0.5=pbx or 10.0.0.5:5060=pbx (repeatable)")
	verbose := fs.Bool("verbose", false, "also draw the decisions that only repeat an arrow (branch answers)")
	af := addAdminFlags(fs)
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	callID := pos[0]
	if callID == "" {
		return usageError(fs, stderr, "the Call-ID is empty")
	}
	if !slices.Contains(admin.LadderFormats, *format) && !slices.Contains(recordFormats, *format) {
		return usageError(fs, stderr, "--format %q: give one of %s", *format, strings.Join(append(slices.Clone(admin.LadderFormats), recordFormats...), ", "))
	}
	if _, err := diag.ParseNames(names); err != nil {
		return usageError(fs, stderr, "--name: %v", err)
	}
	c, err := af.client()
	if err != nil {
		return usageError(fs, stderr, "%v", err)
	}
	q := url.Values{}
	for _, n := range names {
		q.Add("name", n)
	}
	if *verbose {
		q.Set("verbose", "true")
	}
	path := "/api/calls/" + escapeSegment(callID)
	switch *format {
	case "pcap":
		body, err := c.get(path+"/pcap", nil)
		if err != nil {
			return c.failCall(stderr, callID, err)
		}
		if _, err := stdout.Write(body); err != nil {
			return errorf(stderr, "%v", err)
		}
		return 0
	case "trace":
		body, err := c.get(path, nil)
		if err != nil {
			return c.failCall(stderr, callID, err)
		}
		var d admin.CallDetail
		if err := json.Unmarshal(body, &d); err != nil {
			return errorf(stderr, "the admin API at %s answered something that is not a call: %v", c.base, err)
		}
		out, err := json.MarshalIndent(traceOf(callID, &d), "", "  ")
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		if _, err := stdout.Write(append(out, '\n')); err != nil {
			return errorf(stderr, "%v", err)
		}
		return 0
	}
	if *format != "text" {
		q.Set("format", *format)
		body, err := c.get(path+"/ladder", q)
		if err != nil {
			return c.failCall(stderr, callID, err)
		}
		if _, err := stdout.Write(body); err != nil {
			return errorf(stderr, "%v", err)
		}
		return 0
	}
	// One request gives the diagnosis and the ladder of the same moment of the record.
	body, err := c.get(path, q)
	if err != nil {
		return c.failCall(stderr, callID, err)
	}
	var d admin.CallDetail
	if err := json.Unmarshal(body, &d); err != nil || d.Ladder == nil {
		return errorf(stderr, "the admin API at %s answered something that is not a call: %v", c.base, cmpErr(err, "no ladder"))
	}
	var out bytes.Buffer
	if err := d.Diagnosis.WriteText(&out); err != nil {
		return errorf(stderr, "%v", err)
	}
	out.WriteString("\n")
	if err := d.Ladder.WriteText(&out); err != nil {
		return errorf(stderr, "%v", err)
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return errorf(stderr, "%v", err)
	}
	return 0
}

// recordFormats are the formats of show that give the record itself rather than a
// drawing of it.
var recordFormats = []string{"pcap", "trace"}

// traceOf rebuilds the call record from the API's detail: the trace export that
// `siplens analyze` reads back to the same diagnosis.
func traceOf(callID string, d *admin.CallDetail) *trace.Call {
	c := &trace.Call{CallID: callID, Messages: []trace.Message{}, Events: d.Events}
	if c.Events == nil {
		c.Events = []trace.Event{}
	}
	for i, m := range d.Messages {
		c.Messages = append(c.Messages, trace.Message{CallID: callID, Seq: uint64(i + 1), Time: m.Time, Direction: m.Direction,
			Transport: m.Transport, Local: m.Local, Remote: m.Remote, Raw: []byte(m.Text)})
	}
	return c
}

// failCall is fail with the words for an unknown Call-ID.
func (c *adminClient) failCall(stderr io.Writer, callID string, err error) int {
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound && strings.HasPrefix(ae.text, "no call with Call-ID") {
		return errorf(stderr, "no recorded call has Call-ID %s (it may be older than trace.max_age, or the Call-ID is mistyped); siplens calls lists the recent ones",
			strconv.Quote(callID))
	}
	return c.fail(stderr, err)
}

// escapeSegment escapes a Call-ID as one path segment; "." and ".." too, which a path
// would otherwise resolve.
func escapeSegment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

func cmpErr(err error, otherwise string) error {
	if err != nil {
		return err
	}
	return errors.New(otherwise)
}

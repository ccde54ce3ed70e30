package admin

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"

	"github.com/siplens/siplens/capture"
)

// unsafeName matches what may not appear in a download's file name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// pcap: GET /api/calls/{callid}/pcap. The file is built in memory before the first
// byte is sent, so that a failure is still a JSON error and not half a file; one call's
// messages are small.
func (a *api) pcap(w http.ResponseWriter, r *http.Request) {
	if _, err := checkParams(r.URL.Query()); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	c, ok := a.lookup(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := capture.WritePCAP(&buf, c); err != nil {
		a.o.Log.Error("admin API: write pcap", "call_id", c.CallID, "err", err)
		writeError(w, http.StatusInternalServerError, "write the pcap of %q: %v", c.CallID, err)
		return
	}
	name := unsafeName.ReplaceAllString(c.CallID, "_")
	if len(name) > 80 {
		name = name[:80]
	}
	w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
	w.Header().Set("Content-Disposition", `attachment; filename="call-`+name+`.pcap"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

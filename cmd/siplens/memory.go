package main

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
)

// serveMemoryLimit is the Go runtime's soft memory limit for `siplens serve` when
// GOMEMLIMIT is not set: half of the memory the process may use (the container's limit
// if there is one, else the machine's), or 0 when neither can be read. With GOGC at
// 400 the heap may grow to five times what is live; the proxy keeps every transaction
// 32 s (RFC 3261 timers), about 20 KB a call, so at 1,600 calls/s that is 1.3 GB live
// and up to 6 GB of heap. Past the limit the collector runs more often instead.
func serveMemoryLimit() int64 {
	var limits []int64
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			if n, ok := parseCgroupLimit(string(b)); ok {
				limits = append(limits, n)
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		if n, ok := parseMemTotal(f); ok {
			limits = append(limits, n)
		}
		f.Close()
	}
	if len(limits) == 0 {
		return 0
	}
	low := limits[0]
	for _, n := range limits[1:] {
		low = min(low, n)
	}
	return low / 2
}

// parseCgroupLimit reads a cgroup memory limit file: a number of bytes, or "max" (none).
// cgroup v1 writes a huge number for no limit, which MemTotal then undercuts.
func parseCgroupLimit(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// parseMemTotal reads the MemTotal line of /proc/meminfo, in bytes.
func parseMemTotal(r io.Reader) (int64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}

package main

import (
	"strings"
	"testing"
)

func TestParseCgroupLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"max\n", 0, false},
		{"4294967296\n", 4 << 30, true},
		{"9223372036854771712\n", 9223372036854771712, true}, // cgroup v1 "no limit"
		{"", 0, false},
		{"0", 0, false},
	} {
		got, ok := parseCgroupLimit(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCgroupLimit(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	got, ok := parseMemTotal(strings.NewReader("MemTotal:       24684096 kB\nMemFree:        1 kB\n"))
	if !ok || got != 24684096*1024 {
		t.Errorf("got %d, %v", got, ok)
	}
	if _, ok := parseMemTotal(strings.NewReader("MemFree: 1 kB\n")); ok {
		t.Error("no MemTotal line, but ok")
	}
	if n := serveMemoryLimit(); n <= 0 {
		t.Errorf("serveMemoryLimit on this machine: %d, want a positive limit (/proc/meminfo is readable)", n)
	}
}

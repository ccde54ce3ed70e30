package ratelimit

import "strings"

// Counter counts the step's refusals for the metrics (package metrics implements it), so
// that the step stays free of Prometheus.
type Counter interface {
	// RateLimited counts one refusal by the named limit: "max_in_progress", "per_source"
	// or "total", as in the config.
	RateLimited(rule string)
}

// countRefusal counts a refusal by rule, the trace's Rule ("per_source 192.0.2.7"): its
// first word names the limit.
func (s *Step) countRefusal(rule string) {
	if s.Metrics != nil {
		name, _, _ := strings.Cut(rule, " ")
		s.Metrics.RateLimited(name)
	}
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/prometheus/client_golang/prometheus"
)

// The figures read at scrape time rather than counted on the request path: they exist
// already (the server's atomics, the tracer's stats, the store, a file), so reading them
// once per scrape costs the request path nothing.
var (
	inProgressDesc = prometheus.NewDesc("siplens_requests_in_progress",
		"Requests being handled by the chain right now: the server transactions siplens holds open (the overload guard's figure).", nil, nil)
	droppedDesc = prometheus.NewDesc("siplens_messages_dropped_total",
		"Messages dropped without an answer: unparseable, without Via, with a bare CR or LF, or dropped by policy.", nil, nil)
	panicsDesc = prometheus.NewDesc("siplens_panics_total",
		"Panics recovered in the request path (each became a 500).", nil, nil)
	registrationsDesc = prometheus.NewDesc("siplens_registrations",
		"Unexpired registered contacts (bindings) in the location store.", nil, nil)
	aorsDesc = prometheus.NewDesc("siplens_registered_aors",
		"Addresses-of-record with at least one unexpired contact.", nil, nil)
	traceBytesDesc = prometheus.NewDesc("siplens_trace_store_bytes",
		"Size of the call recorder's SQLite file, with its write-ahead log.", nil, nil)
	traceCallsDesc = prometheus.NewDesc("siplens_trace_store_calls",
		"Calls held by the call recorder's store.", nil, nil)
	traceRecordedDesc = prometheus.NewDesc("siplens_trace_entries_recorded_total",
		"Messages and decisions accepted by the call recorder's queue.", nil, nil)
	traceDroppedDesc = prometheus.NewDesc("siplens_trace_entries_dropped_total",
		"Messages and decisions the call recorder dropped because its queue was full.", nil, nil)
	traceWrittenDesc = prometheus.NewDesc("siplens_trace_entries_written_total",
		"Messages and decisions the call recorder wrote to its store.", nil, nil)
	traceErrorsDesc = prometheus.NewDesc("siplens_trace_write_errors_total",
		"Batches the call recorder's store refused.", nil, nil)
)

// gauges is the collector of the figures read at scrape time.
type gauges struct{ m *Metrics }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inProgressDesc, droppedDesc, panicsDesc, registrationsDesc, aorsDesc,
		traceBytesDesc, traceCallsDesc, traceRecordedDesc, traceDroppedDesc, traceWrittenDesc, traceErrorsDesc} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	o := &g.m.opts
	if s := g.m.server.Load(); s != nil {
		if s.InProgress != nil {
			ch <- prometheus.MustNewConstMetric(inProgressDesc, prometheus.GaugeValue, float64(s.InProgress()))
		}
		if s.Dropped != nil {
			ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.Dropped()))
		}
		if s.Panics != nil {
			ch <- prometheus.MustNewConstMetric(panicsDesc, prometheus.CounterValue, float64(s.Panics()))
		}
	}
	if o.Locations != nil {
		g.registrations(ch)
	}
	if o.Tracer != nil {
		st := o.Tracer.Stats()
		ch <- prometheus.MustNewConstMetric(traceRecordedDesc, prometheus.CounterValue, float64(st.Recorded))
		ch <- prometheus.MustNewConstMetric(traceDroppedDesc, prometheus.CounterValue, float64(st.Dropped))
		ch <- prometheus.MustNewConstMetric(traceWrittenDesc, prometheus.CounterValue, float64(st.Written))
		ch <- prometheus.MustNewConstMetric(traceErrorsDesc, prometheus.CounterValue, float64(st.WriteErrors))
	}
	if o.TraceFile != "" {
		if n, err := fileSize(o.TraceFile); err != nil {
			ch <- prometheus.NewInvalidMetric(traceBytesDesc, err)
		} else {
			ch <- prometheus.MustNewConstMetric(traceBytesDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if o.TraceCalls != nil {
		ctx, cancel := context.WithTimeout(context.Background(), o.ScrapeTimeout)
		n, err := o.TraceCalls(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(traceCallsDesc, fmt.Errorf("count recorded calls: %w", err))
		} else {
			ch <- prometheus.MustNewConstMetric(traceCallsDesc, prometheus.GaugeValue, float64(n))
		}
	}
}

// registrations counts the unexpired bindings and their addresses-of-record. The store
// interface has no count, so this lists the bindings: a scrape every 15 s costs one copy
// of the table, nothing on the request path.
func (g *gauges) registrations(ch chan<- prometheus.Metric) {
	o := &g.m.opts
	ctx, cancel := context.WithTimeout(context.Background(), o.ScrapeTimeout)
	defer cancel()
	bs, err := o.Locations.AllBindings(ctx, o.Now())
	if err != nil {
		err = fmt.Errorf("list registrations: %w", err)
		ch <- prometheus.NewInvalidMetric(registrationsDesc, err)
		ch <- prometheus.NewInvalidMetric(aorsDesc, err)
		return
	}
	aors := make(map[string]struct{}, len(bs))
	for _, b := range bs {
		aors[b.AOR] = struct{}{}
	}
	ch <- prometheus.MustNewConstMetric(registrationsDesc, prometheus.GaugeValue, float64(len(bs)))
	ch <- prometheus.MustNewConstMetric(aorsDesc, prometheus.GaugeValue, float64(len(aors)))
}

// fileSize is the size of an SQLite file with its -wal file (in WAL mode, recent writes
// live there until a checkpoint). A missing -wal is no error; a missing main file is.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("trace store size: %w", err)
	}
	n := fi.Size()
	if wal, err := os.Stat(path + "-wal"); err == nil {
		n += wal.Size()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("trace store size: %w", err)
	}
	return n, nil
}

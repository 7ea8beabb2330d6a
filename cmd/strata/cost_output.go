package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/strata-io/strata/tiering/cost"
)

// printCostReport prints r in format: as JSON, or as tables of what was
// measured, the monthly cost, the --what-if comparison and the notes.
func printCostReport(w io.Writer, format outputFormat, r costReport) error {
	if format == outputJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "Measured over %.1fs on %s. Monthly cost in %s at %s.\n\n",
		r.SampleSeconds, r.Bootstrap, r.Currency, r.PriceSource)
	if err := printCostMeasured(w, r); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := printCostMonthly(w, r); err != nil {
		return err
	}
	if r.WhatIf != nil {
		fmt.Fprintln(w)
		if err := printCostWhatIf(w, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nSteady state at the measured ingress; consumers read each byte %s time(s), %.0f%% of it from the object store "+
		"(--read-fanout, --remote-read-fraction). Classic Kafka keeps every retained byte on %d replicas' disks.\n",
		formatRate(r.ReadFanout), r.RemoteReadFraction*100, r.ClassicReplicationFactor)
	if notes := sortedNotes(r); len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return nil
}

func printCostMeasured(w io.Writer, r costReport) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tRF\tTIERED\tINGRESS\tRECORDS/S\tCOMPRESSION\tLOCAL\tREMOTE\tSEGMENT\tRETENTION\tLOCAL-RETENTION\tSTORE-REQUESTS/S")
	for _, t := range r.Topics {
		m, c := t.Measured, t.Configs
		compression := "-"
		if m.CompressionRatio != nil {
			compression = fmt.Sprintf("%.2fx %s", *m.CompressionRatio, m.CompressionCodec)
		}
		tiered, local := "no", "-"
		if c.RemoteStorageEnable {
			tiered, local = "yes", formatRetention(asTotal(c.LocalRetentionMS, c.RetentionMS), asTotal(c.LocalRetentionBytes, c.RetentionBytes))
		}
		rq := m.Requests
		requests := fmt.Sprintf("%s PUT, %s GET (%s)", formatRate(rq.PutsPerSec), formatRate(rq.GetsPerSec), rq.PutsSource)
		if rq.PutsSource != rq.GetsSource {
			requests = fmt.Sprintf("%s PUT (%s), %s GET (%s)", formatRate(rq.PutsPerSec), rq.PutsSource,
				formatRate(rq.GetsPerSec), rq.GetsSource)
		}
		segment, retention := "-", "-"
		if c.SegmentBytes > 0 {
			segment, retention = formatBytes(c.SegmentBytes), formatRetention(c.RetentionMS, c.RetentionBytes)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s/s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			t.Name, t.Partitions, t.ReplicationFactor, tiered, formatBytes(int64(math.Round(m.IngressBytesPerSec))),
			formatRate(m.RecordsPerSec), compression, formatBytes(m.LocalBytes), formatBytes(m.RemoteBytes),
			segment, retention, local, requests)
	}
	return tw.Flush()
}

func printCostMonthly(w io.Writer, r costReport) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "MONTHLY COST (%s)\tOBJECT-STORAGE\tREQUESTS\tLOCAL-DISK\tCROSS-ZONE\tSTRATA\tCLASSIC-KAFKA\tSAVING\n", r.Currency)
	row := func(name string, s costScenarios) {
		b := s.Strata
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, money(b.ObjectStorage), money(b.Requests),
			money(b.LocalDisk), money(b.CrossZone), money(b.Total), money(s.Classic.Total), saving(s))
	}
	for _, t := range r.Topics {
		if !t.Priced {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t(not priced, see notes)\n", t.Name)
			continue
		}
		row(t.Name, t.Monthly)
	}
	row("TOTAL", r.Total)
	return tw.Flush()
}

func printCostWhatIf(w io.Writer, r costReport) error {
	fmt.Fprintf(w, "What if %s (monthly, %s):\n", r.WhatIf.Overrides, r.Currency)
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tBEFORE\tAFTER\tDELTA\tOBJECT-STORAGE\tREQUESTS\tLOCAL-DISK\tCROSS-ZONE\tCLASSIC-KAFKA-AFTER")
	row := func(name string, before, after costScenarios, d costBreakdown) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, money(before.Strata.Total), money(after.Strata.Total),
			signed(d.Total), signed(d.ObjectStorage), signed(d.Requests), signed(d.LocalDisk), signed(d.CrossZone),
			money(after.Classic.Total))
	}
	for _, t := range r.Topics {
		if t.WhatIf == nil || !t.WhatIf.Priced {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\n", t.Name)
			continue
		}
		row(t.Name, t.Monthly, t.WhatIf.After, t.WhatIf.Delta)
	}
	row("TOTAL", r.WhatIf.Before, r.WhatIf.After, r.WhatIf.Delta)
	return tw.Flush()
}

// money renders an amount with two decimals.
func money(v float64) string { return fmt.Sprintf("%.2f", v) }

// signed renders a change with its sign.
func signed(v float64) string {
	if math.Abs(v) < 0.005 {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v)
}

// saving renders what Strata saves over classic Kafka, and the share.
func saving(s costScenarios) string {
	if s.Classic.Total <= 0 {
		return "-"
	}
	d := s.Classic.Total - s.Strata.Total
	return fmt.Sprintf("%s (%.0f%%)", money(d), 100*d/s.Classic.Total)
}

// formatRate renders a rate with about three significant digits and no
// exponent.
func formatRate(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a == 0:
		return "0"
	}
	return fmt.Sprintf("%.2f", v)
}

// asTotal resolves a local retention setting: -2 follows the total.
func asTotal(local, total int64) int64 {
	if local == cost.SameAsTotal {
		return total
	}
	return local
}

// formatRetention renders a time and a size limit as Kafka configures
// them (-1 is unlimited): "7d", "10.0 GiB", "7d or 10.0 GiB".
func formatRetention(ms, bytes int64) string {
	var parts []string
	if ms != cost.Unlimited {
		parts = append(parts, formatMS(ms))
	}
	if bytes != cost.Unlimited {
		parts = append(parts, formatBytes(bytes))
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, " or ")
}

// formatMS renders milliseconds in the largest unit that divides them
// ("7d", "6h", "90s").
func formatMS(ms int64) string {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := u.d.Milliseconds(); ms > 0 && ms%n == 0 {
			return fmt.Sprintf("%d%s", ms/n, u.suffix)
		}
	}
	return fmt.Sprintf("%dms", ms)
}

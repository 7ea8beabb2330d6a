package tests

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// scrape returns the value of the first series whose name and labels match
// the pattern, e.g. `strata_partition_records_in_total{partition="0",topic="t"}`.
func scrape(t *testing.T, httpAddr, series string) (float64, error) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no series %s", series)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func httpStatus(addr, path string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsMove produces and consumes N records and checks the counters
// say N, and that the health endpoints answer.
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	ag.mu.Lock()
	httpAddr := ag.httpAddr
	ag.mu.Unlock()
	topic := "metered"
	createTopic(t, ag.addr, topic, 1, nil)
	const n = 250
	prod := newClient(t, ag.addr)
	produceSync(t, prod, makeRecords(topic, n, 5)...)
	bytesIn := 0
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	consumeN(t, cons, n, 20*time.Second)
	labels := fmt.Sprintf(`{partition="0",topic="%s"}`, topic)
	checkFor(t, 10*time.Second, func() error {
		for _, c := range []struct {
			series string
			want   float64
		}{
			{"strata_partition_records_in_total" + labels, n},
			{"strata_partition_records_out_total" + labels, n},
			{"strata_partition_log_end_offset" + labels, n},
			{"strata_partition_high_watermark" + labels, n},
			{"strata_partition_leader" + labels, 1},
		} {
			got, err := scrape(t, httpAddr, c.series)
			if err != nil {
				return err
			}
			if got != c.want {
				return fmt.Errorf("%s = %v, want %v", c.series, got, c.want)
			}
		}
		for _, s := range []string{"strata_partition_bytes_in_total" + labels, "strata_partition_bytes_out_total" + labels,
			`strata_requests_total{api="Produce"}`, `strata_requests_total{api="Fetch"}`} {
			got, err := scrape(t, httpAddr, s)
			if err != nil {
				return err
			}
			if got <= 0 {
				return fmt.Errorf("%s = %v", s, got)
			}
			if strings.HasPrefix(s, "strata_partition_bytes_in") {
				bytesIn = int(got)
			}
		}
		return nil
	})
	t.Logf("%d records in as %d bytes", n, bytesIn)
	if code := httpStatus(httpAddr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code := httpStatus(httpAddr, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
}

// TestReadyzFollowsMetadata: /readyz turns 503 when the agent loses its
// metadata service and 200 again when it is back; /healthz stays 200.
func TestReadyzFollowsMetadata(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 1, true)
	ag := c.agents[1]
	ag.mu.Lock()
	httpAddr := ag.httpAddr
	ag.mu.Unlock()
	checkFor(t, 10*time.Second, func() error {
		if code := httpStatus(httpAddr, "/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz %d", code)
		}
		return nil
	})
	c.etcdProxies[1].setCut(true)
	checkFor(t, 20*time.Second, func() error {
		if code := httpStatus(httpAddr, "/readyz"); code != http.StatusServiceUnavailable {
			return fmt.Errorf("/readyz %d with etcd cut off", code)
		}
		return nil
	})
	if code := httpStatus(httpAddr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	c.etcdProxies[1].setCut(false)
	checkFor(t, 30*time.Second, func() error {
		if code := httpStatus(httpAddr, "/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz %d after etcd is back", code)
		}
		return nil
	})
}

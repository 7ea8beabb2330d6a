package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// startHTTP serves the agent's HTTP endpoints on Config.HTTPAddr:
//
//	/metrics  Prometheus metrics
//	/healthz  200 while the process runs
//	/readyz   200 while the agent serves Kafka and reaches its metadata,
//	          503 with the reason otherwise
//	/debug/pprof/  Go profiles, when Config.Pprof is set
func (a *Agent) startHTTP() error {
	if a.cfg.HTTPAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listener on %s: %w (change --http-addr, or set it empty to turn it off)", a.cfg.HTTPAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if a.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.httpLn, a.httpSrv = ln, srv
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server", "err", err)
		}
	}()
	return nil
}

// ready reports why the agent should not receive traffic, or nil.
func (a *Agent) ready(ctx context.Context) error {
	if a.ctx.Err() != nil {
		return errors.New("shutting down")
	}
	if !a.serving.Load() {
		return errors.New("kafka listener not serving yet")
	}
	if !a.leaseValid() {
		return errors.New("agent registration not renewed (metadata service unreachable?)")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := a.store.Revision(ctx); err != nil {
		return fmt.Errorf("metadata service: %w", err)
	}
	return nil
}

// httpAddr is the bound HTTP address, "" when off.
func (a *Agent) httpAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return a.httpLn.Addr().String()
}

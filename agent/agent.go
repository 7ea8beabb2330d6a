package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/etcd"
	"github.com/strata-io/strata/protocol"
)

// Agent is one running Strata agent. Create it with New, then Start; Close
// stops it. An Agent is safe for concurrent use.
type Agent struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	lock     *os.File // flock on DataDir, held while running
	embedded *etcd.Embedded
	store    metadata.Store
	cache    *metadata.Cache
	regMu    sync.RWMutex
	reg      metadata.Registration // guarded by regMu; replaced after a lost registration
	ln       net.Listener

	clusterID string
	dirID     string // random id of DataDir, see dirid.go
	advHost   string
	advPort   int32

	parts    *partitionSet
	fetchers *fetcherSet // followers' replica fetchers
	pids     producerIDAllocator
	groups   *group.Coordinator // set by Start; see groups.go
	txns     *txn.Coordinator   // set by Start; see txns.go
	txnPeers *peerPool          // set by Start; the coordinators' connections to other agents

	controller atomic.Int32  // the controller's agent id, -1 if unknown
	isrKick    chan struct{} // wakes isrLoop

	tier    atomic.Pointer[tier] // nil until the object store is ready
	metrics *metrics
	httpLn  net.Listener
	httpSrv *http.Server
	serving atomic.Bool // the Kafka listener is accepting

	ctx    context.Context // cancelled by Close; parent of every goroutine
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connMu sync.Mutex
	conns  map[net.Conn]struct{} // guarded by connMu
	connID uint64                // guarded by connMu

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg and returns an agent that is not yet running.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	a := &Agent{
		cfg:    cfg,
		logger: cfg.Logger.With("node_id", cfg.NodeID),
		now:    time.Now,
		conns:  make(map[net.Conn]struct{}),
	}
	a.parts = newPartitionSet(a)
	a.fetchers = newFetcherSet(a)
	a.pids.a = a
	a.controller.Store(-1)
	a.isrKick = make(chan struct{}, 1)
	a.metrics = newMetrics(a)
	return a, nil
}

// Start brings the agent up: it locks the data dir, starts or connects to
// etcd, loads metadata, opens hosted partitions, binds the Kafka listener,
// registers the agent and starts serving. It returns once the agent serves
// requests, or with an error (after undoing what it started).
func (a *Agent) Start(ctx context.Context) (err error) {
	a.ctx, a.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if err := a.lockDataDir(); err != nil {
		return err
	}
	if err := a.openMetadata(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another broker running? change --listen)", a.cfg.Listen, err)
	}
	a.ln = ln
	if err := a.resolveAdvertised(); err != nil {
		return err
	}
	if err := a.parts.removeStrays(); err != nil {
		return fmt.Errorf("remove data of deleted topics: %w", err)
	}
	a.parts.reconcile()
	// The registration lives as long as the agent, not the Start call.
	reg, err := a.register()
	if err != nil {
		return fmt.Errorf("register agent %d: %w", a.cfg.NodeID, err)
	}
	a.setRegistration(reg)
	if err := a.startGroups(); err != nil {
		return err
	}
	if err := a.startTxns(); err != nil {
		return err
	}
	a.parts.reconcile() // now that the registration exists, lead what is ours
	if err := a.startTiering(ctx); err != nil {
		return err
	}
	a.goRun(a.watchMetadata)
	a.goRun(a.maintenanceLoop)
	a.goRun(a.isrLoop)
	a.goRun(a.controllerLoop)
	a.goRun(a.acceptLoop)
	a.serving.Store(true)
	if err := a.startHTTP(); err != nil {
		return err
	}
	a.logger.Info("agent ready",
		"kafka_addr", a.ln.Addr().String(),
		"http_addr", a.httpAddr(),
		"advertised", net.JoinHostPort(a.advHost, strconv.Itoa(int(a.advPort))),
		"cluster_id", a.clusterID,
		"data_dir", a.cfg.DataDir,
		"etcd", a.etcdDescription())
	return nil
}

// Addr is the bound Kafka listener address.
func (a *Agent) Addr() net.Addr { return a.ln.Addr() }

// Done is closed when the agent has lost its registration or been closed.
func (a *Agent) Done() <-chan struct{} { return a.ctx.Done() }

func (a *Agent) goRun(fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		fn(a.ctx)
	}()
}

func (a *Agent) etcdDescription() string {
	if a.embedded != nil {
		return "embedded"
	}
	return fmt.Sprint(a.cfg.EtcdEndpoints)
}

// lockDataDir creates DataDir and takes an exclusive flock on it so that two
// agents never share one data directory.
func (a *Agent) lockDataDir() error {
	if err := os.MkdirAll(a.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(a.cfg.DataDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("data dir %s is in use by another agent (lock: %v); give each agent its own --data-dir", a.cfg.DataDir, err)
	}
	a.lock = f
	id, err := loadDirID(a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.dirID = id
	return nil
}

func (a *Agent) openMetadata(ctx context.Context) error {
	ecfg := etcd.NewConfig()
	ecfg.Prefix = a.cfg.EtcdPrefix
	ecfg.LeaseTTL = a.cfg.SessionTimeout
	ecfg.Logger = a.logger
	if len(a.cfg.EtcdEndpoints) == 0 {
		embCfg := etcd.NewEmbedConfig(filepath.Join(a.cfg.DataDir, "etcd"))
		embCfg.Name = "agent-" + strconv.Itoa(int(a.cfg.NodeID))
		e := a.cfg.Etcd
		if e.Name != "" {
			embCfg.Name = e.Name
		}
		for _, u := range []struct {
			dst  *string
			addr string
		}{
			{&embCfg.ListenPeerURL, e.ListenPeer}, {&embCfg.ListenClientURL, e.ListenClient},
			{&embCfg.AdvertisePeerURL, e.AdvertisePeer}, {&embCfg.AdvertiseClientURL, e.AdvertiseClient},
		} {
			if u.addr != "" {
				*u.dst = httpURL(u.addr)
			}
		}
		embCfg.InitialCluster = e.InitialCluster
		embCfg.Logger = a.logger
		emb, err := etcd.StartEmbedded(ctx, embCfg)
		if err != nil {
			return fmt.Errorf("start embedded etcd: %w", err)
		}
		a.embedded = emb
		st, err := etcd.New(ctx, emb.Client(), ecfg)
		if err != nil {
			return fmt.Errorf("metadata store: %w", err)
		}
		a.store = st
	} else {
		ecfg.Endpoints = a.cfg.EtcdEndpoints
		st, err := etcd.Dial(ctx, ecfg)
		if err != nil {
			return fmt.Errorf("connect to etcd %v: %w", a.cfg.EtcdEndpoints, err)
		}
		a.store = st
	}
	a.store = timedStore{Store: a.store, ops: a.metrics.metadataOps}
	id, err := a.store.ClusterID(ctx)
	if err != nil {
		return fmt.Errorf("read cluster id: %w", err)
	}
	a.clusterID = id
	cache, err := metadata.NewCache(ctx, a.store, a.logger)
	if err != nil {
		return fmt.Errorf("load metadata: %w", err)
	}
	a.cache = cache
	return nil
}

// httpURL turns host:port into http://host:port; URLs pass through.
func httpURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr
}

// resolveAdvertised works out the host and port clients are told to use.
func (a *Agent) resolveAdvertised() error {
	addr := a.cfg.AdvertisedAddr
	bound := a.ln.Addr().(*net.TCPAddr)
	if addr == "" {
		host, _, _ := net.SplitHostPort(a.cfg.Listen)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "localhost"
		}
		addr = net.JoinHostPort(host, strconv.Itoa(bound.Port))
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("advertised address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("advertised address %q: bad port", addr)
	}
	a.advHost, a.advPort = host, int32(p)
	return nil
}

// watchMetadata reconciles hosted partitions whenever metadata changes,
// and registers the agent again if its registration is lost (the metadata
// service was unreachable for longer than the session timeout).
func (a *Agent) watchMetadata(ctx context.Context) {
	for {
		changed := a.cache.Changed()
		select {
		case <-ctx.Done():
			return
		case <-a.registration().Done():
			if ctx.Err() != nil {
				return
			}
			a.reregister(ctx)
		case <-changed:
			a.parts.reconcile()
		}
	}
}

// register registers this agent; the registration lives until the agent
// closes, not just the caller's context.
func (a *Agent) register() (metadata.Registration, error) {
	return a.store.RegisterAgent(a.ctx, metadata.Agent{ID: a.cfg.NodeID, Host: a.advHost, Port: a.advPort, Rack: a.cfg.Rack, DirID: a.dirID})
}

func (a *Agent) registration() metadata.Registration {
	a.regMu.RLock()
	defer a.regMu.RUnlock()
	return a.reg
}

func (a *Agent) setRegistration(reg metadata.Registration) {
	a.regMu.Lock()
	a.reg = reg
	a.regMu.Unlock()
}

// reregister runs after the registration was lost: by then this agent has
// already stopped acting as leader (its registration is no longer valid)
// and the controller may have moved its partitions. It registers again,
// retrying until it succeeds, and rejoins as a follower.
func (a *Agent) reregister(ctx context.Context) {
	a.logger.Error("agent registration lost (metadata service unreachable?); registering again")
	for _, p := range a.parts.all() {
		if p.leader.Swap(nil) != nil {
			p.wakeWaiters(true)
		}
	}
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		reg, err := a.register()
		if err == nil {
			a.setRegistration(reg)
			if a.groups != nil {
				a.groups.SetRegistration(reg)
			}
			if a.txns != nil {
				a.txns.SetRegistration(reg)
			}
			a.logger.Info("agent registered again")
			a.parts.reconcile()
			return
		}
		a.logger.Warn("register agent", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// maintenanceLoop flushes logs on their flush interval and applies retention
// every RetentionCheckInterval.
func (a *Agent) maintenanceLoop(ctx context.Context) {
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	nextRetention := a.now().Add(a.cfg.RetentionCheckInterval)
	nextSweep := a.now().Add(a.cfg.Tiering.SweepInterval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
		}
		retention := !a.now().Before(nextRetention)
		if retention {
			nextRetention = a.now().Add(a.cfg.RetentionCheckInterval)
		}
		sweep := retention && !a.now().Before(nextSweep)
		if sweep {
			nextSweep = a.now().Add(a.cfg.Tiering.SweepInterval)
			if a.controller.Load() == a.cfg.NodeID {
				a.sweepDeletedTopics(ctx)
			}
		}
		a.parts.maintain(ctx, retention, sweep)
	}
}

// acceptLoop accepts Kafka connections until the listener closes.
func (a *Agent) acceptLoop(ctx context.Context) {
	connCfg := protocol.ConnConfig{
		MaxRequestBytes: a.cfg.MaxRequestBytes,
		IdleTimeout:     a.cfg.IdleTimeout,
		Logger:          a.logger,
	}
	var delay time.Duration
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, keep serving.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			a.logger.Warn("accept", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			continue
		}
		delay = 0
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		a.connMu.Lock()
		a.conns[conn] = struct{}{}
		a.connID++
		id := a.connID
		a.connMu.Unlock()
		a.metrics.connections.Inc()
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer func() {
				a.connMu.Lock()
				delete(a.conns, conn)
				a.connMu.Unlock()
				a.metrics.connections.Dec()
			}()
			cfg := connCfg
			cfg.ID = id
			err := protocol.ServeConn(ctx, conn, a, cfg)
			if err != nil && ctx.Err() == nil {
				a.logger.Debug("connection closed", "remote", conn.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// Close stops serving, waits for every goroutine, closes the logs cleanly and
// releases metadata and the data dir. It is safe to call more than once.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.close() })
	return a.closeErr
}

func (a *Agent) close() error {
	var errs []error
	clean := a.registration() != nil && a.ctx != nil && a.ctx.Err() == nil && a.leaseValid()
	if clean {
		a.flushTier() // offload what this agent leads while it still does
	}
	if a.cfg.ControlledShutdown && clean {
		ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
		a.resignLeadership(ctx)
		cancel()
	}
	if a.cancel != nil {
		a.cancel()
	}
	if a.ln != nil {
		_ = a.ln.Close()
	}
	if a.httpSrv != nil {
		_ = a.httpSrv.Close()
	}
	a.connMu.Lock()
	for c := range a.conns {
		_ = c.Close()
	}
	a.connMu.Unlock()
	a.wg.Wait()
	a.closeTiering()
	a.fetchers.closeAll()
	a.stopTxns()
	a.stopGroups()
	a.parts.closeAll()
	if reg := a.registration(); reg != nil {
		if err := reg.Close(); err != nil {
			errs = append(errs, fmt.Errorf("deregister: %w", err))
		}
	}
	if a.cache != nil {
		a.cache.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close metadata store: %w", err))
		}
	}
	if a.embedded != nil {
		if err := a.embedded.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop embedded etcd: %w", err))
		}
	}
	if a.lock != nil {
		_ = a.lock.Close()
	}
	if len(errs) == 0 {
		a.logger.Info("agent stopped")
	}
	return errors.Join(errs...)
}

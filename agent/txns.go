package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata/shards"
)

// startTxns starts the transaction coordinator (package agent/txn). Start
// calls it once the agent is registered (the coordinator's shard claims
// live under the registration) and the group coordinator runs (it
// completes transactional offset commits). The coordinator writes
// transaction markers through a.markerWriter (markers.go).
func (a *Agent) startTxns() error {
	cfg := a.cfg.Transactions
	cfg.Logger = a.logger
	c, err := txn.New(cfg, txn.Deps{
		Store:        a.store,
		Registration: a.registration(),
		Self:         a.cfg.NodeID,
		View:         a.cache,
		Markers:      a.markerWriter(),
		Groups:       txnGroups{a},
		ProducerID:   a.pids.nextID,
		Now:          a.now,
	})
	if err != nil {
		return fmt.Errorf("transaction coordinator: %w", err)
	}
	a.txnPeers = newPeerPool(fmt.Sprintf("strata-agent-%d", a.cfg.NodeID))
	a.txns = c
	c.Start()
	return nil
}

// stopTxns stops the coordinator; close calls it once no request is being
// served any more, before the group coordinator stops and before the
// registration (and with it the coordinator's claims) goes. Transactions
// it was completing are resumed by whichever agent claims their shards.
func (a *Agent) stopTxns() {
	if a.txns != nil {
		a.txns.Close()
	}
	if a.txnPeers != nil {
		a.txnPeers.closeAll()
	}
}

// errNoTxnCoordinator is the error transactional requests get before the
// coordinator runs.
var errNoTxnCoordinator = fmt.Errorf("%w: the agent is starting", txn.ErrCoordinatorNotAvailable)

// noVersion marks an error code an API has no version without.
const noVersion = -1

// txnErrorCode is errorCode for the transactional APIs, whose older
// versions predate two error codes: PRODUCER_FENCED (KIP-588; from version
// fencedSince on, INVALID_PRODUCER_EPOCH before) and TRANSACTION_ABORTABLE
// (KIP-890; from version abortableSince on, INVALID_TXN_STATE before), as
// Kafka answers old clients.
func txnErrorCode(err error, version, fencedSince, abortableSince int16) int16 {
	code := errorCode(err)
	switch {
	case code == kerr.ProducerFenced.Code && (fencedSince == noVersion || version < fencedSince):
		return kerr.InvalidProducerEpoch.Code
	case code == kerr.TransactionAbortable.Code && (abortableSince == noVersion || version < abortableSince):
		return kerr.InvalidTxnState.Code
	}
	return code
}

// txnGroups is the transaction coordinator's txn.GroupOffsets: it
// completes a transaction's offsets in a group at the group's coordinator,
// this agent's or another's. Another agent gets a WriteTxnMarkers for the
// group's __consumer_offsets partition (its group-coordinator shard), as a
// Kafka transaction coordinator sends the group coordinator's broker.
type txnGroups struct{ a *Agent }

// CompleteTxnOffsets implements txn.GroupOffsets.
func (g txnGroups) CompleteTxnOffsets(ctx context.Context, groupID string, pid int64, epoch int16, commit bool) error {
	a := g.a
	if a.groups == nil {
		return errNoCoordinator
	}
	shard := shards.Of(groupID)
	err := a.groups.CompleteTxn(ctx, shard, pid, epoch, commit)
	if !errors.Is(err, group.ErrNotCoordinator) {
		return err
	}
	owner, err := a.groups.Find(ctx, groupID)
	if err != nil {
		return err
	}
	if owner == a.cfg.NodeID {
		return a.groups.CompleteTxn(ctx, shard, pid, epoch, commit)
	}
	host, port, ok := a.agentAddr(owner)
	if !ok {
		return fmt.Errorf("%w: group coordinator agent %d is not registered", group.ErrCoordinatorNotAvailable, owner)
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.SetVersion(1)
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = pid, epoch, commit
	t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	t.Topic, t.Partitions = txn.OffsetsTopic, []int32{shard}
	m.Topics = append(m.Topics, t)
	req.Markers = append(req.Markers, m)
	kresp, err := a.txnPeers.request(ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), req, markerTimeout)
	if err != nil {
		return fmt.Errorf("group %q: write marker at agent %d: %w", groupID, owner, err)
	}
	resp := kresp.(*kmsg.WriteTxnMarkersResponse)
	if len(resp.Markers) != 1 || len(resp.Markers[0].Topics) != 1 || len(resp.Markers[0].Topics[0].Partitions) != 1 {
		return fmt.Errorf("group %q: agent %d answered a marker with %d markers", groupID, owner, len(resp.Markers))
	}
	if err := kerr.ErrorForCode(resp.Markers[0].Topics[0].Partitions[0].ErrorCode); err != nil {
		return fmt.Errorf("group %q: marker at agent %d: %w", groupID, owner, err)
	}
	return nil
}

// writeGroupMarker applies a WriteTxnMarkers marker for partition shard of
// __consumer_offsets (txn.OffsetsTopic): the producer's transaction ends in
// the groups of that group-coordinator shard, which this agent must
// coordinate (NOT_COORDINATOR otherwise). The WriteTxnMarkers handler
// calls it for that topic; the coordinator epoch is not needed, as pending
// offsets of a fenced producer epoch are refused by the group coordinator
// itself.
func (a *Agent) writeGroupMarker(ctx context.Context, shard int32, pid int64, epoch int16, commit bool) error {
	if a.groups == nil {
		return errNoCoordinator
	}
	return a.groups.CompleteTxn(ctx, shard, pid, epoch, commit)
}

// peerPool keeps idle connections to other agents for the coordinators'
// requests, one request in flight on each. It is safe for concurrent use.
type peerPool struct {
	clientID string

	mu     sync.Mutex
	idle   map[string][]*peerConn // guarded by mu; by address
	closed bool                   // guarded by mu
}

// maxIdlePeerConns bounds the idle connections kept per agent.
const maxIdlePeerConns = 4

func newPeerPool(clientID string) *peerPool {
	return &peerPool{clientID: clientID, idle: make(map[string][]*peerConn)}
}

// request sends req (its version set) to the agent at addr on an idle
// connection or a new one, and returns the response, failing after
// timeout or when ctx ends. A connection that failed is closed. The
// connection is reused at once, so the response's byte fields (which the
// coordinators' requests do not have) must not be kept.
func (p *peerPool) request(ctx context.Context, addr string, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	var c *peerConn
	p.mu.Lock()
	if conns := p.idle[addr]; len(conns) > 0 {
		c = conns[len(conns)-1]
		p.idle[addr] = conns[:len(conns)-1]
	}
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errShuttingDown
	}
	if c == nil {
		var err error
		if c, err = dialPeer(ctx, addr, p.clientID); err != nil {
			return nil, err
		}
	}
	resp, err := c.request(ctx, req, timeout)
	if err != nil {
		c.close()
		return nil, err
	}
	p.mu.Lock()
	if !p.closed && len(p.idle[addr]) < maxIdlePeerConns {
		p.idle[addr] = append(p.idle[addr], c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.close()
	}
	return resp, nil
}

// closeAll closes the idle connections; later requests fail.
func (p *peerPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, conns := range p.idle {
		for _, c := range conns {
			c.close()
		}
		delete(p.idle, addr)
	}
}

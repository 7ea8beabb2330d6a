package agent

// Followers replicate by fetching, as in Kafka: for every leader it follows
// partitions of, an agent runs one fetcher that sends Fetch requests with
// its replica id (v12: topic names, LastFetchedEpoch) and appends what comes
// back. A fetch starts at the follower's log end offset, which is how the
// leader learns the follower's progress. A leader that finds the follower's
// last epoch ends earlier than the fetch offset answers with a diverging
// epoch, and the follower truncates its log to where the two agree before
// fetching again. A follower behind the leader's log start (the leader
// deleted or offloaded what it lacks) restarts its log there.

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/log"
)

const (
	replicaFetchVersion  = 12
	replicaFetchMaxWait  = 500 * time.Millisecond
	replicaFetchMaxBytes = 32 << 20
	replicaPartitionMax  = 8 << 20
	replicaRetryBackoff  = 200 * time.Millisecond
)

// fetcherSet owns the agent's replica fetchers, one per leader agent.
// Safe for concurrent use.
type fetcherSet struct {
	a *Agent

	mu       sync.Mutex
	byLeader map[int32]*fetcher      // guarded by mu
	byPart   map[*partition]*fetcher // guarded by mu
	closed   bool                    // guarded by mu
	wg       sync.WaitGroup
}

func newFetcherSet(a *Agent) *fetcherSet {
	return &fetcherSet{a: a, byLeader: map[int32]*fetcher{}, byPart: map[*partition]*fetcher{}}
}

// follow makes p fetch from leader in epoch, moving it off any other
// fetcher.
func (fs *fetcherSet) follow(p *partition, leader, epoch int32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return
	}
	if f := fs.byPart[p]; f != nil && f.leader != leader {
		fs.detachLocked(p, f)
	}
	f := fs.byLeader[leader]
	if f == nil {
		f = newFetcher(fs, leader)
		fs.byLeader[leader] = f
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			f.run()
		}()
	}
	fs.byPart[p] = f
	f.set(p, epoch)
}

// remove stops replicating p.
func (fs *fetcherSet) remove(p *partition) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.byPart[p]; f != nil {
		fs.detachLocked(p, f)
	}
}

func (fs *fetcherSet) detachLocked(p *partition, f *fetcher) {
	delete(fs.byPart, p)
	if f.unset(p) == 0 {
		delete(fs.byLeader, f.leader)
		f.stop()
	}
}

// closeAll stops every fetcher and waits for them.
func (fs *fetcherSet) closeAll() {
	fs.mu.Lock()
	fs.closed = true
	for _, f := range fs.byLeader {
		f.stop()
	}
	fs.byLeader, fs.byPart = map[int32]*fetcher{}, map[*partition]*fetcher{}
	fs.mu.Unlock()
	fs.wg.Wait()
}

// fetcher replicates the partitions one leader leads.
type fetcher struct {
	fs     *fetcherSet
	leader int32
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	parts   map[*partition]*fetchedPartition // guarded by mu
	changed chan struct{}                    // one wake-up for the loop
}

// fetchedPartition is one partition's fetch state.
type fetchedPartition struct {
	epoch      int32     // the leader epoch this replica follows
	retryAfter time.Time // backoff after an error from the leader
}

func newFetcher(fs *fetcherSet, leader int32) *fetcher {
	ctx, cancel := context.WithCancel(fs.a.ctx)
	return &fetcher{fs: fs, leader: leader, ctx: ctx, cancel: cancel,
		parts: map[*partition]*fetchedPartition{}, changed: make(chan struct{}, 1)}
}

func (f *fetcher) set(p *partition, epoch int32) {
	f.mu.Lock()
	if fp := f.parts[p]; fp != nil && fp.epoch == epoch {
		f.mu.Unlock()
		return
	}
	f.parts[p] = &fetchedPartition{epoch: epoch}
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// unset removes p and returns how many partitions are left.
func (f *fetcher) unset(p *partition) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, p)
	return len(f.parts)
}

func (f *fetcher) stop() { f.cancel() }

// run fetches until stopped, reconnecting with a backoff after errors.
func (f *fetcher) run() {
	a := f.fs.a
	var conn *peerConn
	defer func() {
		if conn != nil {
			conn.close()
		}
	}()
	for f.ctx.Err() == nil {
		req, parts := f.buildRequest()
		if req == nil {
			select {
			case <-f.ctx.Done():
				return
			case <-f.changed:
			case <-time.After(replicaRetryBackoff):
			}
			continue
		}
		if conn == nil {
			host, port, ok := a.agentAddr(f.leader)
			if !ok {
				f.sleep(replicaRetryBackoff)
				continue
			}
			var err error
			conn, err = dialPeer(f.ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), "strata-replica-"+strconv.Itoa(int(a.cfg.NodeID)))
			if err != nil {
				a.logger.Debug("replica fetcher: dial leader", "leader", f.leader, "err", err)
				f.sleep(replicaRetryBackoff)
				continue
			}
		}
		resp, err := conn.request(f.ctx, req, replicaFetchMaxWait+10*time.Second)
		if err != nil {
			if f.ctx.Err() == nil {
				a.logger.Debug("replica fetcher: fetch from leader", "leader", f.leader, "err", err)
			}
			conn.close()
			conn = nil
			f.sleep(replicaRetryBackoff)
			continue
		}
		f.handle(resp.(*kmsg.FetchResponse), parts)
	}
}

func (f *fetcher) sleep(d time.Duration) {
	select {
	case <-f.ctx.Done():
	case <-time.After(d):
	}
}

// buildRequest fetches every partition not in backoff from its log end.
func (f *fetcher) buildRequest() (*kmsg.FetchRequest, map[string]map[int32]*partition) {
	a := f.fs.a
	now := time.Now()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(replicaFetchVersion)
	req.ReplicaID = a.cfg.NodeID
	req.MaxWaitMillis = int32(replicaFetchMaxWait / time.Millisecond)
	req.MinBytes, req.MaxBytes = 1, replicaFetchMaxBytes
	req.SessionEpoch = -1
	parts := map[string]map[int32]*partition{}
	byTopic := map[string]int{}
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, fp := range f.parts {
		if now.Before(fp.retryAfter) {
			continue
		}
		i, ok := byTopic[p.topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[p.topic] = i
			parts[p.topic] = map[int32]*partition{}
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p.index
		rp.CurrentLeaderEpoch = fp.epoch
		rp.FetchOffset = p.log.LogEndOffset()
		rp.LastFetchedEpoch = p.log.LatestEpoch()
		rp.LogStartOffset = p.log.LogStartOffset()
		rp.PartitionMaxBytes = replicaPartitionMax
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		parts[p.topic][p.index] = p
	}
	if len(req.Topics) == 0 {
		return nil, nil
	}
	return req, parts
}

// handle applies one fetch response.
func (f *fetcher) handle(resp *kmsg.FetchResponse, parts map[string]map[int32]*partition) {
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			p := parts[rt.Topic][rp.Partition]
			if p == nil {
				continue
			}
			if err := f.apply(p, &rp); err != nil {
				f.backoff(p)
				if !errors.Is(err, errLeaderMoved) {
					f.fs.a.logger.Warn("replica fetch", "topic", p.topic, "partition", p.index, "leader", f.leader, "err", err)
				}
			}
		}
	}
}

var errLeaderMoved = errors.New("leader moved")

func (f *fetcher) backoff(p *partition) {
	f.mu.Lock()
	if fp := f.parts[p]; fp != nil {
		fp.retryAfter = time.Now().Add(replicaRetryBackoff)
	}
	f.mu.Unlock()
}

// apply appends one partition's records, truncates after a diverging
// epoch, or starts over at the leader's log start.
func (f *fetcher) apply(p *partition, rp *kmsg.FetchResponseTopicPartition) error {
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		if leo := p.log.LogEndOffset(); leo < rp.LogStartOffset {
			f.fs.a.logger.Info("replica behind the leader's log start: restarting there", "topic", p.topic, "partition", p.index, "log_end_offset", leo, "leader_log_start", rp.LogStartOffset)
			return p.log.ResetTo(rp.LogStartOffset)
		}
		return kerr.ErrorForCode(rp.ErrorCode)
	case kerr.NotLeaderForPartition.Code, kerr.FencedLeaderEpoch.Code, kerr.UnknownLeaderEpoch.Code, kerr.UnknownTopicOrPartition.Code:
		return errLeaderMoved // metadata will move us to the right leader
	default:
		return kerr.ErrorForCode(rp.ErrorCode)
	}
	if d := rp.DivergingEpoch; d.Epoch >= 0 && d.EndOffset >= 0 {
		_, mine := p.log.EndOffsetForEpoch(d.Epoch)
		to := d.EndOffset
		if mine >= 0 {
			to = min(to, mine)
		}
		f.fs.a.logger.Info("truncating diverged replica", "topic", p.topic, "partition", p.index, "to", to, "leader_epoch", d.Epoch)
		return p.log.TruncateTo(to)
	}
	if len(rp.RecordBatches) >= 8 {
		base := int64(binary.BigEndian.Uint64(rp.RecordBatches))
		if leo := p.log.LogEndOffset(); base != leo {
			return errors.New("leader sent records at " + strconv.FormatInt(base, 10) + ", log ends at " + strconv.FormatInt(leo, 10))
		}
		if _, err := p.log.Append(rp.RecordBatches, log.AppendOptions{LeaderEpoch: -1, SkipProducerChecks: true}); err != nil {
			return err
		}
	}
	// Follow the leader's log start offset (DeleteRecords, retention).
	if ls := rp.LogStartOffset; ls > p.log.LogStartOffset() && ls <= p.log.LogEndOffset() {
		if err := p.log.DeleteRecordsBefore(ls); err != nil {
			return err
		}
	}
	p.leaderHW.Store(rp.HighWatermark)
	p.advanceHighWatermark(min(rp.HighWatermark, p.log.LogEndOffset()))
	return nil
}

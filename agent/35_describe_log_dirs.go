package agent

// DescribeLogDirs, versions 1–4.
//
// Describes this agent's one log directory (<data-dir>/logs): every hosted
// partition (or those asked for) with its size on local disk and, for a
// follower, how far its log end is behind the leader's last reported high
// watermark (0 on the leader). v4 adds the file system's total and usable
// bytes. With tiered storage a second entry, named after the object store
// (file://… or s3://…), lists the bytes each partition this agent leads
// has in the object tier.

import (
	"context"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDescribeLogDirs(ctx context.Context, req *kmsg.DescribeLogDirsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir, _ = filepath.Abs(a.parts.logsDir())
	var fs syscall.Statfs_t
	if err := syscall.Statfs(a.cfg.DataDir, &fs); err == nil {
		dir.TotalBytes = int64(fs.Blocks) * fs.Bsize
		dir.UsableBytes = int64(fs.Bavail) * fs.Bsize
	} else {
		dir.TotalBytes, dir.UsableBytes = -1, -1
	}
	wanted := func(topic string, p int32) bool {
		if req.Topics == nil {
			return true
		}
		for _, rt := range req.Topics {
			if rt.Topic == topic && slices.Contains(rt.Partitions, p) {
				return true
			}
		}
		return false
	}
	byTopic := map[string]int{}
	for _, p := range a.parts.all() {
		if !wanted(p.topic, p.index) {
			continue
		}
		i, ok := byTopic[p.topic]
		if !ok {
			t := kmsg.NewDescribeLogDirsResponseDirTopic()
			t.Topic = p.topic
			dir.Topics = append(dir.Topics, t)
			i = len(dir.Topics) - 1
			byTopic[p.topic] = i
		}
		dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		dp.Partition, dp.Size = p.index, p.log.Size()
		if !p.isLeader() {
			dp.OffsetLag = max(0, p.leaderHW.Load()-p.log.LogEndOffset())
		}
		dir.Topics[i].Partitions = append(dir.Topics[i].Partitions, dp)
	}
	slices.SortFunc(dir.Topics, func(x, y kmsg.DescribeLogDirsResponseDirTopic) int {
		switch {
		case x.Topic < y.Topic:
			return -1
		case x.Topic > y.Topic:
			return 1
		}
		return 0
	})
	resp.Dirs = append(resp.Dirs, dir)
	if rd, ok := a.remoteLogDir(ctx, wanted); ok {
		resp.Dirs = append(resp.Dirs, rd)
	}
	return resp, nil
}

// remoteLogDir describes the object tier as a log dir: the bytes of each
// led partition offloaded there.
func (a *Agent) remoteLogDir(ctx context.Context, wanted func(string, int32) bool) (kmsg.DescribeLogDirsResponseDir, bool) {
	t := a.tier.Load()
	if t == nil {
		return kmsg.DescribeLogDirsResponseDir{}, false
	}
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir, dir.TotalBytes, dir.UsableBytes = t.desc, -1, -1
	byTopic := map[string]int{}
	for _, p := range a.parts.all() {
		segs := a.remoteSegments(ctx, p)
		if len(segs) == 0 || !wanted(p.topic, p.index) {
			continue
		}
		i, ok := byTopic[p.topic]
		if !ok {
			tp := kmsg.NewDescribeLogDirsResponseDirTopic()
			tp.Topic = p.topic
			dir.Topics = append(dir.Topics, tp)
			i = len(dir.Topics) - 1
			byTopic[p.topic] = i
		}
		dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		dp.Partition = p.index
		for _, s := range segs {
			dp.Size += s.Size
		}
		dir.Topics[i].Partitions = append(dir.Topics[i].Partitions, dp)
	}
	return dir, true
}

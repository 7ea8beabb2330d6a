package agent

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/log"
)

// topicConfigDef describes one topic-level config Strata understands: its
// Kafka name, type, the agent-level synonym its default comes from, and how
// to check a value.
type topicConfigDef struct {
	name     string
	typ      kmsg.ConfigType
	synonym  string // agent-level (broker) config name
	doc      string
	def      func(c *Config) string
	validate func(v string) error
	apply    func(tc *topicConfig, v string)
}

// topicConfig is a topic's effective configuration: agent defaults with the
// topic's overrides applied.
type topicConfig struct {
	maxMessageBytes int
	logAppendTime   bool
	minInsync       int
	// log is the local log's config. With remote storage, its retention is
	// the local one (local.retention.*), and the total retention below
	// applies to the remote tier.
	log log.Config
	// remote is remote.storage.enable (and an object store exists).
	remote bool
	// retentionMS and retentionBytes are the total retention
	// (retention.ms/bytes); localRetentionMS and localRetentionBytes the
	// raw local.retention.* values (-2: same as the total).
	retentionMS         time.Duration
	retentionBytes      int64
	localRetentionMS    int64
	localRetentionBytes int64
}

var topicConfigDefs = []topicConfigDef{
	{
		name: "cleanup.policy", typ: kmsg.ConfigTypeList, synonym: "log.cleanup.policy",
		doc: "Retention policy for old segments. Only \"delete\" is supported; log compaction is not supported yet.",
		def: func(*Config) string { return "delete" },
		validate: func(v string) error {
			if v != "delete" {
				return fmt.Errorf("cleanup.policy %q is not supported yet: only \"delete\" is", v)
			}
			return nil
		},
		apply: func(*topicConfig, string) {},
	},
	{
		name: "compression.type", typ: kmsg.ConfigTypeString, synonym: "compression.type",
		doc: "Compression of stored batches. Only \"producer\" (keep the producer's codec) is supported.",
		def: func(*Config) string { return "producer" },
		validate: func(v string) error {
			if v != "producer" {
				return fmt.Errorf("compression.type %q is not supported yet: only \"producer\" (batches are stored as the producer compressed them)", v)
			}
			return nil
		},
		apply: func(*topicConfig, string) {},
	},
	{
		name: "max.message.bytes", typ: kmsg.ConfigTypeInt, synonym: "message.max.bytes",
		doc:      "Largest record batch (after compression) the topic accepts.",
		def:      func(c *Config) string { return itoa(int64(c.MessageMaxBytes)) },
		validate: intRange(0, math.MaxInt32),
		apply:    func(tc *topicConfig, v string) { tc.maxMessageBytes = int(atoi(v)) },
	},
	{
		name: "message.timestamp.type", typ: kmsg.ConfigTypeString, synonym: "log.message.timestamp.type",
		doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the agent's clock on append.",
		def: func(*Config) string { return "CreateTime" },
		validate: func(v string) error {
			if v != "CreateTime" && v != "LogAppendTime" {
				return fmt.Errorf("message.timestamp.type %q: must be CreateTime or LogAppendTime", v)
			}
			return nil
		},
		apply: func(tc *topicConfig, v string) { tc.logAppendTime = v == "LogAppendTime" },
	},
	{
		name: "min.insync.replicas", typ: kmsg.ConfigTypeInt, synonym: "min.insync.replicas",
		doc:      "Replicas that must hold a record before an acks=all produce succeeds.",
		def:      func(c *Config) string { return itoa(int64(c.MinInsyncReplicas)) },
		validate: intRange(1, math.MaxInt32),
		apply:    func(tc *topicConfig, v string) { tc.minInsync = int(atoi(v)) },
	},
	{
		name: "retention.bytes", typ: kmsg.ConfigTypeLong, synonym: "log.retention.bytes",
		doc:      "Size a partition may reach before its oldest segments are deleted; -1 means no limit.",
		def:      func(c *Config) string { return itoa(c.Log.RetentionBytes) },
		validate: intRange(-1, math.MaxInt64),
		apply:    func(tc *topicConfig, v string) { tc.log.RetentionBytes = atoi(v) },
	},
	{
		name: "retention.ms", typ: kmsg.ConfigTypeLong, synonym: "log.retention.ms",
		doc:      "How long records are kept; -1 means forever.",
		def:      func(c *Config) string { return durationMS(c.Log.RetentionMS) },
		validate: intRange(-1, math.MaxInt64),
		apply:    func(tc *topicConfig, v string) { tc.log.RetentionMS = msDuration(v) },
	},
	{
		name: "segment.bytes", typ: kmsg.ConfigTypeInt, synonym: "log.segment.bytes",
		doc:      "Size at which the active segment is closed and a new one started.",
		def:      func(c *Config) string { return itoa(c.Log.SegmentBytes) },
		validate: intRange(1024, math.MaxInt32),
		apply:    func(tc *topicConfig, v string) { tc.log.SegmentBytes = atoi(v) },
	},
	{
		name: "segment.ms", typ: kmsg.ConfigTypeLong, synonym: "log.roll.ms",
		doc:      "Age at which the active segment is closed even if not full.",
		def:      func(c *Config) string { return durationMS(c.Log.SegmentMS) },
		validate: intRange(1, math.MaxInt64),
		apply:    func(tc *topicConfig, v string) { tc.log.SegmentMS = msDuration(v) },
	},
	{
		name: "flush.messages", typ: kmsg.ConfigTypeLong, synonym: "log.flush.interval.messages",
		doc: "fsync after this many records; 1 means fsync before every acknowledgement.",
		def: func(c *Config) string {
			if c.Log.FlushMessages <= 0 {
				return itoa(math.MaxInt64)
			}
			return itoa(c.Log.FlushMessages)
		},
		validate: intRange(1, math.MaxInt64),
		apply: func(tc *topicConfig, v string) {
			tc.log.FlushMessages = atoi(v)
			if tc.log.FlushMessages == math.MaxInt64 {
				tc.log.FlushMessages = 0
			}
		},
	},
	{
		name: "flush.ms", typ: kmsg.ConfigTypeLong, synonym: "log.flush.interval.ms",
		doc: "fsync at least this often while there is unsynced data.",
		def: func(c *Config) string {
			if c.Log.FlushInterval <= 0 {
				return itoa(math.MaxInt64)
			}
			return durationMS(c.Log.FlushInterval)
		},
		validate: intRange(0, math.MaxInt64),
		apply: func(tc *topicConfig, v string) {
			tc.log.FlushInterval = msDuration(v)
			if atoi(v) == math.MaxInt64 {
				tc.log.FlushInterval = 0
			}
		},
	},
	{
		name: "index.interval.bytes", typ: kmsg.ConfigTypeInt, synonym: "log.index.interval.bytes",
		doc:      "Bytes between entries of the sparse offset index.",
		def:      func(c *Config) string { return itoa(int64(c.Log.IndexIntervalBytes)) },
		validate: intRange(0, math.MaxInt32),
		apply:    func(tc *topicConfig, v string) { tc.log.IndexIntervalBytes = int(atoi(v)) },
	},
	{
		name: "remote.storage.enable", typ: kmsg.ConfigTypeBoolean, synonym: "remote.log.storage.system.enable",
		doc: "Offload closed segments to the object store and serve old offsets from it; local disk then keeps only local.retention.*.",
		def: func(c *Config) string { return strconv.FormatBool(c.Tiering.Enabled) },
		validate: func(v string) error {
			if v != "true" && v != "false" {
				return fmt.Errorf("remote.storage.enable %q: must be true or false", v)
			}
			return nil
		},
		apply: func(tc *topicConfig, v string) { tc.remote = v == "true" },
	},
	{
		name: "local.retention.ms", typ: kmsg.ConfigTypeLong, synonym: "log.local.retention.ms",
		doc:      "With remote storage: how long uploaded segments stay on local disk; -2 means as long as retention.ms.",
		def:      func(c *Config) string { return durationMSOr2(c.Tiering.LocalRetention) },
		validate: intRange(-2, math.MaxInt64),
		apply:    func(tc *topicConfig, v string) { tc.localRetentionMS = atoi(v) },
	},
	{
		name: "local.retention.bytes", typ: kmsg.ConfigTypeLong, synonym: "log.local.retention.bytes",
		doc:      "With remote storage: local bytes per partition to keep; -2 means retention.bytes.",
		def:      func(c *Config) string { return itoa(c.Tiering.LocalRetentionBytes) },
		validate: intRange(-2, math.MaxInt64),
		apply:    func(tc *topicConfig, v string) { tc.localRetentionBytes = atoi(v) },
	},
	{
		name: "unclean.leader.election.enable", typ: kmsg.ConfigTypeBoolean, synonym: "unclean.leader.election.enable",
		doc: "Whether a replica outside the in-sync set may become leader (losing data). Off by default.",
		def: func(*Config) string { return "false" },
		validate: func(v string) error {
			if v != "true" && v != "false" {
				return fmt.Errorf("unclean.leader.election.enable %q: must be true or false", v)
			}
			return nil
		},
		apply: func(*topicConfig, string) {},
	},
}

var topicConfigByName = func() map[string]*topicConfigDef {
	m := make(map[string]*topicConfigDef, len(topicConfigDefs))
	for i := range topicConfigDefs {
		m[topicConfigDefs[i].name] = &topicConfigDefs[i]
	}
	return m
}()

// validateTopicConfigs checks user-supplied overrides: every name must be
// known and every value valid.
func validateTopicConfigs(configs map[string]string) error {
	names := make([]string, 0, len(configs))
	for k := range configs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		def, ok := topicConfigByName[k]
		if !ok {
			return fmt.Errorf("%w: unknown topic config %q", errInvalidConfig, k)
		}
		if err := def.validate(configs[k]); err != nil {
			return fmt.Errorf("%w: %v", errInvalidConfig, err)
		}
	}
	for _, pair := range [][2]string{{"local.retention.ms", "retention.ms"}, {"local.retention.bytes", "retention.bytes"}} {
		local, lok := configs[pair[0]]
		total, tok := configs[pair[1]]
		if lok && tok && atoi(local) >= 0 && atoi(total) >= 0 && atoi(local) > atoi(total) {
			return fmt.Errorf("%w: %s %s exceeds %s %s", errInvalidConfig, pair[0], local, pair[1], total)
		}
	}
	if v, ok := configs["segment.bytes"]; ok {
		if mm, ok := configs["max.message.bytes"]; ok && atoi(mm) > atoi(v) {
			return fmt.Errorf("%w: max.message.bytes %s exceeds segment.bytes %s", errInvalidConfig, mm, v)
		}
	}
	return nil
}

// effectiveTopicConfig applies a topic's overrides to the agent defaults.
// Overrides were validated when stored; an invalid one (written by a newer
// version, say) is ignored rather than trusted.
func (c *Config) effectiveTopicConfig(overrides map[string]string) topicConfig {
	tc := topicConfig{
		maxMessageBytes:     int(c.MessageMaxBytes),
		minInsync:           c.MinInsyncReplicas,
		log:                 c.Log,
		remote:              c.Tiering.Enabled,
		localRetentionMS:    atoi(durationMSOr2(c.Tiering.LocalRetention)),
		localRetentionBytes: c.Tiering.LocalRetentionBytes,
	}
	for k, v := range overrides {
		def, ok := topicConfigByName[k]
		if !ok || def.validate(v) != nil {
			continue
		}
		def.apply(&tc, v)
	}
	tc.retentionMS, tc.retentionBytes = tc.log.RetentionMS, tc.log.RetentionBytes
	if tc.remote {
		// Local retention never exceeds the total (an unlimited total
		// allows any local value).
		if ms := tc.localRetentionMS; ms != -2 && (tc.retentionMS < 0 || msDuration(itoa(ms)) < tc.retentionMS) {
			tc.log.RetentionMS = msDuration(itoa(ms))
		}
		if b := tc.localRetentionBytes; b != -2 && (tc.retentionBytes < 0 || (b >= 0 && b < tc.retentionBytes)) {
			tc.log.RetentionBytes = b
		}
	}
	return tc
}

// durationMSOr2 is durationMS, but a negative local retention is Kafka's
// -2: the same as the total retention.
func durationMSOr2(d time.Duration) string {
	if d < 0 {
		return "-2"
	}
	return durationMS(d)
}

func intRange(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("value %q is not an integer", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("value %d is out of range [%d, %d]", n, lo, hi)
		}
		return nil
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// durationMS formats d in milliseconds; negative durations are Kafka's -1.
func durationMS(d time.Duration) string {
	if d < 0 {
		return "-1"
	}
	return itoa(d.Milliseconds())
}

func msDuration(v string) time.Duration {
	n := atoi(v)
	if n < 0 {
		return -1
	}
	if n > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Millisecond
}

package protocol

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// VersionRange is an inclusive range of request versions of one API.
type VersionRange struct{ Min, Max int16 }

// apiTable lists every API Strata serves and advertises in ApiVersions,
// with the versions it serves. Adding an API is one line here plus its
// handler in package agent. Every Max must be decodable by kmsg (a test
// checks this against kmsg's MaxVersion).
var apiTable = []struct {
	key kmsg.Key
	VersionRange
}{
	// Produce v0–2 carry magic v0/v1 message sets, which the agent refuses
	// per partition; they are listed because librdkafka up to 2.x decides
	// whether it may compress with gzip/snappy from Produce v0's presence.
	{kmsg.Produce, VersionRange{0, 11}},
	{kmsg.Fetch, VersionRange{4, 16}},
	{kmsg.ListOffsets, VersionRange{1, 9}},
	// Metadata v0 is what kafka-python's version probe sends first.
	{kmsg.Metadata, VersionRange{0, 12}},
	{kmsg.ApiVersions, VersionRange{0, 3}},
	{kmsg.CreateTopics, VersionRange{2, 7}},
	{kmsg.DeleteTopics, VersionRange{1, 6}},
	{kmsg.InitProducerID, VersionRange{0, 5}},
	{kmsg.DeleteRecords, VersionRange{0, 2}},
	{kmsg.OffsetForLeaderEpoch, VersionRange{2, 4}},
	{kmsg.WriteTxnMarkers, VersionRange{0, 1}},
	{kmsg.DescribeConfigs, VersionRange{1, 4}},
	{kmsg.AlterConfigs, VersionRange{0, 2}},
	{kmsg.IncrementalAlterConfigs, VersionRange{0, 1}},
	{kmsg.DescribeLogDirs, VersionRange{1, 4}},
	{kmsg.CreatePartitions, VersionRange{0, 3}},
	{kmsg.ElectLeaders, VersionRange{0, 2}},
	{kmsg.AlterPartitionAssignments, VersionRange{0, 1}},
	{kmsg.ListPartitionReassignments, VersionRange{0, 0}},
	{kmsg.DescribeCluster, VersionRange{0, 1}},
	{kmsg.DescribeProducers, VersionRange{0, 0}},
	// The classic consumer-group protocol and committed offsets. The
	// KIP-848 APIs (ConsumerGroupHeartbeat, ConsumerGroupDescribe) are not
	// advertised, so clients use these.
	{kmsg.OffsetCommit, VersionRange{0, 9}},
	{kmsg.OffsetFetch, VersionRange{0, 9}},
	{kmsg.FindCoordinator, VersionRange{0, 6}},
	{kmsg.JoinGroup, VersionRange{0, 9}},
	{kmsg.Heartbeat, VersionRange{0, 4}},
	{kmsg.LeaveGroup, VersionRange{0, 5}},
	{kmsg.SyncGroup, VersionRange{0, 5}},
	{kmsg.DescribeGroups, VersionRange{0, 5}},
	{kmsg.ListGroups, VersionRange{0, 5}},
	{kmsg.DeleteGroups, VersionRange{0, 2}},
	{kmsg.OffsetDelete, VersionRange{0, 0}},
	// Transactions (the partition side's WriteTxnMarkers is above).
	// EndTxn v5 and TxnOffsetCommit v5+ belong to KIP-890's transaction
	// version 2, which Strata does not advertise.
	{kmsg.AddPartitionsToTxn, VersionRange{0, 5}},
	{kmsg.AddOffsetsToTxn, VersionRange{0, 4}},
	{kmsg.EndTxn, VersionRange{0, 4}},
	{kmsg.TxnOffsetCommit, VersionRange{0, 4}},
	{kmsg.DescribeTransactions, VersionRange{0, 0}},
	{kmsg.ListTransactions, VersionRange{0, 2}},
}

// maxAPIKey bounds the lookup array; Kafka's API keys are small and dense.
const maxAPIKey = 127

// supported is apiTable indexed by key; a zero-valued entry with
// present=false means the key is not served. It is built once at init and
// read-only afterwards, so lookups need no lock.
var supported = func() (t [maxAPIKey + 1]struct {
	VersionRange
	present bool
}) {
	for _, a := range apiTable {
		if a.key < 0 || a.key > maxAPIKey {
			panic("protocol: api key out of table range")
		}
		t[a.key].VersionRange = a.VersionRange
		t[a.key].present = true
	}
	return t
}()

// APIs returns the API table Strata serves and advertises in ApiVersions,
// keyed by API key. The map is a fresh copy on every call; callers may
// modify it.
func APIs() map[int16]VersionRange {
	m := make(map[int16]VersionRange, len(apiTable))
	for _, a := range apiTable {
		m[int16(a.key)] = a.VersionRange
	}
	return m
}

// knownKey reports whether key is in the API table.
func knownKey(key int16) bool {
	return key >= 0 && key <= maxAPIKey && supported[key].present
}

// Supported reports whether Strata serves version of the API key. It is
// safe for concurrent use.
func Supported(key, version int16) bool {
	if !knownKey(key) {
		return false
	}
	r := supported[key].VersionRange
	return version >= r.Min && version <= r.Max
}

// ApiVersionsResponse builds the ApiVersions response for the given
// response version (0..3) listing every API in APIs() sorted by key, with
// the given error code. Version 3 responses carry no supported or finalized
// features (FinalizedFeaturesEpoch -1), which clients read as "no feature
// flags".
func ApiVersionsResponse(version int16, errCode int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	resp.ErrorCode = errCode
	resp.ApiKeys = make([]kmsg.ApiVersionsResponseApiKey, 0, len(apiTable))
	for _, a := range apiTable {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey = int16(a.key)
		k.MinVersion = a.Min
		k.MaxVersion = a.Max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	slices.SortFunc(resp.ApiKeys, func(a, b kmsg.ApiVersionsResponseApiKey) int {
		return int(a.ApiKey) - int(b.ApiKey)
	})
	return resp
}

// unsupportedVersionCode is Kafka's UNSUPPORTED_VERSION error code.
const unsupportedVersionCode = 35

// UnsupportedApiVersionsResponse is the answer to an ApiVersions request of
// a version newer than we serve (KIP-511): a v0 response with
// UNSUPPORTED_VERSION (35) whose ApiKeys hold only ApiVersions' own range,
// exactly as Kafka's ApiVersionsRequest.getErrorResponse builds it. Every
// client (Java, librdkafka, franz-go, sarama) retries at the highest
// ApiVersions version listed, and that retry carries the client software
// name and version that v3+ requests report. ServeConn sends it itself.
func UnsupportedApiVersionsResponse() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = unsupportedVersionCode
	r := supported[kmsg.ApiVersions].VersionRange
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey = int16(kmsg.ApiVersions)
	k.MinVersion = r.Min
	k.MaxVersion = r.Max
	resp.ApiKeys = append(resp.ApiKeys, k)
	return resp
}

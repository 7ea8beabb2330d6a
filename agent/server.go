package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// Handle serves one Kafka request; protocol.ServeConn calls it in request
// order for each connection. It implements protocol.Handler.
func (a *Agent) Handle(ctx context.Context, req *protocol.Request) (kmsg.Response, error) {
	start := time.Now()
	resp, err := a.dispatch(ctx, req)
	if err == nil {
		a.metrics.observeRequest(req.Body.Key(), time.Since(start), resp)
	}
	return resp, err
}

// dispatch calls the handler of req's API.
func (a *Agent) dispatch(ctx context.Context, req *protocol.Request) (kmsg.Response, error) {
	switch r := req.Body.(type) {
	case *kmsg.ProduceRequest:
		return a.handleProduce(ctx, r)
	case *kmsg.FetchRequest:
		return a.handleFetch(ctx, r)
	case *kmsg.OffsetForLeaderEpochRequest:
		return a.handleOffsetForLeaderEpoch(ctx, r)
	case *kmsg.ListOffsetsRequest:
		return a.handleListOffsets(ctx, r)
	case *kmsg.MetadataRequest:
		return a.handleMetadata(ctx, r)
	case *kmsg.ApiVersionsRequest:
		return a.handleApiVersions(ctx, r)
	case *kmsg.CreateTopicsRequest:
		return a.handleCreateTopics(ctx, r)
	case *kmsg.DeleteTopicsRequest:
		return a.handleDeleteTopics(ctx, r)
	case *kmsg.InitProducerIDRequest:
		return a.handleInitProducerID(ctx, r)
	case *kmsg.DescribeConfigsRequest:
		return a.handleDescribeConfigs(ctx, r)
	case *kmsg.AlterConfigsRequest:
		return a.handleAlterConfigs(ctx, r)
	case *kmsg.IncrementalAlterConfigsRequest:
		return a.handleIncrementalAlterConfigs(ctx, r)
	case *kmsg.WriteTxnMarkersRequest:
		return a.handleWriteTxnMarkers(ctx, r)
	case *kmsg.DescribeProducersRequest:
		return a.handleDescribeProducers(ctx, r)
	case *kmsg.DeleteRecordsRequest:
		return a.handleDeleteRecords(ctx, r)
	case *kmsg.DescribeLogDirsRequest:
		return a.handleDescribeLogDirs(ctx, r)
	case *kmsg.ElectLeadersRequest:
		return a.handleElectLeaders(ctx, r)
	case *kmsg.AlterPartitionAssignmentsRequest:
		return a.handleAlterPartitionAssignments(ctx, r)
	case *kmsg.ListPartitionReassignmentsRequest:
		return a.handleListPartitionReassignments(ctx, r)
	case *kmsg.CreatePartitionsRequest:
		return a.handleCreatePartitions(ctx, r)
	case *kmsg.DescribeClusterRequest:
		return a.handleDescribeCluster(ctx, r)
	case *kmsg.OffsetCommitRequest:
		return a.handleOffsetCommit(ctx, r)
	case *kmsg.OffsetFetchRequest:
		return a.handleOffsetFetch(ctx, r)
	case *kmsg.FindCoordinatorRequest:
		return a.handleFindCoordinator(ctx, r)
	case *kmsg.JoinGroupRequest:
		return a.handleJoinGroup(ctx, req, r)
	case *kmsg.HeartbeatRequest:
		return a.handleHeartbeat(ctx, r)
	case *kmsg.LeaveGroupRequest:
		return a.handleLeaveGroup(ctx, r)
	case *kmsg.SyncGroupRequest:
		return a.handleSyncGroup(ctx, r)
	case *kmsg.DescribeGroupsRequest:
		return a.handleDescribeGroups(ctx, r)
	case *kmsg.ListGroupsRequest:
		return a.handleListGroups(ctx, r)
	case *kmsg.DeleteGroupsRequest:
		return a.handleDeleteGroups(ctx, r)
	case *kmsg.OffsetDeleteRequest:
		return a.handleOffsetDelete(ctx, r)
	case *kmsg.AddPartitionsToTxnRequest:
		return a.handleAddPartitionsToTxn(ctx, r)
	case *kmsg.AddOffsetsToTxnRequest:
		return a.handleAddOffsetsToTxn(ctx, r)
	case *kmsg.EndTxnRequest:
		return a.handleEndTxn(ctx, r)
	case *kmsg.TxnOffsetCommitRequest:
		return a.handleTxnOffsetCommit(ctx, r)
	case *kmsg.DescribeTransactionsRequest:
		return a.handleDescribeTransactions(ctx, r)
	case *kmsg.ListTransactionsRequest:
		return a.handleListTransactions(ctx, r)
	default:
		// protocol.ParseRequest only decodes what protocol.APIs lists, and a
		// test checks every listed API has a case above.
		return nil, fmt.Errorf("%w: no handler for api key %d", errUnsupportedVersion, req.Header.APIKey)
	}
}

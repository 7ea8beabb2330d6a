package txn

import "errors"

// Sentinels for the Kafka errors the coordinator returns; package agent
// maps each to its Kafka error code (the name says which).
var (
	ErrNotCoordinator            = errors.New("txn: this agent is not the transaction's coordinator")
	ErrCoordinatorLoadInProgress = errors.New("txn: the coordinator is loading the transaction")
	ErrCoordinatorNotAvailable   = errors.New("txn: the coordinator is not available")
	ErrInvalidRequest            = errors.New("txn: invalid request")
	ErrInvalidTransactionTimeout = errors.New("txn: invalid transaction timeout")
	ErrConcurrentTransactions    = errors.New("txn: concurrent transactions")
	ErrInvalidProducerIDMapping  = errors.New("txn: invalid producer id mapping")
	ErrProducerFenced            = errors.New("txn: producer fenced")
	ErrInvalidTxnState           = errors.New("txn: invalid transaction state")
	ErrTransactionalIDNotFound   = errors.New("txn: transactional id not found")
	ErrTransactionAbortable      = errors.New("txn: transaction abortable")
	ErrUnknownServer             = errors.New("txn: storing the transaction failed")
)

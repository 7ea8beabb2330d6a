// Command strata is Strata's one binary.
//
// `strata agent` runs a broker; every other subcommand is a Kafka client
// built on franz-go (kgo and kadm), so it works against any Kafka-compatible
// broker, not only Strata:
//
//	strata topic create|list|describe|delete|alter-config|add-partitions
//	strata produce --topic T        one record per stdin line
//	strata consume --topic T        one record per stdout line
//	strata group list|describe|reset-offsets|delete|delete-offsets
//	strata cluster describe|elect-leaders
//	strata topic reassign
//	strata log-dirs | delete-records
//	strata config describe|alter
//	strata cost                     monthly cost per topic, with what-ifs
//	strata version
//
// The client commands share connection flags (--bootstrap-server, default
// localhost:9092 or $STRATA_BOOTSTRAP_SERVER; --client-id; --timeout). They
// live on the client commands rather than on the root so that `strata agent
// --help` shows only the agent's own flags.
//
// Errors are printed to stderr as "strata: <what went wrong and how to fix
// it>" and the process exits with status 1. Kafka error codes are printed by
// name (for example TOPIC_ALREADY_EXISTS), followed by the broker's message
// when it sent one.
//
// Everything is reachable from tests through run, which takes the arguments,
// the standard streams and a context; main only adds signal handling.
//
// # Record text format
//
// produce reads stdin one line per record (the line terminator, "\n" or
// "\r\n", is not part of the record). With --key-separator SEP each line is
// split at the first SEP into key and value, and a line without SEP is an
// error. Lines may be as long as --max-message-bytes.
//
// consume writes one line per record: the optional fields that are switched
// on, in the order of Kafka's console consumer — timestamp
// ("CreateTime:ms" or "LogAppendTime:ms"), "Partition:P", "Offset:O", the
// headers ("k=v,k=v" or "NO_HEADERS"), the key — then the value, joined by
// --key-separator (a tab by default). A null key or value prints as an empty
// field, or as the literal "null" with --print-null.
package main

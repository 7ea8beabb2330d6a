package group

import (
	"encoding/binary"
	"errors"
)

// ConsumerProtocolType is the protocol type of Kafka consumer groups, whose
// member metadata is a ConsumerProtocolSubscription.
const ConsumerProtocolType = "consumer"

var errBadSubscription = errors.New("group: malformed consumer subscription")

// subscribedTopics parses the topic list out of a consumer's protocol
// metadata (ConsumerProtocolSubscription): an int16 version, then an array
// of topic names (int32 count, each an int16 length and its bytes). Every
// version, 0 through 3, starts that way; the fields after it (user data,
// owned partitions, generation, rack) are not needed here.
func subscribedTopics(metadata []byte) ([]string, error) {
	if len(metadata) < 6 {
		return nil, errBadSubscription
	}
	if int16(binary.BigEndian.Uint16(metadata)) < 0 {
		return nil, errBadSubscription
	}
	n := int32(binary.BigEndian.Uint32(metadata[2:]))
	b := metadata[6:]
	if n < 0 || int(n) > len(b)/2 {
		return nil, errBadSubscription
	}
	topics := make([]string, 0, n)
	for range n {
		if len(b) < 2 {
			return nil, errBadSubscription
		}
		l := int16(binary.BigEndian.Uint16(b))
		b = b[2:]
		if l < 0 || int(l) > len(b) {
			return nil, errBadSubscription
		}
		topics = append(topics, string(b[:l]))
		b = b[l:]
	}
	return topics, nil
}

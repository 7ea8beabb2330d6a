package etcd

import (
	"errors"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func sampleRemoteSegment() metadata.RemoteSegment {
	return metadata.RemoteSegment{
		BaseOffset: 100, LastOffset: 199, BaseTimestamp: 5, MaxTimestamp: 9, Size: 4096,
		LeaderEpoch: 3, EpochStarts: []metadata.EpochStart{{Epoch: 2, StartOffset: 100}, {Epoch: 3, StartOffset: 150}},
		CRC32C: 0xfeedface, LogKey: "c/t/0/x.log", IndexKey: "c/t/0/x.index", TimeIndexKey: "c/t/0/x.timeindex",
		UploadedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), UploadedBy: 2,
	}
}

func TestRemoteSegmentCodec(t *testing.T) {
	seg := sampleRemoteSegment()
	got, err := decodeRemoteSegment("k", 100, []byte(encodeRemoteSegment(seg)))
	if err != nil || !got.Equal(&seg) {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, seg)
	}
	for name, tc := range map[string]struct {
		base  int64
		value string
		want  error
	}{
		"other base":  {base: 101, value: encodeRemoteSegment(seg), want: ErrCorrupt},
		"not json":    {base: 100, value: "{", want: ErrCorrupt},
		"no version":  {base: 100, value: `{"base_offset":100}`, want: ErrCorrupt},
		"new version": {base: 100, value: `{"v":2}`, want: ErrVersion},
		"invalid":     {base: 0, value: `{"v":1,"base_offset":0,"last_offset":0,"size":0}`, want: ErrCorrupt},
	} {
		if _, err := decodeRemoteSegment("k", tc.base, []byte(tc.value)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", name, err, tc.want)
		}
	}
	k := keys{prefix: DefaultPrefix}
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 7}
	dir := k.cataloguePartition(tp)
	if want := DefaultPrefix + "catalogue/" + tp.TopicID.String() + "/0000000007/"; dir != want {
		t.Errorf("partition directory %q, want %q", dir, want)
	}
	if base, err := parseCatalogueBase(dir, k.catalogueSegment(tp, 42)); err != nil || base != 42 {
		t.Errorf("parse of the key of 42 = %d, %v", base, err)
	}
	for _, bad := range []string{dir + "42", dir + "-0000000000000000001", "x" + dir + "00000000000000000042"} {
		if _, err := parseCatalogueBase(dir, bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parse of %q = %v, want ErrCorrupt", bad, err)
		}
	}
}

// FuzzDecodeRemoteSegment checks that any value either fails to decode or
// decodes to a valid entry that re-encodes to the same entry.
func FuzzDecodeRemoteSegment(f *testing.F) {
	f.Add(int64(100), []byte(encodeRemoteSegment(sampleRemoteSegment())))
	f.Add(int64(0), []byte(`{"v":1,"base_offset":0,"last_offset":5,"size":1,"log_key":"a","index_key":"b","time_index_key":"c","epoch_starts":[{"epoch":1,"start_offset":9}]}`))
	f.Add(int64(0), []byte(`{"v":1,"uploaded_at":"x"}`))
	f.Fuzz(func(t *testing.T, base int64, value []byte) {
		seg, err := decodeRemoteSegment("k", base, value)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		if err := seg.Validate(); err != nil {
			t.Fatalf("decoded an invalid entry: %v", err)
		}
		again, err := decodeRemoteSegment("k", base, []byte(encodeRemoteSegment(seg)))
		if err != nil || !again.Equal(&seg) {
			t.Fatalf("re-decode = %+v, %v; want %+v", again, err, seg)
		}
	})
}

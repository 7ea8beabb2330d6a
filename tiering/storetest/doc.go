// Package storetest is the conformance suite every tiering.ObjectStore
// passes: the file-system store (tiering/fsstore) and the S3 store
// (tiering/s3, against a real versitygw process and, when configured,
// MinIO) run the same tests, so the uploader and the remote reader can
// rely on one behaviour whatever the store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tiering.ObjectStore { ... }, storetest.Options{})
//	}
//
// It covers put and get of objects of every size class (empty, small,
// larger than an S3 part), ranged gets at the start, middle and end and
// past the end, overwrite, stat, list order (byte order, across
// directories and S3's 1000-key pages) and prefix filtering, delete
// idempotence, invalid keys, short readers, context cancellation before
// and during a call, concurrent use, and atomicity: a reader racing
// overwrites sees one whole version, and a Put that fails or is cancelled
// leaves the previous object. The tests run in parallel and take about a
// second against either store.
package storetest

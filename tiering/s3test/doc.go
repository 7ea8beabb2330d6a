// Package s3test starts a real S3-compatible server for tests: a
// versitygw process with its posix backend on a temporary directory,
// listening on a random loopback port. Tests of any package can use it
// to run the S3 object store, and take the server away and bring it back
// to test outages:
//
//	srv := s3test.Start(t) // skips the test if versitygw is missing
//	cfg := s3.NewConfig()
//	cfg.Endpoint, cfg.UseTLS, cfg.PathStyle = srv.Endpoint, false, true
//	cfg.Bucket, cfg.Region = srv.Bucket, srv.Region
//	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
//	store, err := s3.New(ctx, cfg)
//	...
//	srv.Stop()  // S3 is gone: calls fail with tiering.ErrUnavailable
//	srv.Start() // back on the same port, with the same objects
//
// (The package does not build the s3.Config itself: the project's import
// rules keep tiering's subpackages from importing one another.)
//
// The versitygw binary is found through $STRATA_VERSITYGW, then as
// bin/versitygw under the module root (where `make test-deps` installs
// it), then on $PATH. A test that cannot find it is skipped with a
// message saying how to install it. Start takes about 50 ms.
//
// MinIO returns the MinIO server named by $STRATA_TEST_MINIO instead, for
// running the same tests against MinIO where a user runs one.
package s3test

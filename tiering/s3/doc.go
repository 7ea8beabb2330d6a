// Package s3 is a tiering.ObjectStore on an S3 bucket, through minio-go:
// AWS S3, MinIO, versitygw or any server that speaks the S3 API. It is the
// only package of the project that imports minio-go.
//
// # Configuration
//
// Config holds the endpoint (host:port or URL), bucket, region,
// credentials, path-style addressing (MinIO, versitygw), an optional key
// prefix so clusters can share a bucket, the multipart part size and
// upload concurrency, a request timeout and a retry count. NewConfig sets
// defaults; New validates the config and checks, with one HEAD request,
// that the bucket exists, creating it when Config.CreateBucket is set.
//
// Without static credentials the store takes them, in order, from the
// standard AWS environment variables, the shared credentials file, and the
// IAM role of an EC2 instance, ECS task or EKS pod (web identity), as the
// AWS SDKs do. The region comes from the config, $AWS_REGION or
// $AWS_DEFAULT_REGION, or else is asked of the server once per bucket.
//
// # Mapping onto S3
//
// Key k is stored as object Prefix+k. Put sends objects up to PartSize in
// one PUT and larger ones as a multipart upload of PartSize parts,
// Concurrency at a time when the reader has ReadAt; S3 makes the object
// visible only when the upload completes, so readers never see part of
// one. A failed multipart upload is aborted; one cut short by a crash
// leaves invisible parts that cost storage until a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) removes them — configure one.
//
// With Config.TrailingChecksum (the default) upload bodies are sent
// unsigned, each followed by a CRC32C trailer the server checks before it
// accepts the object or part; otherwise, over plain HTTP, minio-go signs
// every 64 KiB chunk with SHA-256, which costs a third of the upload
// throughput. Either way bytes damaged in flight are refused.
//
// Get sends one GET with a Range header and streams the body. S3 refuses a
// range starting at or past the end (416); Get then sends a HEAD to tell
// an offset at the end (an empty reader) from one past it
// (tiering.ErrInvalidRange). Stat is a HEAD, List pages through
// ListObjectsV2 (1000 keys a request), Delete is a DELETE.
//
// # Errors and retries
//
// minio-go retries a failed request MaxRetries times with exponential
// backoff (at most a second apart). What still fails is mapped onto the
// tiering sentinels: NoSuchKey is tiering.ErrNotFound, a 416 is
// tiering.ErrInvalidRange, NoSuchBucket is ErrBucketNotFound, and network
// errors, timeouts, 5xx answers and throttling wrap
// tiering.ErrUnavailable, so the uploader and remote reader can back off
// and retry while the store is down. A 403 is ErrAccessDenied; anything
// else is returned with the server's message.
//
// # Counting
//
// Stats counts HTTP requests as the server sees and bills them — each part
// of a multipart upload, each listing page, each retry — by kind: PUT
// (PUT and POST), GET (of an object), HEAD, LIST (listings and other
// bucket GETs) and DELETE; requests that got no answer or a 5xx; object
// bytes accepted by successful PUTs; and object bytes read from GET
// responses.
package s3

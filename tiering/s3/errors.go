package s3

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig wraps every error of Config.Validate.
	ErrInvalidConfig = errors.New("s3: invalid config")
	// ErrBucketNotFound is returned by New and CheckBucket when the
	// configured bucket does not exist (and CreateBucket is not set).
	ErrBucketNotFound = errors.New("s3: bucket does not exist")
	// ErrAccessDenied wraps a refusal of the server to let the store's
	// credentials do what it asked (HTTP 403): wrong keys, an expired
	// token, a bucket policy that does not allow it.
	ErrAccessDenied = errors.New("s3: access denied (check the credentials and the bucket's policy)")
)

// bucketNotFoundError says which bucket is missing where, and what to do.
type bucketNotFoundError struct {
	bucket, endpoint string
}

func (e *bucketNotFoundError) Error() string {
	return fmt.Sprintf("s3: bucket %q does not exist at endpoint %s; create it or pass --s3-create-bucket", e.bucket, e.endpoint)
}

func (e *bucketNotFoundError) Is(target error) bool { return target == ErrBucketNotFound }

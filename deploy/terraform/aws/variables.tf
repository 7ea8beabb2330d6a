# Inputs of the Strata module. Only vpc_id, subnet_ids and
# strata_binary_url are required; everything else has a default that
# makes a small production cluster: three agents, a three-member etcd,
# an encrypted private bucket.

# --- Identity and placement ---------------------------------------------

variable "name" {
  description = "Name of the cluster; prefixes every resource name and tags everything with strata:cluster = name."
  type        = string
  default     = "strata"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name))
    error_message = "name must be 2-22 characters of lower-case letters, digits and '-', starting with a letter (it goes into load balancer names, which allow 32)."
  }
}

variable "vpc_id" {
  description = "VPC to run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Private subnets, one per availability zone (three recommended). Agent i and etcd member i go to subnet i modulo the count, so replicas and etcd members spread across zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && length(var.subnet_ids) <= 6 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list 1 to 6 subnet ids (subnet-...), each in its own availability zone."
  }
}

variable "client_cidr_blocks" {
  description = "CIDR blocks Kafka clients connect from (TCP 9092, to the load balancer and to every agent). null means the VPC's primary CIDR block."
  type        = list(string)
  default     = null

  validation {
    condition     = var.client_cidr_blocks == null || alltrue([for c in coalesce(var.client_cidr_blocks, []) : can(cidrhost(c, 0)) && !can(regex(":", c))])
    error_message = "client_cidr_blocks must be IPv4 CIDR blocks such as 10.0.0.0/16."
  }
}

variable "metrics_cidr_blocks" {
  description = "CIDR blocks allowed to scrape the agents' metrics and health endpoints (TCP 9644). null means the VPC's primary CIDR block; [] closes the port to everything outside the agents."
  type        = list(string)
  default     = null

  validation {
    condition     = var.metrics_cidr_blocks == null || alltrue([for c in coalesce(var.metrics_cidr_blocks, []) : can(cidrhost(c, 0)) && !can(regex(":", c))])
    error_message = "metrics_cidr_blocks must be IPv4 CIDR blocks such as 10.0.0.0/16."
  }
}

# --- Machines -----------------------------------------------------------

variable "architecture" {
  description = "CPU architecture of every instance: x86_64 or arm64. It picks the default AMI and the etcd download; strata_binary_url and the instance types must match it."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  description = "AMI of every instance. null looks up the latest Amazon Linux 2023 for the architecture (instances keep the AMI they booted with; new ones take the newest)."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]+$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "agent_count" {
  description = "Number of agents. Each is its own auto-scaling group of one instance with a fixed node id (1..agent_count), so a replaced instance takes over its predecessor's broker id and partitions."
  type        = number
  default     = 3

  validation {
    condition     = var.agent_count >= 1 && var.agent_count <= 64 && floor(var.agent_count) == var.agent_count
    error_message = "agent_count must be a whole number from 1 to 64 (3 or more for replication factor 3)."
  }
}

variable "instance_type" {
  description = "Instance type of the agents."
  type        = string
  default     = "m7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type such as m7i.large."
  }
}

variable "data_volume_size_gb" {
  description = "Size in GiB of each agent's gp3 data volume (the local tier: local retention plus headroom)."
  type        = number
  default     = 100

  validation {
    condition     = var.data_volume_size_gb >= 10 && var.data_volume_size_gb <= 16384
    error_message = "data_volume_size_gb must be between 10 and 16384."
  }
}

variable "data_volume_iops" {
  description = "Provisioned IOPS of each agent's data volume (gp3 includes 3000)."
  type        = number
  default     = 3000

  validation {
    condition     = var.data_volume_iops >= 3000 && var.data_volume_iops <= 16000
    error_message = "data_volume_iops must be between 3000 and 16000."
  }
}

variable "data_volume_throughput" {
  description = "Provisioned throughput in MiB/s of each agent's data volume (gp3 includes 125)."
  type        = number
  default     = 125

  validation {
    condition     = var.data_volume_throughput >= 125 && var.data_volume_throughput <= 1000
    error_message = "data_volume_throughput must be between 125 and 1000."
  }
}

variable "strata_binary_url" {
  description = "HTTPS URL of the strata binary (a static linux build for the architecture, e.g. CGO_ENABLED=0 GOARCH=amd64 go build ./cmd/strata) that every agent downloads at boot."
  type        = string

  validation {
    condition     = can(regex("^https://[^[:space:]'\"]+$", var.strata_binary_url))
    error_message = "strata_binary_url must be an https:// URL without spaces or quotes."
  }
}

variable "strata_binary_sha256" {
  description = "SHA-256 of the strata binary, checked before it is installed. Empty skips the check (not recommended)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.strata_binary_sha256))
    error_message = "strata_binary_sha256 must be 64 lower-case hex digits, or empty."
  }
}

variable "agent_environment" {
  description = "Extra settings for every agent as STRATA_* environment variables, e.g. { STRATA_LOG_RETENTION = \"72h\" }. Every agent flag has one (--log-retention is STRATA_LOG_RETENTION)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.agent_environment : can(regex("^STRATA_[A-Z0-9_]+$", k)) && !contains(["STRATA_NODE_ID", "STRATA_ADVERTISED_ADDR", "STRATA_LISTEN", "STRATA_DATA_DIR", "STRATA_ETCD_ENDPOINTS"], k) && !can(regex("[\n'\"\\\\]", v))])
    error_message = "agent_environment keys must be STRATA_* variable names other than the ones the module sets per agent (NODE_ID, ADVERTISED_ADDR, LISTEN, DATA_DIR, ETCD_ENDPOINTS), and values must not contain newlines, quotes or backslashes."
  }
}

# --- etcd ---------------------------------------------------------------

variable "etcd_count" {
  description = "Members of the etcd cluster that holds Strata's metadata: 3 (tolerates one failure) or 5 (two); 1 only for experiments."
  type        = number
  default     = 3

  validation {
    condition     = contains([1, 3, 5], var.etcd_count)
    error_message = "etcd_count must be 1, 3 or 5."
  }
}

variable "etcd_instance_type" {
  description = "Instance type of the etcd members; etcd needs little CPU but steady disk latency."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.etcd_instance_type))
    error_message = "etcd_instance_type must be an EC2 instance type such as t3.medium."
  }
}

variable "etcd_version" {
  description = "etcd release to install on the members (the version Strata's embedded etcd uses)."
  type        = string
  default     = "v3.7.3"

  validation {
    condition     = can(regex("^v3\\.[0-9]+\\.[0-9]+$", var.etcd_version))
    error_message = "etcd_version must look like v3.7.3."
  }
}

variable "etcd_download_url" {
  description = "URL of the etcd release tarball. null means the etcd-io GitHub release of etcd_version for the architecture; set it to a mirror when instances cannot reach GitHub."
  type        = string
  default     = null

  validation {
    condition     = var.etcd_download_url == null || can(regex("^https://[^[:space:]'\"]+\\.tar\\.gz$", var.etcd_download_url))
    error_message = "etcd_download_url must be an https:// URL of a .tar.gz, without spaces or quotes."
  }
}

variable "etcd_volume_size_gb" {
  description = "Size in GiB of each etcd member's gp3 data volume, which outlives the instance."
  type        = number
  default     = 20

  validation {
    condition     = var.etcd_volume_size_gb >= 8 && var.etcd_volume_size_gb <= 1024
    error_message = "etcd_volume_size_gb must be between 8 and 1024."
  }
}

# --- Bucket -------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the bucket for tiered data. null generates one from name (\"<name>-tiered-<random>\")."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'."
  }
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy delete the bucket with every object in it. Leave false in production: the bucket holds the topics' history."
  type        = bool
  default     = false
}

variable "bucket_versioning" {
  description = "Turn on S3 versioning. Off by default: Strata deletes objects when retention passes them, and versions would keep paying for them (noncurrent versions then expire after noncurrent_version_expiration_days)."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "With versioning on, days after which replaced and deleted object versions are removed."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which multipart uploads that were never completed (an agent died mid-upload) are aborted and their parts deleted."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && var.abort_incomplete_multipart_upload_days <= 365 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number from 1 to 365."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the bucket's server-side encryption (SSE-KMS, with an S3 bucket key). null uses S3-managed keys (SSE-S3), which needs no key policy."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

# --- Operations ---------------------------------------------------------

variable "enable_ssm" {
  description = "Attach AmazonSSMManagedInstanceCore to the instances' roles so operators reach them with Session Manager (no SSH port, no key pairs)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

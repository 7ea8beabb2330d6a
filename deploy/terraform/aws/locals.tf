locals {
  # Fixed ports: Kafka, the agent's metrics/health listener, etcd.
  kafka_port       = 9092
  metrics_port     = 9644
  etcd_client_port = 2379
  etcd_peer_port   = 2380

  ami_id = var.ami_id != null ? var.ami_id : one(data.aws_ami.al2023[*].id)
  goarch = var.architecture == "arm64" ? "arm64" : "amd64"

  client_cidr_blocks  = var.client_cidr_blocks != null ? var.client_cidr_blocks : [data.aws_vpc.selected.cidr_block]
  metrics_cidr_blocks = var.metrics_cidr_blocks != null ? var.metrics_cidr_blocks : [data.aws_vpc.selected.cidr_block]

  subnet_azs = [for s in data.aws_subnet.selected : s.availability_zone]

  etcd_download_url = var.etcd_download_url != null ? var.etcd_download_url : "https://github.com/etcd-io/etcd/releases/download/${var.etcd_version}/etcd-${var.etcd_version}-linux-${local.goarch}.tar.gz"

  # etcd members are named etcd-1..N and keep the private IP of their
  # network interface for life, so the initial cluster can be written down.
  etcd_ips             = aws_network_interface.etcd[*].private_ip
  etcd_endpoints       = [for ip in local.etcd_ips : "http://${ip}:${local.etcd_client_port}"]
  etcd_initial_cluster = join(",", [for i, ip in local.etcd_ips : "etcd-${i + 1}=http://${ip}:${local.etcd_peer_port}"])

  s3_endpoint = "s3.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"

  tags = merge({ "strata:cluster" = var.name }, var.tags)
}

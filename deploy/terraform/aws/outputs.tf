output "bootstrap_servers" {
  description = "Kafka bootstrap address (the internal load balancer); clients then connect to each agent's private IP on 9092."
  value       = "${aws_lb.bootstrap.dns_name}:${local.kafka_port}"
}

output "bucket_name" {
  description = "Name of the bucket that holds tiered segments."
  value       = aws_s3_bucket.tiered.id
}

output "bucket_arn" {
  description = "ARN of the bucket that holds tiered segments."
  value       = aws_s3_bucket.tiered.arn
}

output "agent_role_arn" {
  description = "ARN of the agents' IAM role."
  value       = aws_iam_role.agent.arn
}

output "agent_role_name" {
  description = "Name of the agents' IAM role, to attach more policies (e.g. CloudWatch)."
  value       = aws_iam_role.agent.name
}

output "agent_security_group_id" {
  description = "Security group of the agents; allow it in other groups to let agents reach them, or reference it to admit clients."
  value       = aws_security_group.agent.id
}

output "agent_autoscaling_group_names" {
  description = "Auto-scaling group of each agent, in node-id order (agent i has node id i)."
  value       = aws_autoscaling_group.agent[*].name
}

output "etcd_endpoints" {
  description = "Client URLs of the etcd members (the agents' --etcd-endpoints)."
  value       = local.etcd_endpoints
}

output "metrics_port" {
  description = "Port of each agent's Prometheus metrics and health endpoints (/metrics, /healthz, /readyz)."
  value       = local.metrics_port
}

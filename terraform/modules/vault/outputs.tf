output "kv_mount" {
  description = "Path of the KV v2 mount (keyrotation's --kv-mount)."
  value       = vault_kv_secret_backend_v2.kv.mount
}

output "keyrotation_prefix" {
  description = "Path prefix of keyrotation's journals and keys under kv_mount (keyrotation's --kv-prefix)."
  value       = var.keyrotation_prefix
}

output "keyrotation_policy" {
  description = "Name of the policy the key-rotation job gets at login."
  value       = vault_policy.keyrotation.name
}

output "keyrotation_policy_hcl" {
  description = "The policy text, for review: the job's own paths and nothing else."
  value       = local.keyrotation_policy
}

output "kubernetes_role" {
  description = "Name of the Kubernetes auth role in every region's mount (the chart's keyrotation.vault.role)."
  value       = var.role_name
}

output "kubernetes_auth_mounts" {
  description = "Kubernetes auth mount path per region name (the chart's keyrotation.vault.mount)."
  value       = { for name, b in vault_auth_backend.kubernetes : name => b.path }
}

output "kratos_secret_name" {
  description = "Name, under kv_mount, of the KV secret with Kratos' secretsCookie, secretsCipher and secretsDefault."
  value       = vault_kv_secret_v2.kratos.name
}

output "hydra_secret_name" {
  description = "Name, under kv_mount, of the KV secret with Hydra's secretsSystem and secretsCookie."
  value       = vault_kv_secret_v2.hydra.name
}

output "audit_device_path" {
  description = "Path of the audit device under sys/audit."
  value       = vault_audit.idstack.path
}

output "kubernetes_auth_audience" {
  description = "Audience every role requires of the job's token, empty when any is accepted (the chart's keyrotation.vault.tokenAudience)."
  value       = var.kubernetes_auth_audience == null ? "" : var.kubernetes_auth_audience
}

# Vault for idstack: the KV v2 mount keyrotation keeps its journals and keys
# in, a policy that grants the rotation job only its own paths, one
# Kubernetes auth mount and role per region, the Ory secrets every region
# shares, and an audit device.

resource "vault_mount" "kv" {
  path        = var.kv_mount
  type        = "kv"
  options     = { version = "2" }
  description = "idstack: keyrotation journals and keys, Ory secrets"
}

resource "vault_kv_secret_backend_v2" "kv" {
  mount        = vault_mount.kv.path
  max_versions = var.kv_max_versions
  # keyrotation writes every journal with check-and-set and every key with
  # cas=0 itself; requiring cas on the mount would also bind the Ory
  # secrets below, which Terraform writes.
  cas_required = false
}

# Exactly the calls keyrotation/vault makes (keyrotation/README.md, "Policy"):
# KV Get/Put on data (read, create-only and check-and-set writes), metadata
# reads and the key listing, and Destroy of a key's versions. No delete, no
# metadata delete: the job cannot erase the journal's version history.
locals {
  keyrotation_policy = <<-EOT
    path "${var.kv_mount}/data/${var.keyrotation_prefix}/*" {
      capabilities = ["create", "read", "update"]
    }
    path "${var.kv_mount}/metadata/${var.keyrotation_prefix}/*" {
      capabilities = ["read", "list"]
    }
    path "${var.kv_mount}/destroy/${var.keyrotation_prefix}/*" {
      capabilities = ["update"]
    }
  EOT
}

resource "vault_policy" "keyrotation" {
  name   = var.policy_name
  policy = local.keyrotation_policy
}

# One Kubernetes auth mount per region: each region is its own cluster with
# its own API server and CA.
resource "vault_auth_backend" "kubernetes" {
  for_each    = var.regions
  type        = "kubernetes"
  path        = "kubernetes-${each.key}"
  description = "idstack region ${each.key}"
}

resource "vault_kubernetes_auth_backend_config" "region" {
  for_each           = var.regions
  backend            = vault_auth_backend.kubernetes[each.key].path
  kubernetes_host    = each.value.kubernetes_host
  kubernetes_ca_cert = each.value.kubernetes_ca_cert
  token_reviewer_jwt = each.value.token_reviewer_jwt
}

resource "vault_kubernetes_auth_backend_role" "keyrotation" {
  for_each                         = var.regions
  backend                          = vault_auth_backend.kubernetes[each.key].path
  role_name                        = var.role_name
  bound_service_account_names      = [each.value.service_account]
  bound_service_account_namespaces = [each.value.namespace]
  audience                         = var.kubernetes_auth_audience
  token_policies                   = [vault_policy.keyrotation.name]
  token_ttl                        = var.token_ttl
  token_max_ttl                    = var.token_ttl
  token_no_default_policy          = true

  depends_on = [vault_kubernetes_auth_backend_config.region]
}

# The Kratos and Hydra secrets. Every region must use the same ones: they
# share one database (Hydra's system secret encrypts what it stores there)
# and one issuer. Keys are the chart's (helm/idstack-region/values.yaml).
resource "random_password" "kratos" {
  for_each = toset(["secretsCookie", "secretsCipher", "secretsDefault"])
  # Kratos' cipher secret is at most 32 characters.
  length  = 32
  special = false
}

resource "random_password" "hydra" {
  for_each = toset(["secretsSystem", "secretsCookie"])
  length   = 32
  special  = false
}

resource "vault_kv_secret_v2" "kratos" {
  mount     = vault_kv_secret_backend_v2.kv.mount
  name      = "${var.ory_secrets_prefix}/kratos"
  data_json = jsonencode({ for k, p in random_password.kratos : k => p.result })
}

resource "vault_kv_secret_v2" "hydra" {
  mount     = vault_kv_secret_backend_v2.kv.mount
  name      = "${var.ory_secrets_prefix}/hydra"
  data_json = jsonencode({ for k, p in random_password.hydra : k => p.result })
}

resource "vault_audit" "idstack" {
  type        = var.audit_device.type
  path        = var.audit_device.path
  description = "idstack: every request, key-rotation writes included"
  options     = var.audit_device.options
}

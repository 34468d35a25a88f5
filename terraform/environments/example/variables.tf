variable "domain" {
  type        = string
  description = "Parent public domain of every region, e.g. idstack.example.com."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a lowercase DNS name with at least two labels."
  }
}

variable "issuer" {
  type        = string
  description = "Hydra's issuer URL, the same in every region, e.g. https://auth.idstack.example.com/."

  validation {
    condition     = can(regex("^https://[^\\s/]+(/\\S*)?$", var.issuer))
    error_message = "issuer must be an https URL."
  }
}

variable "kubeconfig_path" {
  type        = string
  description = "kubeconfig file holding one context per region (kube_context in regions)."
  default     = "~/.kube/config"
}

variable "regions" {
  type = object({
    eu_west      = object({ kube_context = string, kubernetes_host = string, kubernetes_ca_cert = string, cockroach_region = string, database_host = string })
    us_east      = object({ kube_context = string, kubernetes_host = string, kubernetes_ca_cert = string, cockroach_region = string, database_host = string })
    ap_northeast = object({ kube_context = string, kubernetes_host = string, kubernetes_ca_cert = string, cockroach_region = string, database_host = string })
  })
  description = "Per region: its kubeconfig context (Terraform's access), its API server as Vault reaches it (kubernetes_host, kubernetes_ca_cert), its CockroachDB region name (the nodes' region= locality) and the host:port of its own CockroachDB SQL endpoint. eu_west is the primary. One attribute per region because each needs its own provider alias, which Terraform cannot create from a map."
}

variable "vault_address" {
  type        = string
  description = "Vault's address, for Terraform and for the key-rotation job."

  validation {
    condition     = can(regex("^https?://\\S+$", var.vault_address))
    error_message = "vault_address must be an http(s) URL."
  }
}

variable "cockroach_admin_url" {
  type        = string
  description = "URL of a CockroachDB admin (e.g. root) SQL connection for Terraform, e.g. postgres://root@crdb.example.com:26257/defaultdb?sslmode=verify-full&sslrootcert=...&sslcert=...&sslkey=... (the sql provider uses the postgres scheme for CockroachDB)."
  sensitive   = true

  validation {
    condition     = can(regex("^postgres(ql)?://", var.cockroach_admin_url))
    error_message = "cockroach_admin_url must be a postgres:// URL."
  }
}

variable "cockroach_ca_cert" {
  type        = string
  description = "PEM CA that signed the CockroachDB nodes' certificates; every region's pods verify the server with it."

  validation {
    condition     = can(regex("-----BEGIN CERTIFICATE-----", var.cockroach_ca_cert))
    error_message = "cockroach_ca_cert must be a PEM certificate."
  }
}

variable "kv_mount" {
  type        = string
  description = "Path of the KV v2 mount that holds keyrotation's journals and keys and the Ory secrets (keyrotation's --kv-mount)."
  default     = "idstack"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.kv_mount))
    error_message = "kv_mount must be one path segment of letters, digits, '_' or '-' (no slashes)."
  }
}

variable "kv_max_versions" {
  type        = number
  description = "Versions KV keeps of each secret. keyrotation's verify checks that every older journal version still kept is a prefix of the current one, so more versions keep more evidence of a rewrite. 0 means Vault's default (10)."
  default     = 100

  validation {
    condition     = var.kv_max_versions >= 0 && floor(var.kv_max_versions) == var.kv_max_versions
    error_message = "kv_max_versions must be a whole number, 0 or more."
  }
}

variable "keyrotation_prefix" {
  type        = string
  description = "Path prefix under kv_mount that keyrotation uses (its --kv-prefix). The job's policy grants this prefix only."
  default     = "keyrotation"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.keyrotation_prefix))
    error_message = "keyrotation_prefix must be a relative path without leading, trailing or doubled slashes."
  }
}

variable "ory_secrets_prefix" {
  type        = string
  description = "Path prefix under kv_mount where this module writes the Kratos and Hydra secrets every region reads (<prefix>/kratos, <prefix>/hydra). The key-rotation policy does not grant it."
  default     = "ory"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.ory_secrets_prefix))
    error_message = "ory_secrets_prefix must be a relative path without leading, trailing or doubled slashes."
  }
}

variable "policy_name" {
  type        = string
  description = "Name of the Vault policy granted to the key-rotation job."
  default     = "idstack-keyrotation"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.policy_name))
    error_message = "policy_name must be lowercase letters, digits, '_' or '-'."
  }
}

variable "role_name" {
  type        = string
  description = "Name of the Kubernetes auth role, the same in every region's auth mount (the chart's keyrotation.vault.role)."
  default     = "keyrotation"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.role_name))
    error_message = "role_name must be lowercase letters, digits, '_' or '-'."
  }
}

variable "regions" {
  type = map(object({
    # Address of the region's Kubernetes API server, as Vault reaches it.
    kubernetes_host = string
    # PEM CA bundle of that API server.
    kubernetes_ca_cert = string
    # Namespace and ServiceAccount of the key-rotation job in that region
    # (the region module's namespace and keyrotation_service_account).
    namespace       = string
    service_account = optional(string, "idstack-keyrotation")
    # JWT Vault uses to call the TokenReview API. Null: Vault uses the
    # job's own token, whose ServiceAccount then needs system:auth-delegator
    # (the region module has the chart bind it).
    token_reviewer_jwt = optional(string)
  }))
  description = "One entry per region, keyed by region name: each region is its own Kubernetes cluster, so each gets its own Kubernetes auth mount (kubernetes-<region>) with a role bound to the key-rotation ServiceAccount there."

  validation {
    condition     = length(var.regions) > 0
    error_message = "regions must have at least one region."
  }
  validation {
    condition     = alltrue([for name, r in var.regions : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", name))])
    error_message = "every region name must be a lowercase DNS label, e.g. eu-west."
  }
  validation {
    condition     = alltrue([for r in var.regions : can(regex("^https://", r.kubernetes_host))])
    error_message = "every kubernetes_host must be an https:// URL."
  }
  validation {
    condition     = alltrue([for r in var.regions : can(regex("-----BEGIN CERTIFICATE-----", r.kubernetes_ca_cert))])
    error_message = "every kubernetes_ca_cert must be a PEM certificate bundle."
  }
  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", r.namespace)) && can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", r.service_account))])
    error_message = "every namespace must be a DNS label and every service_account a DNS subdomain name."
  }
}

variable "kubernetes_auth_audience" {
  type        = string
  description = "Audience the job's ServiceAccount token must carry (the region module has the chart project a token with it). A token minted for another audience is refused. Null accepts any audience, which Vault advises against."
  default     = "vault"

  validation {
    condition     = var.kubernetes_auth_audience == null || can(regex("^\\S+$", var.kubernetes_auth_audience))
    error_message = "kubernetes_auth_audience must be null or a non-empty string without spaces."
  }
}

variable "token_ttl" {
  type        = number
  description = "Lifetime in seconds of the token the job gets at login. A run is one step (keyrotation's --lease-ttl defaults to 5 min), so it needs little."
  default     = 900

  validation {
    condition     = var.token_ttl >= 60 && var.token_ttl <= 86400
    error_message = "token_ttl must be between 60 s and 1 day."
  }
}

variable "audit_device" {
  type = object({
    # Vault audit device type: file, syslog or socket.
    type = optional(string, "file")
    # Where the device is mounted under sys/audit.
    path = optional(string, "idstack-file")
    # Device options, e.g. { file_path = "/vault/audit/audit.log" } for type file.
    options = optional(map(string), { file_path = "/vault/audit/audit.log" })
  })
  description = "The audit device that records every request, including each key-rotation write (keyrotation logs the vault_request_id of each to match them). Vault blocks requests when no enabled audit device can write, so point it at storage that stays writable."
  default     = {}

  validation {
    condition     = contains(["file", "syslog", "socket"], var.audit_device.type)
    error_message = "audit_device.type must be file, syslog or socket."
  }
  validation {
    condition     = var.audit_device.type != "file" || contains(keys(var.audit_device.options), "file_path")
    error_message = "audit_device.options must set file_path when audit_device.type is file."
  }
}

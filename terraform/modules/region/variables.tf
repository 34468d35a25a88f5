variable "name" {
  type        = string
  description = "The region's name, e.g. eu-west (chart: region.name). Public hosts are login.<name>.<domain>, kratos.<name>.<domain> and hydra.<name>.<domain>."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase DNS label, e.g. eu-west."
  }
}

variable "domain" {
  type        = string
  description = "Parent public domain, e.g. idstack.example.com (chart: region.domain). Cookies are set for <name>.<domain>."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a lowercase DNS name with at least two labels, e.g. idstack.example.com."
  }
}

variable "primary" {
  type        = bool
  description = "Whether this is the primary region (chart: region.primary): it runs the Kratos courier and the key-rotation job. Exactly one region should be primary."
}

variable "issuer" {
  type        = string
  description = "Hydra's issuer URL, the same in every region (chart: global.issuer)."

  validation {
    condition     = can(regex("^https?://[^\\s/]+(/\\S*)?$", var.issuer))
    error_message = "issuer must be an http(s) URL."
  }
}

variable "regions" {
  type        = list(string)
  description = "Every region's name, this one included (chart: global.regions): the key-rotation job waits until each region's JWKS serves a new key before it signs with it."

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", r))]) && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must be distinct lowercase DNS labels."
  }
  validation {
    condition     = contains(var.regions, var.name)
    error_message = "regions must include this region's name."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the release."
  default     = "idstack"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a lowercase DNS label."
  }
}

variable "create_namespace" {
  type        = bool
  description = "Create the namespace (false: it exists already)."
  default     = true
}

variable "release_name" {
  type        = string
  description = "Helm release name; the chart names its objects <release>-<component>."
  default     = "idstack"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a lowercase DNS label of at most 40 characters (the chart appends component names)."
  }
}

variable "chart_path" {
  type        = string
  description = "Path of the local idstack-region chart (helm/idstack-region in this repository), e.g. \"$${path.root}/../../../helm/idstack-region\"."

  validation {
    condition     = endswith(trimsuffix(var.chart_path, "/"), "idstack-region")
    error_message = "chart_path must point at the idstack-region chart directory."
  }
}

variable "components" {
  type = object({
    kratos      = optional(bool, true)
    hydra       = optional(bool, true)
    bridge      = optional(bool, true)
    keyrotation = optional(bool, true)
  })
  description = "Which components the region runs (chart: kratos.enabled, hydra.enabled, bridge.enabled, keyrotation.enabled). The key-rotation job runs only where primary is also true."
  default     = {}
}

variable "database" {
  type = object({
    # host:port of the CockroachDB SQL endpoint this region's pods use
    # (its own region's nodes), e.g. cockroachdb-public.cockroachdb:26257.
    host = string
    # PEM CA that signed the nodes' certificates (verify-full).
    ca_cert = string
    # Optional client certificate and key, mounted for the chart as
    # tls.crt/tls.key. The DSNs this module builds authenticate with
    # passwords (one certificate cannot name both SQL users).
    client_cert = optional(string, "")
    client_key  = optional(string, "")
  })
  description = "How this region's pods reach CockroachDB."

  validation {
    condition     = can(regex("^[^\\s:/]+:[0-9]{1,5}$", var.database.host))
    error_message = "database.host must be host:port."
  }
  validation {
    condition     = can(regex("-----BEGIN CERTIFICATE-----", var.database.ca_cert))
    error_message = "database.ca_cert must be a PEM certificate."
  }
  validation {
    condition     = (var.database.client_cert == "") == (var.database.client_key == "")
    error_message = "database.client_cert and database.client_key must be set together."
  }
}

variable "database_passwords" {
  type        = map(string)
  description = "Password of the kratos and hydra SQL users (the cockroach module's passwords output)."
  sensitive   = true

  validation {
    condition     = alltrue([for u in ["kratos", "hydra"] : length(lookup(var.database_passwords, u, "")) >= 16])
    error_message = "database_passwords must hold kratos and hydra, each at least 16 characters."
  }
}

variable "vault" {
  type = object({
    # Vault's address as the key-rotation job reaches it.
    address = string
    # KV v2 mount and the names of the Kratos and Hydra secrets in it (the
    # vault module's kv_mount, kratos_secret_name, hydra_secret_name).
    kv_mount           = string
    kratos_secret_name = string
    hydra_secret_name  = string
    # Path prefix of keyrotation's journals and keys under kv_mount (the
    # vault module's keyrotation_prefix).
    kv_prefix = string
    # This region's Kubernetes auth mount and the job's role (the vault
    # module's kubernetes_auth_mounts[name] and kubernetes_role).
    auth_mount = string
    role       = string
    # Audience the role requires of the job's token (the vault module's
    # kubernetes_auth_audience); empty: the API server's default.
    token_audience = optional(string, "")
    # PEM CA of Vault's TLS certificate, when not publicly trusted; empty:
    # none mounted.
    ca_cert = optional(string, "")
  })
  description = "Where the Ory secrets are read from, and how the key-rotation job logs in to Vault and where it keeps its journals (chart: keyrotation.vault.*)."

  validation {
    condition     = can(regex("^https?://\\S+$", var.vault.address))
    error_message = "vault.address must be an http(s) URL."
  }
  validation {
    condition     = var.vault.auth_mount != "" && var.vault.role != "" && var.vault.kv_mount != "" && var.vault.kv_prefix != ""
    error_message = "vault.auth_mount, vault.role, vault.kv_mount and vault.kv_prefix must be set."
  }
  validation {
    condition     = var.vault.ca_cert == "" || can(regex("-----BEGIN CERTIFICATE-----", var.vault.ca_cert))
    error_message = "vault.ca_cert must be empty or a PEM certificate."
  }
}

variable "keyrotation_service_account" {
  type        = string
  description = "Name of the key-rotation job's ServiceAccount (chart: keyrotation.serviceAccount.name). The vault module binds its role to this name, so pass both the same value."
  default     = "idstack-keyrotation"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", var.keyrotation_service_account))
    error_message = "keyrotation_service_account must be a DNS subdomain name."
  }
}

variable "bind_auth_delegator" {
  type        = bool
  description = "Let the chart bind the key-rotation ServiceAccount to system:auth-delegator (chart: keyrotation.serviceAccount.authDelegator), which Vault needs when it reviews the job's token with that same token (no token_reviewer_jwt in the vault module)."
  default     = true
}

variable "ingress" {
  type = object({
    enabled    = optional(bool, true)
    class_name = optional(string, "")
    # Secret with a certificate for the three public hosts; empty: no TLS
    # block (TLS handled elsewhere).
    tls_secret = optional(string, "")
  })
  description = "Ingress for the region's public hosts (chart: ingress.*)."
  default     = {}
}

variable "helm_timeout" {
  type        = number
  description = "Seconds Helm waits for the release to become ready (migrations included)."
  default     = 600

  validation {
    condition     = var.helm_timeout >= 60
    error_message = "helm_timeout must be at least 60 seconds."
  }
}

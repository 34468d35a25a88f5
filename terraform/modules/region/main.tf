# One idstack region: its namespace, the Secrets the chart reads (database
# DSNs and certificates, the Kratos and Hydra secrets from Vault) and a
# release of helm/idstack-region with the region's values.

locals {
  namespace = var.create_namespace ? kubernetes_namespace_v1.region[0].metadata[0].name : var.namespace

  # Where the chart mounts database.certificatesSecret (helm/idstack-region/values.yaml).
  certs_dir = "/etc/idstack/db-certs"
  dsn = { for user in ["kratos", "hydra"] : user => format(
    "cockroach://%s:%s@%s/%s?sslmode=verify-full&sslrootcert=%s/ca.crt",
    user, urlencode(var.database_passwords[user]), var.database.host, user, local.certs_dir,
  ) }

  # Every key here must exist in helm/idstack-region/values.yaml; the Go
  # tests in terraform/ check that.
  chart_values = {
    global = {
      issuer  = var.issuer
      regions = var.regions
    }
    region = {
      name    = var.name
      domain  = var.domain
      primary = var.primary
    }
    database = {
      existingSecret     = kubernetes_secret_v1.database.metadata[0].name
      certificatesSecret = kubernetes_secret_v1.database_certificates.metadata[0].name
      waitFor            = var.database.host
    }
    ingress = {
      enabled   = var.ingress.enabled
      className = var.ingress.class_name
      tlsSecret = var.ingress.tls_secret
    }
    kratos = {
      enabled = var.components.kratos
      secrets = { existingSecret = kubernetes_secret_v1.kratos.metadata[0].name }
    }
    hydra = {
      enabled = var.components.hydra
      secrets = { existingSecret = kubernetes_secret_v1.hydra.metadata[0].name }
    }
    bridge = {
      enabled = var.components.bridge
    }
    # Keys under keyrotation that idstack-region/values.yaml does not list
    # go to the keyrotation subchart's own values (helm/keyrotation).
    keyrotation = {
      enabled = var.components.keyrotation
      vault = {
        address       = var.vault.address
        role          = var.vault.role
        mount         = var.vault.auth_mount
        tokenAudience = var.vault.token_audience
        caSecret      = var.vault.ca_cert == "" ? "" : kubernetes_secret_v1.vault_ca[0].metadata[0].name
        kvMount       = var.vault.kv_mount
        kvPrefix      = var.vault.kv_prefix
      }
      serviceAccount = {
        name          = var.keyrotation_service_account
        authDelegator = var.bind_auth_delegator
      }
    }
  }
}

resource "kubernetes_namespace_v1" "region" {
  count = var.create_namespace ? 1 : 0
  metadata {
    name   = var.namespace
    labels = { "app.kubernetes.io/part-of" = "idstack", "idstack.dev/region" = var.name }
  }
}

resource "kubernetes_secret_v1" "database" {
  metadata {
    name      = "${var.release_name}-database"
    namespace = local.namespace
  }
  data = {
    kratos-dsn = local.dsn["kratos"]
    hydra-dsn  = local.dsn["hydra"]
  }
}

resource "kubernetes_secret_v1" "database_certificates" {
  metadata {
    name      = "${var.release_name}-database-certificates"
    namespace = local.namespace
  }
  data = {
    "ca.crt"  = var.database.ca_cert
    "tls.crt" = var.database.client_cert
    "tls.key" = var.database.client_key
  }
}

# The Kratos and Hydra secrets are the same in every region (one database,
# one issuer); the vault module writes them once.
data "vault_kv_secret_v2" "kratos" {
  mount = var.vault.kv_mount
  name  = var.vault.kratos_secret_name
}

data "vault_kv_secret_v2" "hydra" {
  mount = var.vault.kv_mount
  name  = var.vault.hydra_secret_name
}

resource "kubernetes_secret_v1" "kratos" {
  metadata {
    name      = "${var.release_name}-kratos-secrets"
    namespace = local.namespace
  }
  data = data.vault_kv_secret_v2.kratos.data
}

resource "kubernetes_secret_v1" "hydra" {
  metadata {
    name      = "${var.release_name}-hydra-secrets"
    namespace = local.namespace
  }
  data = data.vault_kv_secret_v2.hydra.data
}

resource "kubernetes_secret_v1" "vault_ca" {
  count = var.vault.ca_cert == "" ? 0 : 1
  metadata {
    name      = "${var.release_name}-vault-ca"
    namespace = local.namespace
  }
  data = {
    "ca.crt" = var.vault.ca_cert
  }
}

resource "helm_release" "region" {
  name      = var.release_name
  namespace = local.namespace
  chart     = var.chart_path
  # The chart's dependencies (kratos, hydra, bridge, keyrotation) are local
  # (file://../<name>): build them from the repository on every apply.
  dependency_update = true
  values            = [yamlencode(local.chart_values)]
  atomic            = true
  wait              = true
  timeout           = var.helm_timeout

  depends_on = [
    kubernetes_secret_v1.database,
    kubernetes_secret_v1.database_certificates,
    kubernetes_secret_v1.kratos,
    kubernetes_secret_v1.hydra,
    kubernetes_secret_v1.vault_ca,
  ]
}

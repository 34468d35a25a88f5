# Three regions on one CockroachDB cluster and one Vault. Apply order:
# cockroach, vault, then the regions (terraform apply -target=module.cockroach,
# then -target=module.vault, then the rest; see ../../README.md).

locals {
  primary      = "eu-west"
  release_name = "idstack"
  namespace    = "idstack"
  chart_path   = "${path.module}/../../../helm/idstack-region"

  # idstack region name => its settings (the keys of var.regions use '_'
  # because they are HCL attribute names).
  regions = {
    "eu-west"      = var.regions.eu_west
    "us-east"      = var.regions.us_east
    "ap-northeast" = var.regions.ap_northeast
  }
  region_names = keys(local.regions)

  # The key-rotation job's ServiceAccount: the region module names it in the
  # chart, the vault module binds each region's role to it.
  keyrotation_service_account = "${local.release_name}-keyrotation"
}

module "cockroach" {
  source = "../../modules/cockroach"

  primary_region = local.regions[local.primary].cockroach_region
  regions        = [for name in local.region_names : local.regions[name].cockroach_region]
  # Three regions: survival_goal defaults to region.
}

module "vault" {
  source = "../../modules/vault"

  regions = { for name, r in local.regions : name => {
    kubernetes_host    = r.kubernetes_host
    kubernetes_ca_cert = r.kubernetes_ca_cert
    namespace          = local.namespace
    service_account    = local.keyrotation_service_account
  } }
}

module "region_eu_west" {
  source = "../../modules/region"
  providers = {
    kubernetes = kubernetes.eu_west
    helm       = helm.eu_west
    vault      = vault
  }

  name                        = "eu-west"
  primary                     = local.primary == "eu-west"
  domain                      = var.domain
  issuer                      = var.issuer
  regions                     = local.region_names
  namespace                   = local.namespace
  release_name                = local.release_name
  chart_path                  = local.chart_path
  keyrotation_service_account = local.keyrotation_service_account
  database = {
    host    = var.regions.eu_west.database_host
    ca_cert = var.cockroach_ca_cert
  }
  database_passwords = module.cockroach.passwords
  vault = {
    address            = var.vault_address
    kv_mount           = module.vault.kv_mount
    kv_prefix          = module.vault.keyrotation_prefix
    kratos_secret_name = module.vault.kratos_secret_name
    hydra_secret_name  = module.vault.hydra_secret_name
    token_audience     = module.vault.kubernetes_auth_audience
    auth_mount         = module.vault.kubernetes_auth_mounts["eu-west"]
    role               = module.vault.kubernetes_role
  }
}

module "region_us_east" {
  source = "../../modules/region"
  providers = {
    kubernetes = kubernetes.us_east
    helm       = helm.us_east
    vault      = vault
  }

  name                        = "us-east"
  primary                     = local.primary == "us-east"
  domain                      = var.domain
  issuer                      = var.issuer
  regions                     = local.region_names
  namespace                   = local.namespace
  release_name                = local.release_name
  chart_path                  = local.chart_path
  keyrotation_service_account = local.keyrotation_service_account
  database = {
    host    = var.regions.us_east.database_host
    ca_cert = var.cockroach_ca_cert
  }
  database_passwords = module.cockroach.passwords
  vault = {
    address            = var.vault_address
    kv_mount           = module.vault.kv_mount
    kv_prefix          = module.vault.keyrotation_prefix
    kratos_secret_name = module.vault.kratos_secret_name
    hydra_secret_name  = module.vault.hydra_secret_name
    token_audience     = module.vault.kubernetes_auth_audience
    auth_mount         = module.vault.kubernetes_auth_mounts["us-east"]
    role               = module.vault.kubernetes_role
  }
}

module "region_ap_northeast" {
  source = "../../modules/region"
  providers = {
    kubernetes = kubernetes.ap_northeast
    helm       = helm.ap_northeast
    vault      = vault
  }

  name                        = "ap-northeast"
  primary                     = local.primary == "ap-northeast"
  domain                      = var.domain
  issuer                      = var.issuer
  regions                     = local.region_names
  namespace                   = local.namespace
  release_name                = local.release_name
  chart_path                  = local.chart_path
  keyrotation_service_account = local.keyrotation_service_account
  database = {
    host    = var.regions.ap_northeast.database_host
    ca_cert = var.cockroach_ca_cert
  }
  database_passwords = module.cockroach.passwords
  vault = {
    address            = var.vault_address
    kv_mount           = module.vault.kv_mount
    kv_prefix          = module.vault.keyrotation_prefix
    kratos_secret_name = module.vault.kratos_secret_name
    hydra_secret_name  = module.vault.hydra_secret_name
    token_audience     = module.vault.kubernetes_auth_audience
    auth_mount         = module.vault.kubernetes_auth_mounts["ap-northeast"]
    role               = module.vault.kubernetes_role
  }
}

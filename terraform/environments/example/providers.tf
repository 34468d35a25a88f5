# One Vault, one CockroachDB cluster, and one Kubernetes cluster per region:
# a kubernetes and a helm provider alias for each region. Vault's token
# comes from VAULT_TOKEN (never from a file here).

provider "vault" {
  address = var.vault_address
}

provider "sql" {
  url = var.cockroach_admin_url
}

provider "kubernetes" {
  alias          = "eu_west"
  config_path    = var.kubeconfig_path
  config_context = var.regions.eu_west.kube_context
}

provider "helm" {
  alias = "eu_west"
  kubernetes = {
    config_path    = var.kubeconfig_path
    config_context = var.regions.eu_west.kube_context
  }
}

provider "kubernetes" {
  alias          = "us_east"
  config_path    = var.kubeconfig_path
  config_context = var.regions.us_east.kube_context
}

provider "helm" {
  alias = "us_east"
  kubernetes = {
    config_path    = var.kubeconfig_path
    config_context = var.regions.us_east.kube_context
  }
}

provider "kubernetes" {
  alias          = "ap_northeast"
  config_path    = var.kubeconfig_path
  config_context = var.regions.ap_northeast.kube_context
}

provider "helm" {
  alias = "ap_northeast"
  kubernetes = {
    config_path    = var.kubeconfig_path
    config_context = var.regions.ap_northeast.kube_context
  }
}

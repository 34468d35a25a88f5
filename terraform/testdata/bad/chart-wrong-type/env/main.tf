provider "kubernetes" {
  alias = "a"
}

provider "helm" {
  alias = "a"
}

module "one" {
  source = "../region"
  providers = {
    kubernetes = kubernetes.a
    helm       = helm.a
  }

  name       = "one"
  chart_path = "${path.module}/../../../chart/idstack-region"
}

provider "kubernetes" {
  alias = "a"
}

provider "helm" {
  alias = "a"
}

provider "helm" {
  alias = "b"
}

module "one" {
  source = "../../good/region"
  providers = {
    kubernetes = kubernetes.a
    helm       = helm.a
  }

  name       = "one"
  chart_path = "${path.module}/../../chart/idstack-region"
}

module "two" {
  source = "../../good/region"
  providers = {
    kubernetes = kubernetes.a
    helm       = helm.b
  }

  name       = "two"
  chart_path = "${path.module}/../../chart/idstack-region"
}

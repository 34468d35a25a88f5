provider "kubernetes" {
  alias = "a"
}

provider "helm" {
  alias = "a"
}

provider "kubernetes" {
  alias = "b"
}

provider "helm" {
  alias = "b"
}

module "one" {
  source = "../region"
  providers = {
    kubernetes = kubernetes.a
    helm       = helm.a
  }

  name       = "one"
  chart_path = "${path.module}/../../chart/idstack-region"
}

module "two" {
  source = "../region"
  providers = {
    kubernetes = kubernetes.b
    helm       = helm.b
  }

  name       = "two"
  chart_path = "${path.module}/../../chart/idstack-region"
}

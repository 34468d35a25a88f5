module "child" {
  source = "../../good/child"

  length = 20
}

module "child" {
  source = "../child"

  name = "x"
}

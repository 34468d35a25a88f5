module "child" {
  source = "../../good/child"

  name  = "x"
  bogus = "not a variable of child"
}

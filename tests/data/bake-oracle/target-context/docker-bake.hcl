target "base" {
  dockerfile = "baseapp.Dockerfile"
}
target "app" {
  contexts = {
    oracle-baseapp = "target:base"
  }
}

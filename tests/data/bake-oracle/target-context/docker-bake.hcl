target "base" {
  dockerfile = "baseapp.Dockerfile"
}
target "app" {
  contexts = {
    baseapp = "target:base"
  }
}

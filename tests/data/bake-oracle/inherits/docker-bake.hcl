target "_common" {
  args = {
    BASE = "debian:12"
    NODE = "20"
  }
}
target "app" {
  inherits = ["_common"]
  context  = "app"
  args = {
    NODE = "22"
  }
}

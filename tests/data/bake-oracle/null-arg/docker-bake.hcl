variable "GO_VERSION" {
  default = "1.23"
}
target "db" {
  dockerfile = "db.Dockerfile"
  args = {
    GO_VERSION = null
    ALPINE     = "3.20"
  }
}

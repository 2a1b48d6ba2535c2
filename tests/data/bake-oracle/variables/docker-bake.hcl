group "default" {
  targets = ["webapp"]
}
variable "TAG" {
  default = "latest"
}
target "webapp" {
  context    = "."
  dockerfile = "Dockerfile"
  tags       = ["docker.io/username/webapp:${TAG}"]
}

variable "TAG" {}
target "webapp" {
  tags = ["docker.io/username/webapp:${TAG}"]
  contexts = {
    base = "docker-image://debian:${TAG}"
  }
}

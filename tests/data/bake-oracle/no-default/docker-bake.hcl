variable "TAG" {}
target "webapp" {
  tags = ["docker.io/username/webapp:${TAG}"]
  contexts = {
    oracle-base = "docker-image://debian:${TAG}"
  }
}

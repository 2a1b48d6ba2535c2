variable "REGISTRY" {
  default = "ghcr.io/acme"
}
variable "IMAGE" {
  default = "${REGISTRY}/tools"
}
target "app" {
  contexts = {
    oracle-tools = "docker-image://${IMAGE}:1.0"
  }
  tags = ["${REGISTRY}/app:1.0"]
}

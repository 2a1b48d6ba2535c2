variable "TAG" {
  default = "3.20"
}
target "app" {
  contexts = {
    oracle-alpine = "docker-image://alpine:${lower(TAG)}"
  }
  tags = [notequal("", TAG) ? "acme/app:${TAG}" : "acme/app:dev"]
}

target "app" {
  contexts = {
    oracle-alpine = "docker-image://alpine:3.20"
  }
  tags = ["acme/app:$${TAG}"]
}

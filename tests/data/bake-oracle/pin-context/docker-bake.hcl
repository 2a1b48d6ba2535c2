target "app" {
  contexts = {
    oracle-alpine = "docker-image://alpine:3.13"
  }
}

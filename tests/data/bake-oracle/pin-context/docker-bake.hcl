target "app" {
  contexts = {
    alpine = "docker-image://alpine:3.13"
  }
}

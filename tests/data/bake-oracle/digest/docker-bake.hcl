target "app" {
  contexts = {
    oracle-alpine = "docker-image://alpine@sha256:0123456789012345678901234567890123456789012345678901234567890123"
  }
}

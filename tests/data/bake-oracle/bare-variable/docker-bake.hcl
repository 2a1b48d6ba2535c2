variable "TAG" {
  default = "docker.io/username/webapp:latest"
}
target "webapp" {
  tags = [TAG]
}

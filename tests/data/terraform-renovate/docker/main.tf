data "docker_registry_image" "ubuntu" {
  name = "ubuntu:precise"
}

resource "docker_image" "nginx" {
  name = "nginx:1.7.8"
}

resource "docker_image" "invalid" {
}

resource "docker_image" "ignore_variable" {
  name          = data.docker_registry_image.ubuntu.name
  pull_triggers = ["${data.docker_registry_image.ubuntu.sha256_digest}"]
}

resource "docker_image" "proxy" {
  name = "hub.proxy.test/bitnami/nginx:1.24.0"
}

resource "docker_container" "foo" {
  name  = "foo"
  image = "nginx:1.7.8"
}

resource "docker_container" "invalid" {
  name = "foo"
}

resource "docker_service" "foo" {
  name = "foo-service"
  task_spec {
    container_spec {
      image = "repo.mycompany.com:8080/foo-service:v1"
    }
  }
}

resource "docker_service" "invalid" {
}

resource "not_supported_resource" "foo" {
  name  = "foo"
  image = "nginx:1.7.8"
}

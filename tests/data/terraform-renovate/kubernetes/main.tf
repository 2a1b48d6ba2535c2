resource "kubernetes_cron_job_v1" "demo" {
  spec {
    job_template {
      spec {
        template {
          spec {
            container {
              name  = "kaniko"
              image = "gcr.io/kaniko-project/executor:v1.7.0@sha256:8504bde9a9a8c9c4e9a4fe659703d265697a36ff13607b7669a4caa4407baa52"
            }
            container {
              name  = "node"
              image = "node:14"
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_deployment" "example" {
  spec {
    template {
      spec {
        container {
          image = "nginx:1.21.3"
        }
      }
    }
  }
}

resource "kubernetes_job" "demo_invalid" {
  spec {
    template {
      spec {
        container {
          name = "no-image"
        }
      }
    }
    image = "nginx:1.21.6"
  }
}

resource "kubernetes_pod_v1" "test" {
  spec {
    container {
      image = "nginx:1.21.8"
    }
  }
}

resource "kubernetes_stateful_set_v1" "prometheus" {
  spec {
    template {
      spec {
        init_container {
          image = "nginx:1.21.12"
        }
        container {
          image = "prom/prometheus:v2.2.2"
        }
      }
    }
  }
}

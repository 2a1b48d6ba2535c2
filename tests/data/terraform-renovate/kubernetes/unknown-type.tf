resource "kubernetes_job_invalid" "demo_invalid2" {
  spec {
    template {
      spec {
        container {
          image = "nginx:1.21.6"
        }
      }
    }
  }
}

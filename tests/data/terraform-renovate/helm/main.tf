resource "helm_release" "redis" {
  name       = "my-redis-release"
  repository = "https://charts.helm.sh/stable"
  chart      = "redis"
  version    = "1.0.1"
}

resource "helm_release" "local" {
  name  = "my-local-chart"
  chart = "./charts/example"
}

resource "helm_release" "karpenter" {
  name    = "karpenter"
  chart   = "oci://public.ecr.aws/karpenter/karpenter"
  version = "v0.22.1"
}

resource "helm_release" "karpenter_oci_repo" {
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = "v0.22.1"
}

resource "helm_release" "proxy_oci_repo" {
  name       = "kube-prometheus"
  repository = "oci://hub.proxy.test/bitnamicharts"
  chart      = "kube-prometheus"
  version    = "8.9.1"
}

target "app" {
  contexts = {
    src   = "../path/to/source"
    git   = "https://github.com/user/proj.git"
    http  = "https://example.com/files"
    oci   = "oci-layout:///tmp/layout@sha256:0123456789012345678901234567890123456789012345678901234567890123"
    local = "./vendor"
  }
}

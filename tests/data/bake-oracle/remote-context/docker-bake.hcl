target "app" {
  contexts = {
    oracle-src   = "../path/to/source"
    oracle-git   = "https://github.com/user/proj.git"
    oracle-http  = "https://example.com/files"
    oracle-oci   = "oci-layout:///tmp/layout@sha256:0123456789012345678901234567890123456789012345678901234567890123"
    oracle-local = "./vendor"
  }
}

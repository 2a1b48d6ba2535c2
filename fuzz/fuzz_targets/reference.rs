#![no_main]
//! The reference grammar: parsing never panics; a normalised reference
//! re-parses to itself (normalisation is idempotent), and so does its
//! familiar form.
use libfuzzer_sys::fuzz_target;
use refit::reference::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        assert_eq!(r.input(), s);
    }
    if let Ok(r) = Reference::parse_normalized(s) {
        let n = r.normalized();
        let again = Reference::parse_normalized(&n).expect("a normalised reference parses");
        assert_eq!(again.normalized(), n, "normalisation is idempotent");
        // Docker Hub names cannot hold `.` or `:`; for one that does, the
        // familiar form (without `docker.io/`) reads as a domain, as in Docker.
        let path = r.normalized_path();
        let first = path.split('/').next().unwrap_or("");
        if !(r.is_docker_hub() && (first.contains(['.', ':']) || first == "localhost")) {
            let familiar =
                Reference::parse_normalized(&r.familiar()).expect("the familiar form parses");
            assert_eq!(familiar.normalized(), n, "the familiar form means the same");
        }
    }
});

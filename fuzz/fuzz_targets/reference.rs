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
        // Nor can a familiar name be 64 hex digits: Docker reads that as an
        // image ID, so such a name only parses with its domain.
        let familiar_text = r.familiar();
        let familiar_name = familiar_text.split([':', '@']).next().unwrap_or("");
        let hex_id = familiar_name.len() == 64 && familiar_name.bytes().all(|b| b.is_ascii_hexdigit());
        if !(r.is_docker_hub() && (first.contains(['.', ':']) || first == "localhost")) && !hex_id {
            let familiar =
                Reference::parse_normalized(&r.familiar()).expect("the familiar form parses");
            assert_eq!(familiar.normalized(), n, "the familiar form means the same");
        }
    }
});

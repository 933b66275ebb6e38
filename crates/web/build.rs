//! Copies htmx from the npm lockfile install (web-assets/node_modules) into OUT_DIR so the binary embeds
//! it. Nothing is downloaded here: `npm ci` in web-assets/ does that (scripts/demo and scripts/test run
//! it). Without it the pages still work — every htmx control is also a plain link or form.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    let src = Path::new(&manifest).join("../../web-assets/node_modules/htmx.org/dist/htmx.min.js");
    println!("cargo:rerun-if-changed={}", src.display());
    let dest = Path::new(&out).join("htmx.min.js");
    if std::fs::copy(&src, &dest).is_err() {
        println!(
            "cargo:warning=htmx not found at {}; run `npm ci` in web-assets/ (pages work without it)",
            src.display()
        );
        let _ = std::fs::write(&dest, b"");
    }
}

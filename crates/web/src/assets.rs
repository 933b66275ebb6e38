//! Static files embedded in the binary: our stylesheet, scripts and mark (in git), htmx and pdf.js (from npm,
//! embedded by build.rs). Cached for an hour, so an upgrade's new stylesheet reaches every browser within that hour.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

static HTMX: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/htmx.min.js"));

pub async fn serve(Path(file): Path<String>) -> Response {
    let (bytes, mime): (std::borrow::Cow<'static, [u8]>, &str) = if file == "htmx.min.js" && !HTMX.is_empty() {
        (HTMX.into(), "text/javascript; charset=utf-8")
    } else if let Some(f) = Assets::get(&file) {
        let mime = match file.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("js" | "mjs") => "text/javascript; charset=utf-8",
            _ => "application/octet-stream",
        };
        (f.data, mime)
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = bytes.into_owned().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

include!(concat!(env!("OUT_DIR"), "/pdfjs.rs"));

/// `/assets/pdfjs/{*file}`: the PDF viewer's library, worker, CMaps, fonts and decoders (pdfjs-dist from
/// npm, embedded by build.rs). Public like the other assets: they are the same for everyone.
pub async fn serve_pdfjs(Path(file): Path<String>) -> Response {
    let Some((_, bytes)) = PDFJS.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match file.rsplit('.').next() {
        Some("mjs" | "js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("ttf") => "font/ttf",
        _ => "application/octet-stream",
    };
    let mut resp = bytes.to_vec().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

/// Whether pdf.js was embedded (a PDF material is drawn on its page; otherwise only offered as a download).
pub fn has_pdfjs() -> bool {
    !PDFJS.is_empty()
}

/// Whether htmx was embedded (the layout leaves the script tag out otherwise).
pub fn has_htmx() -> bool {
    !HTMX.is_empty()
}

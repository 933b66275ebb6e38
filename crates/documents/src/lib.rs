//! Documents: the leaf crate that holds the format libraries (architecture.md §3), so that an edit
//! anywhere else never recompiles them. Today: QR codes as SVG, for the authenticator enrolment and,
//! later, meeting sign-in; spreadsheets ([`sheet`]: xlsx and CSV in and out) for the register import
//! and export; PDF ([`pdf`]: letters, certificates, a member's copy of her data) set in the system's Noto CJK
//! fonts; the text of an uploaded PDF ([`pdf_text`]) for the search index; the declarations of a ZIP container
//! ([`archive`]) for the upload checks (AT-21).

pub mod archive;
pub mod pdf;
pub mod pdf_text;
pub mod romanize;
pub mod sheet;

/// The one error type of this crate.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("QR code: {0}")]
    Qr(String),
    /// A spreadsheet that cannot be read or written; the text is Chinese, for the person who uploaded it.
    #[error("{0}")]
    Sheet(String),
    /// The CJK fonts are missing or unreadable; the text names the package to install.
    #[error("{0}")]
    Font(String),
    /// krilla could not write the PDF.
    #[error("PDF: {0}")]
    Pdf(String),
    /// A ZIP container that cannot be read or holds too much; the text is Chinese.
    #[error("{0}")]
    Archive(String),
}

pub mod qr {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};

    use crate::DocumentError;

    /// `text` as a QR code in an inline SVG element (no script, no external reference: fits the
    /// `default-src 'self'` content security policy), `size` pixels wide at least.
    pub fn svg(text: &str, size: u32) -> Result<String, DocumentError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| DocumentError::Qr(e.to_string()))?;
        let image = code
            .render::<svg::Color<'_>>()
            .min_dimensions(size, size)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build();
        // Drop the XML declaration: the SVG goes inline into an HTML page.
        Ok(match image.find("<svg") {
            Some(i) => image[i..].to_string(),
            None => image,
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn renders_an_inline_svg() {
            let s = super::svg("otpauth://totp/dangjian:admin?secret=GEZDGNBVGY3TQOJQ", 200).unwrap();
            assert!(s.starts_with("<svg") && s.contains("<path") && !s.contains("<?xml"));
            assert!(!s.contains("<script"));
        }
    }
}

//! What a ZIP container (DOCX, XLSX) declares about its entries, read from the central directory only:
//! nothing is ever inflated here. The upload checks of the platform (`platform::files`, security.md AT-21)
//! judge these declarations — names, declared sizes, encryption — so a zip bomb is refused before a single
//! byte of it is expanded. Also: strict text decoding for uploads of plain text, and [`write`], which packs
//! a few generated files into one ZIP (a member's copy of her data, PIPL 第四十五条).

use std::io::Cursor;

use crate::DocumentError;

/// One entry of a ZIP archive as its central directory declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name as stored (a path inside the archive; never used as a path on disk).
    pub name: String,
    /// Declared size once inflated.
    pub size: u64,
    /// Size as stored.
    pub compressed_size: u64,
    pub encrypted: bool,
}

fn broken() -> DocumentError {
    DocumentError::Archive("文件已损坏，无法识别其中的内容".into())
}

/// The entries of the ZIP archive `bytes`, at most `max_entries` (more is an error: a document has a few
/// dozen). Reads the central directory; inflates nothing.
pub fn entries(bytes: &[u8], max_entries: usize) -> Result<Vec<Entry>, DocumentError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| broken())?;
    if zip.len() > max_entries {
        return Err(DocumentError::Archive(format!("压缩包内文件过多（{}个），不予接收", zip.len())));
    }
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(|_| broken())?;
        out.push(Entry {
            name: e.name().map_err(|_| broken())?.into_owned(),
            size: e.size(),
            compressed_size: e.compressed_size(),
            encrypted: e.encrypted(),
        });
    }
    Ok(out)
}

/// A ZIP archive holding `files` (name inside the archive, bytes), deflated, in the order given.
pub fn write(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, DocumentError> {
    use std::io::Write;
    let failed = |e: &dyn std::fmt::Display| DocumentError::Archive(format!("无法生成压缩包：{e}"));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).map_err(|e| failed(&e))?;
        zip.write_all(bytes).map_err(|e| failed(&e))?;
    }
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

/// Text as a person saves it: UTF-8 (with or without a BOM), or GB18030/GBK (what Notepad on a Chinese
/// Windows writes). `None` when the bytes are neither, strictly (no replacement characters).
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Some(s.to_string());
    }
    encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes).map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn text_is_utf8_or_gb18030_strictly() {
        assert_eq!(decode_text("思想汇报".as_bytes()).as_deref(), Some("思想汇报"));
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc").as_deref(), Some("abc"));
        let (gbk, _, _) = encoding_rs::GB18030.encode("入党申请书");
        assert_eq!(decode_text(&gbk).as_deref(), Some("入党申请书"));
        assert_eq!(decode_text(&[0x81, 0x20, 0xFF]), None);
    }

    #[test]
    fn writes_an_archive_that_reads_back() {
        let files = vec![
            ("副本/说明.html".to_string(), "<p>您好</p>".as_bytes().to_vec()),
            ("a.csv".into(), b"x,y\n".to_vec()),
        ];
        let bytes = write(&files).unwrap();
        let listed = entries(&bytes, 10).unwrap();
        assert_eq!(listed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["副本/说明.html", "a.csv"]);
        assert_eq!(listed[0].size, "<p>您好</p>".len() as u64);
        assert!(!listed.iter().any(|e| e.encrypted));
    }

    #[test]
    fn garbage_is_not_an_archive() {
        assert!(entries(b"PK\x03\x04 not really a zip", 10).is_err());
        assert!(entries(b"", 10).is_err());
    }
}

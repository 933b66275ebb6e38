//! The attachment store: files that people upload (入党申请书, 政审材料, minutes, photos) kept in the
//! database — so several instances on one PostgreSQL share them and a backup holds them — with their
//! checked type, size, SHA-256, who uploaded them, what they are attached to and the organization's path.
//!
//! Security.md AT-21, all decided here before anything is stored:
//! * larger than [`MAX_UPLOAD_BYTES`] (25 MB) → refused (the web layer raises its 2 MiB body limit only on
//!   the routes listed in `web::files::UPLOAD_ROUTES`);
//! * the type is decided by the bytes (magic numbers), never by the name or the declared type, against an
//!   allow-list ([`FileType`]): PDF, PNG, JPEG, DOCX and XLSX (ZIP containers with the right entries),
//!   plain text (UTF-8 or GB18030). Anything else — an `.exe` renamed `.pdf`, an old `.doc`, a `.zip`, a
//!   macro-enabled workbook — is refused; so is a name whose extension disagrees with the content;
//! * ZIP containers are judged from their central directory before a byte is inflated: too many entries,
//!   a declared total beyond [`MAX_EXPANDED_BYTES`], a compression ratio beyond [`MAX_RATIO`] or an
//!   encrypted entry → refused (zip bomb);
//! * the EICAR anti-virus test string anywhere in the bytes → refused as malware; when ClamAV's clamd is
//!   configured ([`crate::clamd`]), every upload that passed these checks is scanned by it too
//!   (`Platform::check_upload`), which also finds what sits inside a DOCX/XLSX's deflated entries;
//! * PDFs with JavaScript or launch actions, and images whose pixel count would explode when decoded, are
//!   refused;
//! * the name is neutralised ([`safe_name`]): no directories (`../../x` → `x`), no control or
//!   direction-override characters, no characters Windows forbids, no leading dot, at most 80 characters.
//!
//! Downloads (`web::files::download`) are always `Content-Disposition: attachment`, `nosniff`, the type
//! of the allow-list (never the uploader's), a sandboxing CSP, from a handler that streams bytes out of the
//! database — nothing is ever written to a directory a web server could execute.
//!
//! Who may upload or download is the owning application's decision (a development step's attachments
//! follow `DevelopmentRead` / `DevelopmentWrite`, a meeting's `MeetingRead` / `MeetingWrite`): it checks the
//! caller against the owner, then calls [`Platform::attach`] inside its own transaction (so a refused step
//! stores no file) and [`Platform::attachment`] with the same owner (so an attachment id of another owner
//! is not found). See docs/ARCHITECTURE.md "Attachments".

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::code_list;

/// The largest file accepted (security.md AT-21).
pub const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;
/// The most a DOCX/XLSX may declare once inflated, all entries together.
pub const MAX_EXPANDED_BYTES: u64 = 100 * 1024 * 1024;
/// The highest compression ratio of one entry larger than [`RATIO_FLOOR`] (XML compresses 10–20×; a bomb
/// thousands of times).
pub const MAX_RATIO: u64 = 100;
/// Entries smaller than this are not judged by their ratio (a few KB of repeated XML may compress well).
pub const RATIO_FLOOR: u64 = 1024 * 1024;
/// The most entries of a DOCX/XLSX.
pub const MAX_ZIP_ENTRIES: usize = 5_000;
/// The most pixels of an image (about 100 megapixels: far beyond any scan or phone photo).
pub const MAX_PIXELS: u64 = 100_000_000;
/// The longest stored file name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// The most attachments one owner (a step, a meeting) holds.
pub const MAX_PER_OWNER: i64 = 20;

code_list! {
    /// What an upload may be: the allow-list of AT-21, decided from the bytes.
    FileType {
        Pdf = "pdf", "PDF文档";
        Png = "png", "PNG图片";
        Jpeg = "jpeg", "JPEG图片";
        Docx = "docx", "Word文档";
        Xlsx = "xlsx", "Excel工作簿";
        Text = "text", "纯文本";
    }
}

impl FileType {
    /// The type a download is served as (never what the uploader declared).
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            // Stored as uploaded (UTF-8 or GB18030): the browser is told to download, not to render it.
            FileType::Text => "text/plain",
        }
    }

    /// The extensions a name of this type may carry; the first is the one added to a name without any.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Png => &["png"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Docx => &["docx"],
            FileType::Xlsx => &["xlsx"],
            FileType::Text => &["txt", "csv"],
        }
    }
}

/// Why an upload was refused, with the Chinese sentence the uploader reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("文件为空")]
    Empty,
    #[error("文件超过25MB，请压缩或拆分后上传")]
    TooLarge,
    #[error(
        "不支持的文件类型：只接收 PDF、JPG/PNG 图片、Word（.docx）、Excel（.xlsx）和纯文本文件（按文件内容识别，不看扩展名）"
    )]
    NotAllowed,
    #[error("旧版 Office 文件（.doc/.xls）不予接收，请另存为 .docx 或 .xlsx 后上传")]
    OldOffice,
    #[error("文件扩展名“.{ext}”与文件内容（{actual}）不符，请确认文件后重新上传")]
    ExtensionMismatch { ext: String, actual: &'static str },
    #[error("含宏的 Office 文件不予接收，请另存为不含宏的 .docx/.xlsx 后上传")]
    Macro,
    #[error("压缩内容解开后过大或压缩比异常（疑似“压缩炸弹”），不予接收")]
    ZipBomb,
    #[error("文件已加密或设置了打开密码，请去除密码后上传")]
    Encrypted,
    #[error("文件检出病毒或测试病毒特征，已拒绝")]
    Malware,
    /// clamd found a signature (crate::clamd): its name is in the sentence.
    #[error("文件检出病毒（{0}），已拒绝，文件未保存")]
    Virus(String),
    #[error("PDF 中含有脚本或启动外部程序的动作，出于安全原因不予接收；请用“打印为PDF”另存后上传")]
    ActivePdf,
    #[error("图片尺寸过大（超过1亿像素），请缩小后上传")]
    HugeImage,
    #[error("文件已损坏，无法识别其中的内容")]
    Corrupt,
}

/// An upload that passed every check of AT-21: what will be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub file_type: FileType,
    /// The neutralised name, with an extension that matches the content.
    pub name: String,
    pub size: i64,
    pub sha256: [u8; 32],
}

/// What an attachment is attached to: a kind of record (`development_step`, `meeting`, …) and its id. The
/// owning application decides who may see it; every read names the owner, so an attachment of another
/// owner is not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner<'a> {
    /// A stable code of the owning record's kind, e.g. `development_step`.
    pub kind: &'a str,
    pub id: i64,
    /// The organization's materialised path the owner belongs to now (for subtree listings and reports).
    pub org_path: &'a str,
    /// The person the file is about, if any: it goes into her copy of her data (PIPL 第四十五条).
    pub person_id: Option<i64>,
}

/// An attachment as lists and the API show it (never its bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttachmentMeta {
    pub id: i64,
    #[serde(skip)]
    pub owner_kind: String,
    #[serde(skip)]
    pub owner_id: i64,
    /// The neutralised file name.
    pub name: String,
    /// `pdf`, `png`, `jpeg`, `docx`, `xlsx` or `text`: decided from the content.
    pub file_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    #[sqlx(skip)]
    pub sha256: String,
    #[serde(skip)]
    pub sha256_raw: Vec<u8>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The signature a rescan found in it (`dangjian uploads rescan`, security.md AT-21): the file is
    /// quarantined — kept, never downloaded. Absent for a file that is not.
    #[sqlx(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_signature: Option<String>,
}

impl AttachmentMeta {
    /// The type label in Chinese ("PDF文档").
    pub fn type_label(&self) -> &'static str {
        FileType::parse(&self.file_type).map(FileType::label).unwrap_or("文件")
    }

    /// The size for people: "312 KB", "4.2 MB".
    pub fn size_label(&self) -> String {
        size_label(self.size)
    }

    pub fn finish(mut self) -> AttachmentMeta {
        self.sha256 = hex::encode(&self.sha256_raw);
        self
    }
}

/// A file's size for people: "312 KB" (at least 1), "4.2 MB".
pub fn size_label(bytes: i64) -> String {
    let s = bytes.max(0) as f64;
    if s < 1024.0 * 1024.0 {
        format!("{} KB", ((s / 1024.0).ceil() as i64).max(1))
    } else {
        format!("{:.1} MB", s / 1024.0 / 1024.0)
    }
}

/// An attachment with its bytes, for a download.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub meta: AttachmentMeta,
    pub file_type: FileType,
    pub content: Vec<u8>,
}

/// The EICAR anti-virus test file's signature, in two halves so that this source file is not itself flagged
/// by a scanner on a developer's machine.
const EICAR: [&[u8]; 2] = [b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn has_eicar(bytes: &[u8]) -> bool {
    let sig: Vec<u8> = EICAR.concat();
    contains(bytes, &sig)
}

/// Every check of AT-21 on one upload: size, malware signature, type by content, container declarations,
/// active content, image dimensions, and the name. Pure: the same bytes always get the same answer.
pub fn check(name: &str, bytes: &[u8]) -> Result<Checked, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(Refusal::TooLarge);
    }
    if has_eicar(bytes) {
        return Err(Refusal::Malware);
    }
    let file_type = sniff(bytes)?;
    match file_type {
        FileType::Pdf if contains(bytes, b"/JavaScript") || contains(bytes, b"/Launch") => {
            return Err(Refusal::ActivePdf);
        }
        FileType::Png | FileType::Jpeg => {
            let (w, h) = image_size(file_type, bytes).ok_or(Refusal::Corrupt)?;
            if w == 0 || h == 0 {
                return Err(Refusal::Corrupt);
            }
            if u64::from(w) * u64::from(h) > MAX_PIXELS {
                return Err(Refusal::HugeImage);
            }
        }
        _ => {}
    }
    let name = name_for(name, file_type)?;
    Ok(Checked { file_type, name, size: bytes.len() as i64, sha256: Sha256::digest(bytes).into() })
}

/// The type of the bytes, from their content alone.
fn sniff(bytes: &[u8]) -> Result<FileType, Refusal> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(FileType::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileType::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileType::Jpeg);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Refusal::OldOffice);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office(bytes);
    }
    if looks_like_text(bytes) {
        return Ok(FileType::Text);
    }
    Err(Refusal::NotAllowed)
}

/// Plain text: no NUL or other control characters besides tab, line breaks and form feed, and valid UTF-8
/// or GB18030.
fn looks_like_text(bytes: &[u8]) -> bool {
    let controls = bytes.iter().any(|b| (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || *b == 0x7F);
    !controls && documents::archive::decode_text(bytes).is_some()
}

/// A DOCX or XLSX, judged by the declarations of its central directory (nothing is inflated).
fn office(bytes: &[u8]) -> Result<FileType, Refusal> {
    let entries = documents::archive::entries(bytes, MAX_ZIP_ENTRIES).map_err(|_| Refusal::Corrupt)?;
    let mut total: u64 = 0;
    for e in &entries {
        if e.encrypted {
            return Err(Refusal::Encrypted);
        }
        total = total.saturating_add(e.size);
        if total > MAX_EXPANDED_BYTES {
            return Err(Refusal::ZipBomb);
        }
        if e.size > RATIO_FLOOR && e.size / e.compressed_size.max(1) > MAX_RATIO {
            return Err(Refusal::ZipBomb);
        }
    }
    let has = |n: &str| entries.iter().any(|e| e.name == n);
    if entries.iter().any(|e| e.name.to_ascii_lowercase().ends_with("vbaproject.bin")) {
        return Err(Refusal::Macro);
    }
    if !has("[Content_Types].xml") {
        return Err(Refusal::NotAllowed);
    }
    if has("word/document.xml") {
        Ok(FileType::Docx)
    } else if has("xl/workbook.xml") {
        Ok(FileType::Xlsx)
    } else {
        Err(Refusal::NotAllowed)
    }
}

/// Width and height of a PNG (IHDR) or JPEG (the first SOF marker).
fn image_size(t: FileType, b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u32::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])));
    let be32 = |i: usize| Some(u32::from_be_bytes([*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, *b.get(i + 3)?]));
    match t {
        FileType::Png => (b.get(12..16)? == b"IHDR").then_some((be32(16)?, be32(20)?)),
        FileType::Jpeg => {
            let mut i = 2;
            loop {
                // Markers may be padded with 0xFF fill bytes.
                while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
                    i += 1;
                }
                if *b.get(i)? != 0xFF {
                    return None;
                }
                let marker = *b.get(i + 1)?;
                let len = be16(i + 2)? as usize;
                match marker {
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                        return Some((be16(i + 7)?, be16(i + 5)?));
                    }
                    0xD9 | 0xDA => return None, // end of image or start of scan before any frame header
                    _ => i += 2 + len,
                }
            }
        }
        _ => None,
    }
}

/// The extension of a name, when it looks like one (1–5 ASCII letters or digits after the last dot).
fn extension(name: &str) -> Option<&str> {
    let (_, ext) = name.rsplit_once('.')?;
    (1..=5).contains(&ext.len()).then_some(ext).filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The stored name: neutralised, and carrying an extension of the content's type (added when the name has
/// none; a different one is refused).
fn name_for(raw: &str, t: FileType) -> Result<String, Refusal> {
    let mut name = safe_name(raw);
    match extension(&name).map(str::to_ascii_lowercase) {
        Some(ext) if t.extensions().contains(&ext.as_str()) => {}
        Some(ext) => return Err(Refusal::ExtensionMismatch { ext, actual: t.label() }),
        None => {
            let ext = t.extensions()[0];
            let keep = MAX_NAME_CHARS - ext.len() - 1;
            if name.chars().count() > keep {
                name = name.chars().take(keep).collect();
            }
            name = format!("{name}.{ext}");
        }
    }
    Ok(name)
}

/// A file name that is safe to store and to send back in a `Content-Disposition`: the last path component
/// only, without control, zero-width or direction-override characters, without the characters Windows
/// forbids, without leading dots or trailing dots and spaces, not a Windows device name, at most
/// [`MAX_NAME_CHARS`] characters (the extension kept), and "附件" when nothing is left.
pub fn safe_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | ';') { '_' } else { c })
        .collect();
    let mut name = cleaned.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).trim().to_string();
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        name = format!("_{name}");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        name = match extension(&name) {
            Some(ext) => {
                let ext = ext.to_string();
                let stem: String = name.chars().take(MAX_NAME_CHARS - ext.len() - 1).collect();
                format!("{stem}.{ext}")
            }
            None => name.chars().take(MAX_NAME_CHARS).collect(),
        };
    }
    if name.is_empty() { "附件".into() } else { name }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A ZIP archive built by hand: `(name, stored bytes, method, declared size)` per entry. The declared
    /// sizes are written as given, so a test can describe what a bomb declares without building one.
    pub(crate) fn zip(entries: &[(&str, &[u8], u16, u32)]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut crc = 0xFFFF_FFFFu32;
            for b in data {
                crc ^= u32::from(*b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                }
            }
            !crc
        }
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data, method, size) in entries {
            let offset = out.len() as u32;
            let crc = crc32(data);
            let header = |sig: u32, central: bool| {
                let mut h = Vec::new();
                h.extend(sig.to_le_bytes());
                if central {
                    h.extend(20u16.to_le_bytes()); // made by
                }
                h.extend(20u16.to_le_bytes()); // needed
                h.extend(0u16.to_le_bytes()); // flags
                h.extend(method.to_le_bytes());
                h.extend([0u8; 4]); // time, date
                h.extend(crc.to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend(size.to_le_bytes());
                h.extend((name.len() as u16).to_le_bytes());
                h.extend(0u16.to_le_bytes()); // extra
                if central {
                    h.extend([0u8; 6]); // comment len, disk, internal attrs
                    h.extend(0u32.to_le_bytes()); // external attrs
                    h.extend(offset.to_le_bytes());
                }
                h.extend(name.as_bytes());
                h
            };
            out.extend(header(0x0403_4b50, false));
            out.extend(*data);
            central.extend(header(0x0201_4b50, true));
        }
        let cd_offset = out.len() as u32;
        out.extend(&central);
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    fn stored<'a>(name: &'a str, data: &'a [u8]) -> (&'a str, &'a [u8], u16, u32) {
        (name, data, 0, data.len() as u32)
    }

    pub(crate) fn docx() -> Vec<u8> {
        zip(&[stored("[Content_Types].xml", b"<Types/>"), stored("word/document.xml", b"<w:document/>")])
    }

    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        b.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
        b
    }

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

    #[test]
    fn the_allow_list_is_decided_by_the_content() {
        assert_eq!(check("入党申请书.pdf", PDF).unwrap().file_type, FileType::Pdf);
        assert_eq!(check("照片.PNG", &png(800, 600)).unwrap().file_type, FileType::Png);
        assert_eq!(check("照片.jpeg", &jpeg(1024, 768)).unwrap().file_type, FileType::Jpeg);
        assert_eq!(check("政审材料.docx", &docx()).unwrap().file_type, FileType::Docx);
        let xlsx = zip(&[stored("[Content_Types].xml", b"<Types/>"), stored("xl/workbook.xml", b"<workbook/>")]);
        assert_eq!(check("名单.xlsx", &xlsx).unwrap().file_type, FileType::Xlsx);
        assert_eq!(check("思想汇报.txt", "坚定理想信念。".as_bytes()).unwrap().file_type, FileType::Text);
        let gbk = [0xC8, 0xEB, 0xB5, 0xB3]; // "入党" saved as GBK by Notepad
        assert_eq!(check("汇报.txt", &gbk).unwrap().file_type, FileType::Text);
        let c = check("入党申请书.pdf", PDF).unwrap();
        assert_eq!(c.size, PDF.len() as i64);
        assert_eq!(hex::encode(c.sha256), hex::encode(Sha256::digest(PDF)));
    }

    #[test]
    fn an_exe_renamed_pdf_is_refused() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode";
        assert_eq!(check("申请书.pdf", exe), Err(Refusal::NotAllowed));
        let elf = b"\x7fELF\x02\x01\x01\x00";
        assert_eq!(check("a.txt", elf), Err(Refusal::NotAllowed));
        // A script is text, but its extension gives it away; a PDF named .exe is refused too.
        assert_eq!(
            check("run.sh", b"#!/bin/sh\nrm -rf /\n"),
            Err(Refusal::ExtensionMismatch { ext: "sh".into(), actual: "纯文本" })
        );
        assert_eq!(check("报告.exe", PDF), Err(Refusal::ExtensionMismatch { ext: "exe".into(), actual: "PDF文档" }));
        assert!(check("page.html", b"<script>alert(1)</script>").unwrap_err().to_string().contains(".html"));
        assert_eq!(check("a.svg", b"<svg onload=alert(1)>").map(|c| c.file_type).ok(), None);
        // Containers that are not the two allowed ones.
        let plain_zip = zip(&[stored("a.txt", b"x")]);
        assert_eq!(check("a.docx", &plain_zip), Err(Refusal::NotAllowed));
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert_eq!(check("旧版.doc", &ole), Err(Refusal::OldOffice));
        let macro_book = zip(&[
            stored("[Content_Types].xml", b"<Types/>"),
            stored("xl/workbook.xml", b"<workbook/>"),
            stored("xl/vbaProject.bin", b"\0\0"),
        ]);
        assert_eq!(check("名单.xlsx", &macro_book), Err(Refusal::Macro));
    }

    #[test]
    fn size_limits() {
        assert_eq!(check("a.txt", b""), Err(Refusal::Empty));
        let mut big = vec![b'a'; MAX_UPLOAD_BYTES + 1];
        assert_eq!(check("a.txt", &big), Err(Refusal::TooLarge));
        big.truncate(MAX_UPLOAD_BYTES);
        assert_eq!(check("a.txt", &big).unwrap().size, MAX_UPLOAD_BYTES as i64, "exactly 25 MB is accepted");
    }

    #[test]
    fn a_zip_bomb_is_refused_from_its_declarations() {
        // 1 MB stored that declares 2 GB once inflated (method 8, deflate): never inflated, refused.
        let filler = vec![0u8; 1024 * 1024];
        let bomb = zip(&[
            stored("[Content_Types].xml", b"<Types/>"),
            stored("word/document.xml", b"<w:document/>"),
            ("word/media/big.bin", &filler, 8, 2_000_000_000),
        ]);
        assert!(bomb.len() < 1_100_000);
        assert_eq!(check("bomb.docx", &bomb), Err(Refusal::ZipBomb));
        // Many entries that together declare more than the total.
        let small = vec![0u8; 1000];
        let parts: Vec<(String, Vec<u8>)> = (0..120).map(|i| (format!("word/media/{i}.bin"), small.clone())).collect();
        let mut entries: Vec<(&str, &[u8], u16, u32)> =
            vec![stored("[Content_Types].xml", b"<Types/>"), stored("word/document.xml", b"<w:document/>")];
        entries.extend(parts.iter().map(|(n, d)| (n.as_str(), d.as_slice(), 8u16, 1_000_000u32)));
        assert_eq!(check("many.docx", &zip(&entries)), Err(Refusal::ZipBomb), "120 MB declared in all");
        // One entry whose ratio gives it away although the total is modest.
        let dense = vec![0u8; 10 * 1024];
        let ratio = zip(&[
            stored("[Content_Types].xml", b"<Types/>"),
            stored("word/document.xml", b"<w:document/>"),
            ("word/media/x.bin", &dense, 8, 50 * 1024 * 1024),
        ]);
        assert_eq!(check("ratio.docx", &ratio), Err(Refusal::ZipBomb), "ratio 5000");
        // An honest document with an image (ratio 1) passes.
        let ok = zip(&[
            stored("[Content_Types].xml", b"<Types/>"),
            stored("word/document.xml", b"<w:document/>"),
            ("word/media/photo.jpeg", &filler, 8, 1024 * 1024 + 10),
        ]);
        assert_eq!(check("ok.docx", &ok).unwrap().file_type, FileType::Docx);
    }

    #[test]
    fn the_eicar_test_file_is_refused() {
        let eicar: Vec<u8> = EICAR.concat();
        assert_eq!(check("eicar.txt", &eicar), Err(Refusal::Malware));
        let mut inside = PDF.to_vec();
        inside.extend(&eicar);
        assert_eq!(check("a.pdf", &inside), Err(Refusal::Malware));
        let in_zip = zip(&[stored("[Content_Types].xml", b"<Types/>"), stored("word/document.xml", &eicar)]);
        assert_eq!(check("a.docx", &in_zip), Err(Refusal::Malware), "a stored entry is scanned as it lies");
    }

    #[test]
    fn active_pdfs_and_pixel_floods_are_refused() {
        let js = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n";
        assert_eq!(check("a.pdf", js), Err(Refusal::ActivePdf));
        assert_eq!(check("a.pdf", b"%PDF-1.4\n<< /S /Launch /F (cmd.exe) >>"), Err(Refusal::ActivePdf));
        assert_eq!(check("a.png", &png(50_000, 50_000)), Err(Refusal::HugeImage));
        assert_eq!(check("a.jpg", &jpeg(60_000, 60_000)), Err(Refusal::HugeImage));
        assert_eq!(check("a.png", b"\x89PNG\r\n\x1a\nbroken"), Err(Refusal::Corrupt));
        assert_eq!(check("a.jpg", &[0xFF, 0xD8, 0xFF, 0xD9]), Err(Refusal::Corrupt));
    }

    #[test]
    fn names_are_neutralised() {
        assert_eq!(safe_name("../../x"), "x");
        assert_eq!(safe_name("..\\..\\windows\\system32\\cmd.pdf"), "cmd.pdf");
        assert_eq!(safe_name("/etc/passwd"), "passwd");
        assert_eq!(safe_name(".htaccess"), "htaccess");
        assert_eq!(safe_name("...."), "附件");
        assert_eq!(safe_name(""), "附件");
        assert_eq!(safe_name("a\u{0}b\r\nc.pdf"), "abc.pdf");
        assert_eq!(safe_name("申请书\u{202E}fdp.exe"), "申请书fdp.exe", "no right-to-left override");
        assert_eq!(safe_name("a<b>c:d\"e|f?g*h;.pdf"), "a_b_c_d_e_f_g_h_.pdf");
        assert_eq!(safe_name("CON.txt"), "_CON.txt");
        assert_eq!(safe_name("com1"), "_com1");
        assert_eq!(safe_name("report. "), "report");
        let long = format!("{}.pdf", "长".repeat(200));
        let s = safe_name(&long);
        assert_eq!(s.chars().count(), MAX_NAME_CHARS);
        assert!(s.ends_with(".pdf"));
        // The stored name carries the content's extension.
        assert_eq!(check("../../x", PDF).unwrap().name, "x.pdf");
        assert_eq!(check("张三 2025.3.1 思想汇报", "内容".as_bytes()).unwrap().name, "张三 2025.3.1 思想汇报.txt");
        assert_eq!(check("photo.JPG", &jpeg(10, 10)).unwrap().name, "photo.JPG");
    }

    #[test]
    fn sizes_read_like_people_say_them() {
        let m = |size| AttachmentMeta {
            id: 1,
            owner_kind: String::new(),
            owner_id: 1,
            name: "a".into(),
            file_type: "pdf".into(),
            size,
            sha256: String::new(),
            sha256_raw: Vec::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            quarantine_signature: None,
        };
        assert_eq!(m(100).size_label(), "1 KB");
        assert_eq!(m(312 * 1024).size_label(), "312 KB");
        assert_eq!(m(4_404_019).size_label(), "4.2 MB");
        assert_eq!(m(1).type_label(), "PDF文档");
    }
}

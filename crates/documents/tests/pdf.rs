//! PDF rendering with the system's Noto CJK fonts (Debian: fonts-noto-cjk; .ci/run installs it, and
//! poppler-utils for `pdftotext`, which reads the text back as any PDF reader would).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use documents::pdf::{Block, Document, Fonts, Options, Qr, render, render_with};

fn letter(name: &str) -> Document {
    Document {
        title: "中国共产党党员组织关系介绍信".into(),
        author: Some("中共示范大学委员会".into()),
        footer: Some("编号 2025-0012 · 由 dangjian 生成".into()),
        blocks: vec![
            Block::Title("中国共产党党员组织关系介绍信".into()),
            Block::Right("编号：2025-0012".into()),
            Block::Text("中共某市某区委员会组织部：".into()),
            Block::Paragraph(format!(
                "{name}同志（女，24岁，汉族），身份证号码110101********1234，系中共正式党员，由中共示范大学\
                 信息学院委员会转去你处，请接转组织关系。该同志党费已交到2025年6月。"
            )),
            Block::Text("（有效期30天）".into()),
            Block::Fields {
                columns: 2,
                items: vec![
                    ("姓名".into(), name.into()),
                    ("性别".into(), "女".into()),
                    ("党员身份".into(), "正式党员".into()),
                    ("党费交至".into(), "2025年6月".into()),
                ],
            },
            Block::Signature {
                lines: vec!["中共示范大学委员会组织部".into(), "2025年7月1日".into()],
                seal: true,
                qr: Some(Qr {
                    payload: "https://dj.example.edu/verify/letter/2025-0012".into(),
                    caption: "扫码核验".into(),
                }),
            },
            Block::CutLine("回执（沿虚线剪下寄回）".into()),
            Block::Table {
                headers: vec!["日期".into(), "事项".into()],
                rows: vec![vec!["2025-07-01".into(), "开具介绍信".into()]],
            },
        ],
    }
}

#[test]
fn a_letter_with_chinese_text_is_a_valid_pdf_that_names_the_person() {
    let fonts = Fonts::load(None).expect("Noto CJK fonts (apt-get install fonts-noto-cjk)");
    let pdf = render(&letter("欧阳晓燕"), &fonts).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "header");
    assert!(pdf.windows(5).rev().take(64).any(|w| w == b"%%EOF"), "trailer");
    // A subset is embedded, not the 20 MB font.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());

    // Uncompressed, the ToUnicode map that makes the text extractable carries every character of the name.
    let raw = render_with(&letter("欧阳晓燕"), &fonts, Options { compress: false }).unwrap();
    let text = String::from_utf8_lossy(&raw).to_uppercase();
    assert!(text.contains("/TOUNICODE"), "a ToUnicode map");
    for c in "欧阳晓燕".chars() {
        assert!(text.contains(&format!("{:04X}", c as u32)), "{c} in the ToUnicode map");
    }
}

/// The text of a PDF as `pdftotext` reads it.
pub fn pdftotext(pdf: &[u8], tag: &str) -> String {
    let dir = std::env::temp_dir().join(format!("dj-pdf-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils; .ci/run installs it)");
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pdftotext_reads_the_name_back() {
    let fonts = Fonts::load(None).expect("Noto CJK fonts (apt-get install fonts-noto-cjk)");
    let text = pdftotext(&render(&letter("欧阳晓燕"), &fonts).unwrap(), "letter");
    for needle in ["中国共产党党员组织关系介绍信", "欧阳晓燕", "2025年7月1日", "回执"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert!(!text.contains("第1页") && !text.contains("第 1 页"), "one page, no page numbers");
}

#[test]
fn render_a_sample_for_the_eye() {
    // DJ_PDF_SAMPLE=/tmp/x.pdf writes the letter for a look (pdftoppm -png); otherwise checks it renders.
    let fonts = Fonts::load(None).unwrap();
    let pdf = render(&letter("欧阳晓燕"), &fonts).unwrap();
    if let Ok(path) = std::env::var("DJ_PDF_SAMPLE") {
        std::fs::write(path, &pdf).unwrap();
    }
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn a_long_document_runs_over_pages_and_numbers_them() {
    let fonts = Fonts::load(None).unwrap();
    let rows: Vec<Vec<String>> = (1..=120)
        .map(|i| vec![format!("2025-{:02}-01", i % 12 + 1), format!("第{i}条记录：参加支部党员大会")])
        .collect();
    let doc = Document {
        title: "个人信息副本".into(),
        blocks: vec![
            Block::Title("个人信息副本".into()),
            Block::Table { headers: vec!["日期".into(), "事项".into()], rows },
        ],
        ..Document::default()
    };
    let text = pdftotext(&render(&doc, &fonts).unwrap(), "long");
    // pdftotext drops the spaces of "第 1 页 / 共 5 页".
    let flat: String = text.split_whitespace().collect();
    assert!(flat.contains("第1页/共5页") && flat.contains("第5页/共5页"), "{text}");
    assert!(text.contains("第120条记录"), "the last row is there");
    // The header row is repeated on every page the table runs over.
    assert!(text.matches("事项").count() >= 4, "{text}");
}

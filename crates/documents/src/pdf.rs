//! PDF documents with Chinese text: letters, certificates, a member's copy of her data.
//!
//! A [`Document`] is a list of generic [`Block`]s (titles, paragraphs, a grid of labelled fields, a table,
//! the signature and seal area with an optional verification QR code, a cut line between the parts of a
//! three-part form); [`render`] lays them out on A4 pages and writes the PDF with krilla, which embeds only
//! the glyphs used (a subset of a few kilobytes instead of the 20 MB font) and a ToUnicode map, so the text
//! can be searched and copied.
//!
//! Fonts are not shipped with dangjian: [`Fonts::load`] finds the Noto CJK fonts of the system (Debian's
//! package `fonts-noto-cjk`, in `/usr/share/fonts/opentype/noto`, or the directory the operator names) and
//! fails with a message naming the package when they are missing. The body is set in Noto Serif CJK SC
//! (宋体-like, as official letters are), titles and labels in Noto Sans CJK SC Bold (黑体-like); when only
//! one family is installed it serves both.
//!
//! Layout is done here, not by krilla: each character is mapped to its glyph and advance through the font's
//! own tables (skrifa), so what is measured is exactly what is drawn. Lines break between any two CJK
//! characters and at spaces between Latin words, never before closing punctuation nor after an opening one
//! (the usual 避头尾 rules). A block that does not fit continues on the next page; every page gets its
//! number when there is more than one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::{FontRef, MetadataProvider, string::StringId};

use crate::DocumentError;

/// Where the fonts are looked for when no directory is configured (Debian and Ubuntu first, then the
/// paths other distributions use for the same fonts).
pub const FONT_DIRS: &[&str] = &[
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/local/share/fonts",
];

/// The Debian package that provides the fonts (named in the error when they are missing).
pub const FONT_PACKAGE: &str = "fonts-noto-cjk";

const SERIF_REGULAR: &[&str] = &["NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular.otf", "NotoSerifSC-Regular.otf"];
const SANS_REGULAR: &[&str] = &["NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf"];
const SANS_BOLD: &[&str] = &["NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf"];
const SERIF_BOLD: &[&str] = &["NotoSerifCJK-Bold.ttc", "NotoSerifCJKsc-Bold.otf", "NotoSerifSC-Bold.otf"];

/// One face of a font file, with what layout needs to measure text.
#[derive(Clone)]
struct Face {
    font: Font,
    data: Arc<Vec<u8>>,
    index: u32,
    units_per_em: f32,
    file: PathBuf,
}

impl Face {
    /// The Simplified-Chinese face of the file at `path` (in a collection, the face whose family ends in
    /// "SC"; a single font is taken as it is).
    fn open(path: &Path) -> Result<Face, DocumentError> {
        let bytes = std::fs::read(path)
            .map_err(|e| DocumentError::Font(format!("无法读取字体文件 {}：{e}", path.display())))?;
        let index = simplified_chinese_index(&bytes)
            .ok_or_else(|| DocumentError::Font(format!("字体文件 {} 不是可用的 OpenType 字体", path.display())))?;
        let data = Arc::new(bytes);
        let font = Font::new(data.clone().into(), index)
            .ok_or_else(|| DocumentError::Font(format!("字体文件 {} 无法解析", path.display())))?;
        Ok(Face { units_per_em: font.units_per_em(), font, data, index, file: path.to_path_buf() })
    }

    fn font_ref(&self) -> Option<FontRef<'_>> {
        FontRef::from_index(&self.data, self.index).ok()
    }

    /// The glyphs of `text` at `size` points and its width; characters the font lacks show as its .notdef
    /// glyph (and are still in the text layer).
    fn shape(&self, text: &str, size: f32) -> (Vec<KrillaGlyph>, f32) {
        let Some(font) = self.font_ref() else {
            return (Vec::new(), 0.0);
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let mut glyphs = Vec::with_capacity(text.len());
        let mut width = 0.0;
        for (at, ch) in text.char_indices() {
            let gid = charmap.map(ch).unwrap_or_default();
            let advance = metrics.advance_width(gid).unwrap_or(self.units_per_em) / self.units_per_em;
            width += advance * size;
            glyphs.push(KrillaGlyph {
                glyph_id: GlyphId::new(gid.to_u32()),
                text_range: at..at + ch.len_utf8(),
                x_advance: advance,
                x_offset: 0.0,
                y_offset: 0.0,
                y_advance: 0.0,
                location: None,
            });
        }
        (glyphs, width)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text, size).1
    }
}

/// In a font collection, the index of the Simplified-Chinese face; 0 for a single font.
fn simplified_chinese_index(bytes: &[u8]) -> Option<u32> {
    match FileRef::new(bytes).ok()? {
        FileRef::Font(_) => Some(0),
        FileRef::Collection(c) => {
            let family = |i: u32| -> Option<String> {
                let f = c.get(i).ok()?;
                let name = f.localized_strings(StringId::FAMILY_NAME).english_or_first()?;
                Some(name.chars().collect())
            };
            (0..c.len()).find(|i| family(*i).is_some_and(|n| n.ends_with(" SC"))).or((!c.is_empty()).then_some(0))
        }
    }
}

/// Fonts read once per process: the configured directory (`None`: the standard ones) and what it held.
type Loaded = (Option<PathBuf>, Arc<Fonts>);

/// The fonts a document is set in: `body` for running text and values, `bold` for titles and labels.
pub struct Fonts {
    body: Face,
    bold: Face,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").field("body", &self.body.file).field("bold", &self.bold.file).finish()
    }
}

impl Fonts {
    /// The Noto CJK fonts in `dir`, or in the first of [`FONT_DIRS`] that has them when `dir` is `None`.
    /// Files are read once per process and directory (about 20 MB each) and shared afterwards.
    pub fn load(dir: Option<&Path>) -> Result<Arc<Fonts>, DocumentError> {
        static LOADED: OnceLock<Mutex<Vec<Loaded>>> = OnceLock::new();
        let key = dir.map(Path::to_path_buf);
        let cache = LOADED.get_or_init(|| Mutex::new(Vec::new()));
        if let Ok(c) = cache.lock()
            && let Some((_, f)) = c.iter().find(|(k, _)| *k == key)
        {
            return Ok(f.clone());
        }
        let fonts = Arc::new(Self::open(dir)?);
        if let Ok(mut c) = cache.lock() {
            c.push((key, fonts.clone()));
        }
        Ok(fonts)
    }

    fn open(dir: Option<&Path>) -> Result<Fonts, DocumentError> {
        let dirs: Vec<PathBuf> = match dir {
            Some(d) => vec![d.to_path_buf()],
            None => FONT_DIRS.iter().map(PathBuf::from).collect(),
        };
        let find = |names: &[&str]| -> Option<PathBuf> {
            dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file())
        };
        let body_file = find(SERIF_REGULAR).or_else(|| find(SANS_REGULAR));
        let Some(body_file) = body_file else {
            let wher = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join("、");
            return Err(DocumentError::Font(format!(
                "找不到中文字体 Noto CJK（在 {wher} 中没有 {} 或 {}）。请安装 Debian 软件包 {FONT_PACKAGE}\
                 （apt-get install {FONT_PACKAGE}），或将字体目录设置为含有这些文件的目录（DANGJIAN_FONT_DIR）",
                SERIF_REGULAR[0], SANS_REGULAR[0]
            )));
        };
        let body = Face::open(&body_file)?;
        let bold = match find(SANS_BOLD).or_else(|| find(SERIF_BOLD)) {
            Some(f) => Face::open(&f)?,
            None => body.clone(),
        };
        Ok(Fonts { body, bold })
    }

    /// The files in use (for the system-status page and error reports).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v = vec![self.body.file.clone()];
        if self.bold.file != self.body.file {
            v.push(self.bold.file.clone());
        }
        v
    }
}

/// A document: its metadata and its blocks, in reading order.
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// The PDF's title (shown by viewers; not drawn — use [`Block::Title`]).
    pub title: String,
    /// Who made it (the issuing organization).
    pub author: Option<String>,
    /// A line at the foot of every page (for example the document's number).
    pub footer: Option<String>,
    pub blocks: Vec<Block>,
}

/// The pieces a document is made of.
#[derive(Clone, Debug)]
pub enum Block {
    /// Large, bold, centred.
    Title(String),
    /// Centred, regular (a subtitle, the form's number line).
    Centered(String),
    /// Aligned right (a number, a date).
    Right(String),
    /// A bold line on the left (a section's name).
    Heading(String),
    /// Running text, its first line indented by two characters (Chinese custom).
    Paragraph(String),
    /// Running text without indent (a salutation such as "中共××委员会：").
    Text(String),
    /// Small grey text (notes, instructions for filling in).
    Note(String),
    /// A bordered grid of label → value, `columns` pairs a row (1 or 2).
    Fields { columns: u8, items: Vec<(String, String)> },
    /// A bordered table with a header row; columns share the width by their content.
    Table { headers: Vec<String>, rows: Vec<Vec<String>> },
    /// The signature and seal area: `lines` aligned right (the issuing organization, the date), a dashed
    /// circle marking where the seal goes when `seal` is set, and a verification QR code on the left.
    Signature { lines: Vec<String>, seal: bool, qr: Option<Qr> },
    /// A QR code on its own, with its caption.
    Qr(Qr),
    /// A dashed line across the page with a label in the middle, between the parts of a form (存根, 回执).
    CutLine(String),
    /// Vertical space in points.
    Space(f32),
    /// The next block starts on a new page.
    PageBreak,
}

/// A QR code: what it encodes and the caption printed beside it.
#[derive(Clone, Debug)]
pub struct Qr {
    pub payload: String,
    pub caption: String,
}

/// How a PDF is written.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Compress the content streams (on for real documents; tests turn it off to read the text layer).
    pub compress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { compress: true }
    }
}

// A4 in points, and the margins (2.5 cm left and right, 2.2 cm top and bottom).
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 70.0;
const MARGIN_TOP: f32 = 62.0;
const MARGIN_BOTTOM: f32 = 62.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

const TITLE_SIZE: f32 = 20.0;
const HEADING_SIZE: f32 = 13.0;
const BODY_SIZE: f32 = 12.0;
const CELL_SIZE: f32 = 10.5;
const NOTE_SIZE: f32 = 9.0;
const LEADING: f32 = 1.65;
const CELL_PAD: f32 = 5.0;
const QR_SIZE: f32 = 78.0;
const SEAL_RADIUS: f32 = 40.0;

const BLACK: (u8, u8, u8) = (0x11, 0x11, 0x11);
const GREY: (u8, u8, u8) = (0x66, 0x66, 0x66);
const RULE: (u8, u8, u8) = (0x99, 0x99, 0x99);
const SEAL: (u8, u8, u8) = (0xC8, 0x16, 0x1D);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Weight {
    Body,
    Bold,
}

/// One thing to draw, in page coordinates (origin top left, y down; text at its baseline).
#[derive(Clone, Debug)]
enum Op {
    Text { x: f32, y: f32, size: f32, weight: Weight, color: (u8, u8, u8), text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8), width: f32 },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, color: (u8, u8, u8), width: f32, dash: bool },
    Circle { cx: f32, cy: f32, r: f32, color: (u8, u8, u8), dash: bool },
    Qr { x: f32, y: f32, size: f32, modules: Vec<bool>, width: usize },
}

/// Lays the blocks out on pages.
struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn face(&self, w: Weight) -> &'f Face {
        match w {
            Weight::Body => &self.fonts.body,
            Weight::Bold => &self.fonts.bold,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Makes room for `h` points, starting a new page when the current one cannot hold them (a block
    /// taller than a whole page starts at the top of one and runs over).
    fn need(&mut self, h: f32) {
        if self.y + h > PAGE_H - MARGIN_BOTTOM && self.y > MARGIN_TOP {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, baseline: f32, size: f32, weight: Weight, color: (u8, u8, u8), text: &str) {
        if !text.is_empty() {
            self.ops().push(Op::Text { x, y: baseline, size, weight, color, text: text.to_string() });
        }
    }

    /// Lines of `text` wrapped to `width` (the first `first_indent` narrower).
    fn wrap(&self, text: &str, size: f32, weight: Weight, width: f32, first_indent: f32) -> Vec<String> {
        let face = self.face(weight);
        wrap_with(|s| face.width(s, size), text, width, first_indent)
    }

    /// Running text: each line placed, pages broken between lines.
    fn flow(&mut self, text: &str, size: f32, weight: Weight, color: (u8, u8, u8), indent_first: bool) {
        let indent = if indent_first { 2.0 * size } else { 0.0 };
        let lines = self.wrap(text, size, weight, CONTENT_W, indent);
        let line_h = size * LEADING;
        for (i, line) in lines.iter().enumerate() {
            self.need(line_h);
            let x = MARGIN_X + if i == 0 { indent } else { 0.0 };
            let baseline = self.y + size * 1.15;
            self.text(x, baseline, size, weight, color, line);
            self.y += line_h;
        }
    }

    fn aligned(&mut self, text: &str, size: f32, weight: Weight, color: (u8, u8, u8), align: Align) {
        let lines = self.wrap(text, size, weight, CONTENT_W, 0.0);
        let line_h = size * LEADING;
        for line in &lines {
            self.need(line_h);
            let w = self.face(weight).width(line, size);
            let x = match align {
                Align::Center => MARGIN_X + (CONTENT_W - w) / 2.0,
                Align::Right => MARGIN_X + CONTENT_W - w,
            };
            let baseline = self.y + size * 1.15;
            self.text(x, baseline, size, weight, color, line);
            self.y += line_h;
        }
    }

    /// A bordered grid: each row's cells wrapped to their column, the row as tall as its tallest cell.
    fn grid(&mut self, widths: &[f32], rows: &[Vec<(String, Weight)>], header_rows: usize) {
        let line_h = CELL_SIZE * 1.45;
        let mut header: Option<(f32, Vec<Vec<String>>)> = None;
        for (r, row) in rows.iter().enumerate() {
            let wrapped: Vec<Vec<String>> = row
                .iter()
                .zip(widths)
                .map(|((text, weight), w)| self.wrap(text, CELL_SIZE, *weight, w - 2.0 * CELL_PAD, 0.0))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * line_h + 2.0 * CELL_PAD;
            let before = self.pages.len();
            self.need(h);
            // A table that runs over repeats its header row on the new page.
            if self.pages.len() != before
                && let Some((hh, hcells)) = header.clone()
            {
                let hrow = rows.first().cloned().unwrap_or_default();
                self.draw_row(widths, &hrow, &hcells, hh, line_h);
            }
            self.draw_row(widths, row, &wrapped, h, line_h);
            if r + 1 == header_rows {
                header = Some((h, wrapped));
            }
        }
    }

    fn draw_row(&mut self, widths: &[f32], row: &[(String, Weight)], cells: &[Vec<String>], h: f32, line_h: f32) {
        let mut x = MARGIN_X;
        let top = self.y;
        for ((w, (_, weight)), lines) in widths.iter().zip(row).zip(cells) {
            self.ops().push(Op::Rect { x, y: top, w: *w, h, color: RULE, width: 0.6 });
            for (i, line) in lines.iter().enumerate() {
                let baseline = top + CELL_PAD + i as f32 * line_h + CELL_SIZE * 1.05;
                let color = if *weight == Weight::Bold { GREY } else { BLACK };
                self.text(x + CELL_PAD, baseline, CELL_SIZE, *weight, color, line);
            }
            x += w;
        }
        self.y += h;
    }

    fn fields(&mut self, columns: u8, items: &[(String, String)]) {
        let columns = usize::from(columns.clamp(1, 2));
        let label_w = items
            .iter()
            .map(|(l, _)| self.face(Weight::Bold).width(l, CELL_SIZE))
            .fold(0.0_f32, f32::max)
            .min(CONTENT_W / (columns as f32) * 0.45)
            + 2.0 * CELL_PAD;
        let value_w = CONTENT_W / columns as f32 - label_w;
        let widths: Vec<f32> = (0..columns).flat_map(|_| [label_w, value_w]).collect();
        let rows: Vec<Vec<(String, Weight)>> = items
            .chunks(columns)
            .map(|chunk| {
                let mut row = Vec::new();
                for i in 0..columns {
                    let (l, v) = chunk.get(i).cloned().unwrap_or_default();
                    row.push((l, Weight::Bold));
                    row.push((v, Weight::Body));
                }
                row
            })
            .collect();
        self.grid(&widths, &rows, 0);
    }

    fn table(&mut self, headers: &[String], rows: &[Vec<String>]) {
        let n = headers.len().max(rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
        // Each column's share follows its widest cell, with a floor so no column is squeezed to nothing.
        let natural: Vec<f32> = (0..n)
            .map(|c| {
                let head = headers.get(c).map(|h| self.face(Weight::Bold).width(h, CELL_SIZE)).unwrap_or(0.0);
                rows.iter()
                    .filter_map(|r| r.get(c))
                    .map(|t| self.face(Weight::Body).width(t, CELL_SIZE))
                    .fold(head, f32::max)
                    .clamp(CELL_SIZE * 3.0, CONTENT_W * 0.6)
                    + 2.0 * CELL_PAD
            })
            .collect();
        let total: f32 = natural.iter().sum();
        let widths: Vec<f32> = natural.iter().map(|w| w / total * CONTENT_W).collect();
        let mut all = Vec::with_capacity(rows.len() + 1);
        let mut header_rows = 0;
        if !headers.is_empty() {
            all.push((0..n).map(|c| (headers.get(c).cloned().unwrap_or_default(), Weight::Bold)).collect());
            header_rows = 1;
        }
        for r in rows {
            all.push((0..n).map(|c| (r.get(c).cloned().unwrap_or_default(), Weight::Body)).collect());
        }
        self.grid(&widths, &all, header_rows);
    }

    fn qr_op(&mut self, qr: &Qr, x: f32, y: f32) -> Result<f32, DocumentError> {
        let code = qrcode::QrCode::with_error_correction_level(qr.payload.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| DocumentError::Qr(e.to_string()))?;
        let width = code.width();
        let modules = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        self.ops().push(Op::Qr { x, y, size: QR_SIZE, modules, width });
        // The caption under the code, wrapped to a little wider than the code.
        let caption_w = QR_SIZE + 60.0;
        let lines = self.wrap(&qr.caption, NOTE_SIZE, Weight::Body, caption_w, 0.0);
        let mut cy = y + QR_SIZE + NOTE_SIZE * 1.3;
        for line in &lines {
            self.text(x, cy, NOTE_SIZE, Weight::Body, GREY, line);
            cy += NOTE_SIZE * 1.4;
        }
        Ok(QR_SIZE + lines.len() as f32 * NOTE_SIZE * 1.4 + 4.0)
    }

    fn signature(&mut self, lines: &[String], seal: bool, qr: Option<&Qr>) -> Result<(), DocumentError> {
        let line_h = BODY_SIZE * LEADING;
        let text_h = lines.len() as f32 * line_h;
        let qr_h = if qr.is_some() { QR_SIZE + 3.0 * NOTE_SIZE * 1.4 + 4.0 } else { 0.0 };
        let seal_h = if seal { 2.0 * SEAL_RADIUS + 8.0 } else { 0.0 };
        let h = text_h.max(qr_h).max(seal_h) + 8.0;
        self.need(h);
        let top = self.y + 4.0;
        let widest = lines.iter().map(|l| self.fonts.body.width(l, BODY_SIZE)).fold(0.0_f32, f32::max);
        let right = MARGIN_X + CONTENT_W - BODY_SIZE;
        // Lines aligned on their right edge, vertically centred on the seal.
        let text_top = if seal { top + SEAL_RADIUS - text_h / 2.0 + 4.0 } else { top };
        for (i, l) in lines.iter().enumerate() {
            let w = self.fonts.body.width(l, BODY_SIZE);
            let baseline = text_top + i as f32 * line_h + BODY_SIZE * 1.15;
            self.text(right - w, baseline, BODY_SIZE, Weight::Body, BLACK, l);
        }
        if seal {
            let cx = right - widest / 2.0;
            self.ops().push(Op::Circle { cx, cy: top + SEAL_RADIUS + 4.0, r: SEAL_RADIUS, color: SEAL, dash: true });
            let mark = "（盖章）";
            let mw = self.fonts.body.width(mark, NOTE_SIZE);
            self.text(cx - mw / 2.0, top + 2.0 * SEAL_RADIUS, NOTE_SIZE, Weight::Body, SEAL, mark);
        }
        if let Some(q) = qr {
            self.qr_op(q, MARGIN_X, top)?;
        }
        self.y = top + h;
        Ok(())
    }

    fn cut_line(&mut self, label: &str) {
        let h = BODY_SIZE * 2.4;
        self.need(h);
        let mid = self.y + h / 2.0;
        let w = self.fonts.body.width(label, NOTE_SIZE);
        let gap = if label.is_empty() { 0.0 } else { w + 16.0 };
        let left_end = PAGE_W / 2.0 - gap / 2.0;
        self.ops().push(Op::Line { x1: 24.0, y1: mid, x2: left_end, y2: mid, color: RULE, width: 0.7, dash: true });
        self.ops().push(Op::Line {
            x1: PAGE_W / 2.0 + gap / 2.0,
            y1: mid,
            x2: PAGE_W - 24.0,
            y2: mid,
            color: RULE,
            width: 0.7,
            dash: true,
        });
        self.text(PAGE_W / 2.0 - w / 2.0, mid + NOTE_SIZE * 0.35, NOTE_SIZE, Weight::Body, GREY, label);
        self.y += h;
    }

    fn block(&mut self, b: &Block) -> Result<(), DocumentError> {
        match b {
            Block::Title(t) => {
                self.need(TITLE_SIZE * 2.5);
                self.y += TITLE_SIZE * 0.3;
                self.aligned(t, TITLE_SIZE, Weight::Bold, BLACK, Align::Center);
                self.y += TITLE_SIZE * 0.3;
            }
            Block::Centered(t) => self.aligned(t, BODY_SIZE, Weight::Body, BLACK, Align::Center),
            Block::Right(t) => self.aligned(t, BODY_SIZE, Weight::Body, BLACK, Align::Right),
            Block::Heading(t) => {
                self.need(HEADING_SIZE * LEADING * 2.0);
                self.y += HEADING_SIZE * 0.4;
                self.flow(t, HEADING_SIZE, Weight::Bold, BLACK, false);
            }
            Block::Paragraph(t) => self.flow(t, BODY_SIZE, Weight::Body, BLACK, true),
            Block::Text(t) => self.flow(t, BODY_SIZE, Weight::Body, BLACK, false),
            Block::Note(t) => self.flow(t, NOTE_SIZE, Weight::Body, GREY, false),
            Block::Fields { columns, items } => {
                self.y += 4.0;
                self.fields(*columns, items);
                self.y += 6.0;
            }
            Block::Table { headers, rows } => {
                self.y += 4.0;
                self.table(headers, rows);
                self.y += 6.0;
            }
            Block::Signature { lines, seal, qr } => self.signature(lines, *seal, qr.as_ref())?,
            Block::Qr(q) => {
                let h = QR_SIZE + 3.0 * NOTE_SIZE * 1.4 + 8.0;
                self.need(h);
                let top = self.y + 4.0;
                let used = self.qr_op(q, MARGIN_X, top)?;
                self.y = top + used + 4.0;
            }
            Block::CutLine(l) => self.cut_line(l),
            Block::Space(h) => self.y += h.max(0.0),
            Block::PageBreak => self.new_page(),
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Align {
    Center,
    Right,
}

/// Characters that never start a line (closing punctuation).
fn no_line_start(c: char) -> bool {
    "，。、；：！？）】》」』”’…%,.;:!?)]}·—".contains(c)
}

/// Characters that never end a line (opening punctuation).
fn no_line_end(c: char) -> bool {
    "（【《「『“‘([{".contains(c)
}

/// Latin letters, digits and the signs inside a word or number: kept together on one line.
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./@#*+&%:'".contains(c)
}

/// The unbreakable pieces of a paragraph: a Latin word or number, a space, or one CJK character, with
/// closing punctuation glued to what precedes it and opening punctuation to what follows.
fn atoms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue_next = false;
    for c in text.chars() {
        let continue_word =
            word_char(c) && out.last().and_then(|a| a.chars().last()).is_some_and(word_char) && !glue_next;
        if glue_next || continue_word || (no_line_start(c) && !out.is_empty()) {
            if let Some(last) = out.last_mut() {
                last.push(c);
            } else {
                out.push(c.to_string());
            }
        } else {
            out.push(c.to_string());
        }
        glue_next = no_line_end(c);
    }
    out
}

/// Greedy line filling over [`atoms`]; an atom wider than a line is cut by character. Explicit line
/// breaks (`\n`) are kept; spaces at the start of a wrapped line are dropped.
fn wrap_with(measure: impl Fn(&str) -> f32, text: &str, width: f32, first_indent: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for (p, para) in text.split('\n').enumerate() {
        let mut line = String::new();
        let mut avail = if p == 0 { width - first_indent } else { width };
        for atom in atoms(para) {
            let candidate = format!("{line}{atom}");
            if measure(&candidate) <= avail || line.is_empty() && measure(&atom) <= avail {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                avail = width;
            }
            let atom = if atom.trim().is_empty() { String::new() } else { atom };
            if measure(&atom) <= avail {
                line = atom;
            } else {
                // Longer than a whole line (a long number, a URL): cut it where it must be cut.
                for c in atom.chars() {
                    if !line.is_empty() && measure(&format!("{line}{c}")) > avail {
                        lines.push(std::mem::take(&mut line));
                        avail = width;
                    }
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    lines
}

fn rgb_of(c: (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn draw(surface: &mut krilla::surface::Surface<'_>, fonts: &Fonts, op: &Op) {
    match op {
        Op::Text { x, y, size, weight, color, text } => {
            let face = if *weight == Weight::Bold { &fonts.bold } else { &fonts.body };
            let (glyphs, _) = face.shape(text, *size);
            surface.set_fill(Some(Fill { paint: rgb_of(*color).into(), ..Fill::default() }));
            surface.set_stroke(None);
            surface.draw_glyphs(Point::from_xy(*x, *y), &glyphs, face.font.clone(), text, *size, false);
        }
        Op::Rect { x, y, w, h, color, width } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke { paint: rgb_of(*color).into(), width: *width, ..Stroke::default() }));
                surface.draw_path(&path);
            }
        }
        Op::Line { x1, y1, x2, y2, color, width, dash } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y1);
            pb.line_to(*x2, *y2);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb_of(*color).into(),
                    width: *width,
                    dash: dash.then(|| StrokeDash { array: vec![4.0, 3.0], offset: 0.0 }),
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Op::Circle { cx, cy, r, color, dash } => {
            // Four cubic Béziers (k = 0.5523 of the radius) make the circle.
            let k = 0.552_284_8 * r;
            let mut pb = PathBuilder::new();
            pb.move_to(cx + r, *cy);
            pb.cubic_to(cx + r, cy + k, cx + k, cy + r, *cx, cy + r);
            pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, *cy);
            pb.cubic_to(cx - r, cy - k, cx - k, cy - r, *cx, cy - r);
            pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, *cy);
            pb.close();
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb_of(*color).into(),
                    width: 0.9,
                    dash: dash.then(|| StrokeDash { array: vec![3.0, 2.5], offset: 0.0 }),
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Op::Qr { x, y, size, modules, width } => {
            // A quiet zone of 2 modules around the code, every dark module one square of one path.
            let m = size / (*width as f32 + 4.0);
            let mut pb = PathBuilder::new();
            for (i, dark) in modules.iter().enumerate() {
                if *dark {
                    let (row, col) = (i / width, i % width);
                    if let Some(r) =
                        Rect::from_xywh(x + (col as f32 + 2.0) * m, y + (row as f32 + 2.0) * m, m + 0.02, m + 0.02)
                    {
                        pb.push_rect(r);
                    }
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(Fill { paint: rgb_of(BLACK).into(), ..Fill::default() }));
                surface.draw_path(&path);
            }
        }
    }
}

/// The document as PDF bytes.
pub fn render(doc: &Document, fonts: &Fonts) -> Result<Vec<u8>, DocumentError> {
    render_with(doc, fonts, Options::default())
}

/// [`render`] with explicit [`Options`].
pub fn render_with(doc: &Document, fonts: &Fonts, options: Options) -> Result<Vec<u8>, DocumentError> {
    let mut layout = Layout { fonts, pages: vec![Vec::new()], y: MARGIN_TOP };
    for b in &doc.blocks {
        layout.block(b)?;
    }
    let mut pages = layout.pages;
    if pages.last().is_some_and(Vec::is_empty) && pages.len() > 1 {
        pages.pop();
    }
    let total = pages.len();
    // Footer: the document's line on the left, the page number on the right when there are several.
    for (i, ops) in pages.iter_mut().enumerate() {
        let baseline = PAGE_H - MARGIN_BOTTOM / 2.0;
        if let Some(f) = doc.footer.as_deref().filter(|f| !f.is_empty()) {
            ops.push(Op::Text {
                x: MARGIN_X,
                y: baseline,
                size: NOTE_SIZE,
                weight: Weight::Body,
                color: GREY,
                text: f.to_string(),
            });
        }
        if total > 1 {
            let label = format!("第 {} 页 / 共 {total} 页", i + 1);
            let w = fonts.body.width(&label, NOTE_SIZE);
            ops.push(Op::Text {
                x: MARGIN_X + CONTENT_W - w,
                y: baseline,
                size: NOTE_SIZE,
                weight: Weight::Body,
                color: GREY,
                text: label,
            });
        }
    }

    let settings = krilla::SerializeSettings { compress_content_streams: options.compress, ..Default::default() };
    let mut pdf = krilla::Document::new_with(settings);
    let mut meta = Metadata::new().title(doc.title.clone()).language("zh-CN".into()).creator("dangjian".into());
    if let Some(a) = &doc.author {
        meta = meta.authors(vec![a.clone()]);
    }
    pdf.set_metadata(meta);
    for ops in &pages {
        let Some(settings) = PageSettings::from_wh(PAGE_W, PAGE_H) else {
            return Err(DocumentError::Pdf("页面尺寸无效".into()));
        };
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, fonts, op);
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A monospace measure for the pure line-breaking tests: CJK 1.0 em, everything else 0.5 em.
    fn measure(s: &str) -> f32 {
        s.chars().map(|c| if c.is_ascii() { 0.5 } else { 1.0 }).sum()
    }

    #[test]
    fn lines_break_between_cjk_characters_but_not_before_closing_punctuation() {
        let lines = wrap_with(measure, "组织关系介绍信，有效期三十天。", 8.0, 0.0);
        assert_eq!(lines, vec!["组织关系介绍信，", "有效期三十天。"]);
        for l in &lines {
            assert!(!l.starts_with('，') && !l.starts_with('。'), "{lines:?}");
        }
        // An opening bracket stays with what follows it.
        let lines = wrap_with(measure, "一二三四五六（七）", 6.0, 0.0);
        assert!(lines.iter().all(|l| !l.ends_with('（')), "{lines:?}");
    }

    #[test]
    fn latin_words_and_numbers_stay_whole_and_long_ones_are_cut() {
        let lines = wrap_with(measure, "编号 DJ-2025-000123 已开具", 8.0, 0.0);
        assert!(lines.iter().any(|l| l.contains("DJ-2025-000123")), "{lines:?}");
        let lines = wrap_with(measure, "0123456789012345678901234567890123456789", 5.0, 0.0);
        assert!(lines.len() >= 4 && lines.iter().all(|l| measure(l) <= 5.0), "{lines:?}");
        assert_eq!(lines.concat(), "0123456789012345678901234567890123456789");
    }

    #[test]
    fn the_first_line_is_indented_and_explicit_breaks_are_kept() {
        let lines = wrap_with(measure, "一二三四五六七八九十", 6.0, 2.0);
        assert_eq!(lines[0], "一二三四");
        assert_eq!(wrap_with(measure, "甲\n乙", 10.0, 0.0), vec!["甲", "乙"]);
        assert_eq!(wrap_with(measure, "", 10.0, 0.0), vec![""]);
    }

    #[test]
    fn missing_fonts_name_the_package() {
        let dir = std::env::temp_dir().join(format!("dj-no-fonts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = Fonts::load(Some(&dir)).unwrap_err().to_string();
        assert!(err.contains(FONT_PACKAGE) && err.contains("NotoSansCJK-Regular.ttc"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

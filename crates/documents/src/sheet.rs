//! Spreadsheets in and out, as rows of cell strings: the format half of the register import and export
//! (architecture.md §2.7). Nothing here knows what a column means; the platform maps the headers.
//!
//! Reading keeps what a user typed: text cells come back verbatim (no trimming), whole numbers without a
//! trailing `.0` (a phone number typed as a number), and cells Excel stores as dates as `YYYY-MM-DD`
//! (from the serial number, 1900 and 1904 systems both). A date typed as text (`2019.9.1`) stays text
//! for the caller's date rules. Workbooks are read with calamine (xlsx; xls and ods open through the same
//! call); CSV with the small RFC 4180 reader below, from UTF-8 with or without a BOM, UTF-16 with a BOM,
//! or GB18030 (what Excel on a Chinese Windows writes for "CSV"), comma- or tab-separated.
//!
//! Writing (rust_xlsxwriter, or CSV as UTF-8 with a BOM so Excel shows Chinese) neutralises spreadsheet
//! injection (security.md AT-18): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is written with a leading apostrophe, so no spreadsheet program evaluates it as a formula.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader};
use time::Date;

use crate::DocumentError;

/// The formats the register travels in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// An upload whose parts would inflate beyond this is refused before anything is inflated (AT-21).
pub const MAX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;
/// Rows read at most; a longer sheet is refused rather than half read. Raised from 100,000 so the register
/// import's 200,000 data rows (platform's `MAX_IMPORT_ROWS`, sized for the 100k-row benchmark of issue 3)
/// fit with their header and a few title rows above it.
pub const MAX_ROWS: usize = 200_100;

impl Format {
    /// `xlsx` or `csv` (any case, with or without the dot).
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().trim_start_matches('.').to_ascii_lowercase().as_str() {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => XLSX_CONTENT_TYPE,
            Format::Csv => CSV_CONTENT_TYPE,
        }
    }

    /// The format a `Content-Type` names (parameters ignored), if it names one.
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match mime.as_str() {
            XLSX_CONTENT_TYPE | "application/vnd.ms-excel" => Some(Format::Xlsx),
            "text/csv" | "application/csv" | "text/comma-separated-values" | "text/plain" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format a file name's extension names.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "xlsx" | "xls" | "xlsm" => Some(Format::Xlsx),
            "csv" | "txt" => Some(Format::Csv),
            _ => None,
        }
    }

    /// What the bytes are: a workbook (zip or OLE container) or, failing that, CSV text.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// One row of a sheet with its spreadsheet row number (the header is usually row 1). Cells are indexed
/// from column A; a row may be shorter than the header when its last cells are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<String>,
}

fn sheet_error(msg: impl Into<String>) -> DocumentError {
    DocumentError::Sheet(msg.into())
}

/// The rows of the first sheet of `bytes`, blank rows left out (their numbers are skipped, so a row
/// keeps the number the spreadsheet program shows).
pub fn read(bytes: &[u8], format: Format) -> Result<Vec<Row>, DocumentError> {
    match format {
        Format::Xlsx => read_workbook(bytes),
        Format::Csv => read_csv(bytes),
    }
}

/// The ISO column letters of a 0-based index (0 → A, 26 → AA), for messages.
pub fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.iter().rev().collect()
}

fn check_inflated_size(bytes: &[u8]) -> Result<(), DocumentError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| sheet_error("文件已损坏，无法作为 xlsx 打开"))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| sheet_error("文件已损坏，无法作为 xlsx 打开"))?;
        total = total.saturating_add(entry.size());
        if total > MAX_INFLATED_BYTES {
            return Err(sheet_error("文件解压后过大，请拆分后分批导入"));
        }
    }
    Ok(())
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Row>, DocumentError> {
    if bytes.starts_with(b"PK\x03\x04") {
        check_inflated_size(bytes)?;
    }
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|_| sheet_error("无法识别的文件：请上传 .xlsx 工作簿或 .csv 文件"))?;
    let range = match book.worksheet_range_at(0) {
        None => return Err(sheet_error("工作簿中没有工作表")),
        Some(r) => r.map_err(|e| sheet_error(format!("无法读取第一个工作表：{e}")))?,
    };
    let Some((first_row, first_col)) = range.start() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let mut row: Vec<String> = vec![String::new(); first_col as usize];
        row.extend(cells.iter().map(cell_text));
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if out.len() >= MAX_ROWS {
            return Err(sheet_error(format!("行数超过{MAX_ROWS}行，请拆分后分批导入")));
        }
        while row.last().is_some_and(String::is_empty) {
            row.pop();
        }
        out.push(Row { number: first_row + i as u32 + 1, cells: row });
    }
    Ok(out)
}

/// A cell as the text a user would see typed, dates as `YYYY-MM-DD`.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Whole numbers without `.0` (a phone or student number typed as a number), others as Rust prints them.
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", f as i64) } else { f.to_string() }
}

/// CSV bytes as text: a BOM decides (UTF-8, UTF-16); else UTF-8 when valid; else GB18030 (a superset
/// of GBK and GB2312, what Chinese Excel saves as "CSV").
fn decode(bytes: &[u8]) -> Result<String, DocumentError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(sheet_error(format!("文件不是有效的 {} 文本", enc.name())));
        }
        return Ok(text.into_owned());
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, bad) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if bad {
        return Err(sheet_error("无法识别文件的字符编码：请另存为 UTF-8 编码的 CSV 或 xlsx"));
    }
    Ok(text.into_owned())
}

/// The delimiter of the first line (outside quotes): the most frequent of comma, tab and semicolon.
fn delimiter(text: &str) -> char {
    let mut counts = [(',', 0usize), ('\t', 0), (';', 0)];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map(|(d, _)| *d).unwrap_or(',')
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, DocumentError> {
    let text = decode(bytes)?;
    let records = parse_csv(&text, delimiter(&text));
    let mut out = Vec::new();
    for (i, mut cells) in records.into_iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if out.len() >= MAX_ROWS {
            return Err(sheet_error(format!("行数超过{MAX_ROWS}行，请拆分后分批导入")));
        }
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        out.push(Row { number: i as u32 + 1, cells });
    }
    Ok(out)
}

/// RFC 4180 records, leniently: a field that starts with a quote runs to the closing quote (`""` is a
/// quote, line breaks kept); anything else runs to the delimiter or the line end (CRLF, LF or CR).
/// A stray quote inside an unquoted field is kept as typed.
pub fn parse_csv(text: &str, delim: char) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    let mut in_quotes = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            c if c == delim => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_field_start = true;
                any = false;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if any {
        record.push(field);
        records.push(record);
    }
    records
}

// ---------------------------------------------------------------- writing

/// A cell to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(i64),
    Date(Date),
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map(Cell::Text).unwrap_or(Cell::Empty)
    }
}

impl From<Option<Date>> for Cell {
    fn from(v: Option<Date>) -> Cell {
        v.map(Cell::Date).unwrap_or(Cell::Empty)
    }
}

/// A text cell that a spreadsheet program would take for a formula (or a formula hidden behind a tab
/// or carriage return) gets a leading apostrophe (security.md AT-18).
pub fn neutralise(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// One sheet named `sheet_name` with a header row and `rows`, as xlsx or CSV bytes.
pub fn write(format: Format, sheet_name: &str, header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, DocumentError> {
    match format {
        Format::Xlsx => write_xlsx(sheet_name, header, rows),
        Format::Csv => Ok(write_csv(header, rows)),
    }
}

/// Display width of a text in Excel's character units (CJK characters count two).
fn width_of(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) < 0x2E80 { 1 } else { 2 }).sum()
}

fn write_xlsx(sheet_name: &str, header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, DocumentError> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let xerr = |e: rust_xlsxwriter::XlsxError| sheet_error(format!("生成 xlsx 失败：{e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(xerr)?;
    let bold = Style::new().set_bold();
    let date = Style::new().set_num_format("yyyy-mm-dd");
    let epoch = time::macros::date!(1899 - 12 - 30);
    let mut widths: Vec<usize> = header.iter().map(|h| width_of(h)).collect();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, neutralise(h), &bold).map_err(xerr)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let w = match cell {
                Cell::Empty => 0,
                Cell::Text(s) => {
                    let s = neutralise(s);
                    sheet.write_string(r, col, s.as_ref()).map_err(xerr)?;
                    width_of(&s)
                }
                Cell::Number(n) => {
                    sheet.write_number(r, col, *n as f64).map_err(xerr)?;
                    n.to_string().len()
                }
                Cell::Date(d) => {
                    sheet.write_number_with_format(r, col, (*d - epoch).whole_days() as f64, &date).map_err(xerr)?;
                    10
                }
            };
            match widths.get_mut(c) {
                Some(slot) => *slot = (*slot).max(w),
                None => widths.push(w),
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).clamp(6, 40) as f64 + 2.0).map_err(xerr)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xerr)?;
    if !header.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, header.len() as u16 - 1).map_err(xerr)?;
    }
    book.save_to_buffer().map_err(xerr)
}

fn csv_field(out: &mut String, s: &str) {
    let s = neutralise(s);
    if s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ') {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&s);
    }
}

fn write_csv(header: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    for (i, h) in header.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, h);
    }
    out.push_str("\r\n");
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => csv_field(&mut out, s),
                Cell::Number(n) => out.push_str(&n.to_string()),
                Cell::Date(d) => {
                    out.push_str(&format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()));
                }
            }
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn texts(rows: &[Row]) -> Vec<(u32, Vec<&str>)> {
        rows.iter().map(|r| (r.number, r.cells.iter().map(String::as_str).collect())).collect()
    }

    #[test]
    fn neutralises_formula_starts_only() {
        for bad in ["=HYPERLINK(\"http://x\",\"点我\")", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in ["李红", "a=b", "", " =1", "１＝１", "2019-09-01"] {
            assert_eq!(neutralise(fine), fine, "{fine:?}");
        }
    }

    #[test]
    fn csv_round_trip_keeps_text_and_escapes_injection() {
        let header = ["姓名", "备注"];
        let rows = vec![
            vec![Cell::Text("=HYPERLINK(\"http://evil\",\"x\")".into()), Cell::Text("有,逗号\n和换行".into())],
            vec![Cell::Text("李红".into()), Cell::Date(date!(2019 - 09 - 01))],
            vec![Cell::Number(3), Cell::Empty],
        ];
        let bytes = write(Format::Csv, "x", &header, &rows).unwrap();
        assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "BOM for Excel");
        let back = read(&bytes, Format::Csv).unwrap();
        assert_eq!(
            texts(&back),
            vec![
                (1, vec!["姓名", "备注"]),
                (2, vec!["'=HYPERLINK(\"http://evil\",\"x\")", "有,逗号\n和换行"]),
                (3, vec!["李红", "2019-09-01"]),
                (4, vec!["3"]),
            ]
        );
    }

    #[test]
    fn csv_encodings_delimiters_and_blank_lines() {
        let utf8 = "姓名,电话\r\n 李红 ,１３８\r\n\r\n王芳,139";
        let expected = vec![(1, vec!["姓名", "电话"]), (2, vec![" 李红 ", "１３８"]), (4, vec!["王芳", "139"])];
        assert_eq!(texts(&read(utf8.as_bytes(), Format::Csv).unwrap()), expected, "UTF-8, kept as typed");
        let (gbk, _, _) = encoding_rs::GB18030.encode(utf8);
        assert_eq!(texts(&read(&gbk, Format::Csv).unwrap()), expected, "GB18030");
        let tabs = "姓名\t电话\n李红\t138\n";
        assert_eq!(
            texts(&read(tabs.as_bytes(), Format::Csv).unwrap()),
            vec![(1, vec!["姓名", "电话"]), (2, vec!["李红", "138"])]
        );
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "姓名,电话\n李红,138".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(texts(&read(&utf16, Format::Csv).unwrap()).len(), 2, "UTF-16 with BOM");
        assert!(read(&[0xFF, 0xFF, 0x81, 0x20], Format::Csv).is_err(), "not text in any encoding");
    }

    #[test]
    fn csv_parser_is_lenient_and_never_panics() {
        assert_eq!(parse_csv("a,\"b\"\"c\",d", ','), vec![vec!["a", "b\"c", "d"]]);
        assert_eq!(parse_csv("a\"b,c", ','), vec![vec!["a\"b", "c"]]);
        assert_eq!(parse_csv("\"open", ','), vec![vec!["open"]]);
        assert_eq!(parse_csv("", ','), Vec::<Vec<String>>::new());
        assert_eq!(parse_csv("a\rb\n", ','), vec![vec!["a"], vec!["b"]]);
        // Every prefix of an awkward text parses without panicking.
        let awkward = "\"x\"\"\",\r\n\"\n\",,\"\r";
        for end in 0..=awkward.len() {
            if awkward.is_char_boundary(end) {
                let _ = parse_csv(&awkward[..end], ',');
            }
        }
    }

    #[test]
    fn xlsx_round_trip_dates_numbers_and_injection() {
        let header = ["序号", "姓名", "出生日期", "联系电话"];
        let rows = vec![
            vec![
                Cell::Number(1),
                Cell::Text("=HYPERLINK(\"http://evil\",\"点我\")".into()),
                Cell::Date(date!(1999 - 04 - 25)),
                Cell::Text("138****8000".into()),
            ],
            vec![Cell::Number(2), Cell::Text(" 王芳 ".into()), Cell::Empty, Cell::Text("-".into())],
        ];
        let bytes = write(Format::Xlsx, "党员信息", &header, &rows).unwrap();
        assert_eq!(Format::sniff(&bytes), Format::Xlsx);
        let back = read(&bytes, Format::Xlsx).unwrap();
        assert_eq!(
            texts(&back),
            vec![
                (1, vec!["序号", "姓名", "出生日期", "联系电话"]),
                (2, vec!["1", "'=HYPERLINK(\"http://evil\",\"点我\")", "1999-04-25", "138****8000"]),
                (3, vec!["2", " 王芳 ", "", "'-"]),
            ]
        );
    }

    /// The shared register with planted defects, as the importer will see it.
    #[test]
    fn reads_the_shared_register_as_typed() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/tests/fixtures/people-2026-defects.xlsx");
        let rows = read(&std::fs::read(path).unwrap(), Format::Xlsx).unwrap();
        assert_eq!(rows.len(), 501);
        let row = |n: u32| rows.iter().find(|r| r.number == n).unwrap();
        assert_eq!(row(1).cells.len(), 20);
        assert_eq!(row(1).cells[3], "公民身份号码");
        assert_eq!(row(2).cells[..6], ["1", "崔雅婷", "女", "230604199904257565", "汉族", "1999-04-25"]);
        assert_eq!(row(124).cells[3], "51010720040703068x");
        assert_eq!(row(209).cells[1], " 林浩俊 ", "spaces kept for the importer to judge");
        assert_eq!(row(209).cells[14], "１７７７５４４１２７７");
        assert_eq!(row(271).cells[1], "", "missing name");
        assert_eq!(row(391).cells[10], "2021.11.19", "a date typed as text stays text");
    }

    #[test]
    fn a_broken_or_foreign_file_is_an_error() {
        assert!(read(b"PK\x03\x04 not really a zip", Format::Xlsx).is_err());
        assert!(read(b"%PDF-1.7", Format::Xlsx).is_err());
        assert_eq!(Format::sniff(b"%PDF"), Format::Csv);
    }

    #[test]
    fn formats_and_columns() {
        assert_eq!(Format::parse("XLSX"), Some(Format::Xlsx));
        assert_eq!(Format::parse(".csv"), Some(Format::Csv));
        assert_eq!(Format::parse("pdf"), None);
        assert_eq!(Format::from_content_type("text/csv; charset=gbk"), Some(Format::Csv));
        assert_eq!(Format::from_content_type(XLSX_CONTENT_TYPE), Some(Format::Xlsx));
        assert_eq!(Format::from_content_type("application/json"), None);
        assert_eq!(Format::from_file_name("花名册.XLSX"), Some(Format::Xlsx));
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(19), "T");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(number_text(13_800_138_000.0), "13800138000");
        assert_eq!(number_text(1.5), "1.5");
    }
}

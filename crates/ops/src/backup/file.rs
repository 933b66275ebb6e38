//! The backup file: one gzip stream of JSON lines.
//!
//! ```text
//! {"format":"dangjian-backup","format_version":1,…}          header: versions, backend, schema, key check
//! {"table":"orgs","columns":[{"name":"id","kind":"int"},…],"primary_key":["id"]}
//! [1,null,"某某大学委员会",…]                                   one JSON array per row, primary-key order
//! {"end":"orgs","rows":261,"sha256":"…"}
//! …                                                          every table, parents before children
//! {"manifest":{…header…,"tables":[…],"audit":{…},"stream_sha256":"…"}}
//! ```
//!
//! Why this and not a tar of files: every count and checksum is known only once the rows are written, and
//! a tar entry needs its size up front (a 1M-person table would go through a temporary file first). Lines
//! stream in both directions, and `zcat FILE | head` shows an operator what is inside with standard
//! tools. Why gzip (flate2 over the pure-Rust zlib-rs): `gzip -t`/`zcat` exist on every server an IT centre
//! runs, including the domestic distributions; the gzip trailer's CRC-32 catches damage before any row is
//! parsed; no C toolchain is needed. zstd would compress faster and smaller, but needs a C build and a tool
//! that is not everywhere; at university scale gzip is fast enough (docs/OPERATIONS.md has the figures).
//!
//! Integrity has three layers: the gzip CRC-32 of the whole stream, a SHA-256 per table (also compared
//! with the restored database), and a SHA-256 of every byte before the manifest, so that no line can be
//! added, dropped or edited without the reader noticing.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::Error;
use super::model::{
    AuditHead, Column, FORMAT, FORMAT_VERSION, Header, Manifest, TableDigest, TableEnd, TableStart, TableSummary,
    Trailer, Value, empty_audit, parse_row, write_row,
};

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.display().to_string(), source }
}

/// Passes bytes through and hashes them: the SHA-256 of the compressed file, to print and to audit.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(buf.get(..n).unwrap_or_default());
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(buf.get(..n).unwrap_or_default());
        self.bytes += n as u64;
        Ok(n)
    }
}

/// What a finished file is, to print and to record in the audit entry.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    /// SHA-256 of the file as stored (compressed).
    pub sha256: String,
}

/// Writes a backup to `FILE.partial` and renames it to `FILE` only when complete, so a backup that failed
/// half-way never looks like a good one.
pub struct Writer {
    path: PathBuf,
    partial: PathBuf,
    out: GzEncoder<Hashing<BufWriter<File>>>,
    stream: Sha256,
    line: Vec<u8>,
    table: Option<(TableStart, TableDigest)>,
    tables: Vec<TableSummary>,
    audit: Option<AuditHead>,
}

impl Writer {
    /// Creates the file (readable by its owner only: it holds password hashes and ciphertexts). An
    /// existing file is never overwritten.
    pub fn create(path: &Path) -> Result<Writer, Error> {
        if path.exists() {
            return Err(Error::Refused(format!("{} already exists; choose a new file name", path.display())));
        }
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&partial).map_err(io(&partial))?;
        let hashing = Hashing { inner: BufWriter::with_capacity(1 << 20, file), sha: Sha256::new(), bytes: 0 };
        Ok(Writer {
            path: path.to_owned(),
            partial,
            // Level 3: most of level 6's size at about twice its speed on JSON text.
            out: GzEncoder::new(hashing, Compression::new(3)),
            stream: Sha256::new(),
            line: Vec::with_capacity(4096),
            table: None,
            tables: Vec::new(),
            audit: None,
        })
    }

    fn emit(&mut self) -> Result<(), Error> {
        self.stream.update(&self.line);
        self.out.write_all(&self.line).map_err(io(&self.partial))?;
        self.line.clear();
        Ok(())
    }

    fn emit_json<T: serde::Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(|e| Error::Damaged(e.to_string()))?;
        self.line.push(b'\n');
        self.emit()
    }

    pub fn header(&mut self, header: &Header) -> Result<(), Error> {
        self.emit_json(header)
    }

    pub fn begin_table(&mut self, start: TableStart) -> Result<(), Error> {
        self.emit_json(&start)?;
        let digest = TableDigest::new(&start.table);
        self.table = Some((start, digest));
        Ok(())
    }

    pub fn row(&mut self, values: &[Value]) -> Result<(), Error> {
        let Some((start, digest)) = &mut self.table else {
            return Err(Error::Damaged("a row outside a table".into()));
        };
        self.line.clear();
        write_row(&mut self.line, values)
            .map_err(|e| Error::Refused(format!("table {}: a value cannot be backed up: {e}", start.table)))?;
        digest.add(&self.line, &start.columns, values).map_err(Error::Damaged)?;
        self.emit()
    }

    pub fn end_table(&mut self) -> Result<TableSummary, Error> {
        let Some((start, digest)) = self.table.take() else {
            return Err(Error::Damaged("no table to end".into()));
        };
        let (summary, audit) = digest.finish(&start.table);
        if audit.is_some() {
            self.audit = audit;
        }
        self.emit_json(&TableEnd { end: summary.name.clone(), rows: summary.rows, sha256: summary.sha256.clone() })?;
        self.tables.push(summary.clone());
        Ok(summary)
    }

    /// Writes the manifest, flushes to disk and renames the file into place; on failure nothing is left.
    pub fn finish(self, header: Header) -> Result<(Manifest, Written), Error> {
        let partial = self.partial.clone();
        let done = self.complete(header);
        if done.is_err() {
            let _ = std::fs::remove_file(partial);
        }
        done
    }

    fn complete(mut self, header: Header) -> Result<(Manifest, Written), Error> {
        let stream_sha256 = hex::encode(self.stream.clone().finalize());
        let manifest = Manifest {
            header,
            tables: std::mem::take(&mut self.tables),
            audit: self.audit.take().unwrap_or_else(empty_audit),
            stream_sha256,
        };
        self.emit_json(&Trailer { manifest: manifest.clone() })?;
        let hashing = self.out.finish().map_err(io(&self.partial))?;
        let sha256 = hex::encode(hashing.sha.finalize());
        let bytes = hashing.bytes;
        let file = hashing.inner.into_inner().map_err(|e| io(&self.partial)(e.into_error()))?;
        file.sync_all().map_err(io(&self.partial))?;
        drop(file);
        std::fs::rename(&self.partial, &self.path).map_err(io(&self.path))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself is durable once the directory is synced (best effort: not every
            // platform lets a directory be opened).
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((manifest, Written { path: self.path.clone(), bytes, sha256 }))
    }

    /// Removes the unfinished file after a failure.
    pub fn abandon(self) {
        let partial = self.partial.clone();
        drop(self);
        let _ = std::fs::remove_file(partial);
    }
}

/// One element of a backup, in file order.
#[derive(Debug)]
pub enum Item {
    Header(Header),
    TableStart(TableStart),
    Row(Vec<Value>),
    TableEnd(TableSummary),
    /// The last item: the manifest, checked against everything read before it.
    Manifest(Manifest),
}

/// Reads a backup and checks it while reading: structure, per-table counts and checksums, the audit
/// chain, the stream checksum and the manifest. Any difference is [`Error::Damaged`]; a caller that reaches
/// [`Item::Manifest`] has read an intact file.
pub struct Reader {
    path: PathBuf,
    lines: BufReader<MultiGzDecoder<Hashing<BufReader<File>>>>,
    buf: String,
    stream: Sha256,
    header: Option<Header>,
    table: Option<(TableStart, TableDigest)>,
    tables: Vec<TableSummary>,
    audit: Option<AuditHead>,
    done: bool,
    line_no: u64,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, Error> {
        let file = File::open(path).map_err(io(path))?;
        let hashing = Hashing { inner: BufReader::with_capacity(1 << 20, file), sha: Sha256::new(), bytes: 0 };
        Ok(Reader {
            path: path.to_owned(),
            lines: BufReader::with_capacity(1 << 16, MultiGzDecoder::new(hashing)),
            buf: String::new(),
            stream: Sha256::new(),
            header: None,
            table: None,
            tables: Vec::new(),
            audit: None,
            done: false,
            line_no: 0,
        })
    }

    fn damaged(&self, what: impl std::fmt::Display) -> Error {
        Error::Damaged(format!("{} line {}: {what}", self.path.display(), self.line_no))
    }

    /// The columns of the table being read.
    pub fn columns(&self) -> Option<&[Column]> {
        self.table.as_ref().map(|(s, _)| s.columns.as_slice())
    }

    /// The next item, or `None` after the manifest (when the file must end).
    pub fn next_item(&mut self) -> Result<Option<Item>, Error> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        self.line_no += 1;
        let n = self.lines.read_line(&mut self.buf).map_err(|e| self.damaged(e))?;
        if n == 0 {
            return Err(self.damaged("the file ends before its manifest (it is cut short)"));
        }
        let line = std::mem::take(&mut self.buf);
        let item = self.item(&line);
        self.buf = line;
        item.map(Some)
    }

    fn item(&mut self, line: &str) -> Result<Item, Error> {
        let text = line.strip_suffix('\n').ok_or_else(|| self.damaged("the last line is incomplete"))?;
        if self.header.is_none() {
            let header: Header = serde_json::from_str(text).map_err(|_| {
                Error::Damaged(format!("{} is not a dangjian backup (no header line)", self.path.display()))
            })?;
            if header.format != FORMAT {
                return Err(Error::Damaged(format!("{} is not a dangjian backup", self.path.display())));
            }
            if header.format_version > FORMAT_VERSION {
                return Err(Error::Refused(format!(
                    "the backup has format version {}, this dangjian reads up to {FORMAT_VERSION}: restore it with \
                     dangjian {} or later",
                    header.format_version, header.dangjian_version
                )));
            }
            self.stream.update(line.as_bytes());
            self.header = Some(header.clone());
            return Ok(Item::Header(header));
        }
        if text.starts_with('[') {
            let Some((start, digest)) = &mut self.table else {
                return Err(self.damaged("a row outside a table"));
            };
            let values = parse_row(text, &start.columns);
            let added =
                values.as_ref().map_err(Clone::clone).and_then(|v| digest.add(line.as_bytes(), &start.columns, v));
            let table = start.table.clone();
            if let Err(e) = added {
                return Err(self.damaged(format!("table {table}: {e}")));
            }
            self.stream.update(line.as_bytes());
            return values.map(Item::Row).map_err(|e| self.damaged(e));
        }
        if text.starts_with("{\"manifest\"") {
            return self.manifest(text).map(Item::Manifest);
        }
        if text.starts_with("{\"end\"") {
            let end: TableEnd = serde_json::from_str(text).map_err(|e| self.damaged(e))?;
            let Some((start, digest)) = self.table.take() else {
                return Err(self.damaged("the end of a table that was not begun"));
            };
            let (summary, audit) = digest.finish(&start.table);
            if end.end != summary.name || end.rows != summary.rows || end.sha256 != summary.sha256 {
                return Err(self.damaged(format!(
                    "table {}: {} rows with checksum {} read, the file says {} rows with {}",
                    summary.name, summary.rows, summary.sha256, end.rows, end.sha256
                )));
            }
            if audit.is_some() {
                self.audit = audit;
            }
            self.stream.update(line.as_bytes());
            self.tables.push(summary.clone());
            return Ok(Item::TableEnd(summary));
        }
        let start: TableStart = serde_json::from_str(text).map_err(|e| self.damaged(format!("unknown line: {e}")))?;
        if self.table.is_some() {
            return Err(self.damaged("a table begins before the previous one ended"));
        }
        self.stream.update(line.as_bytes());
        let digest = TableDigest::new(&start.table);
        self.table = Some((start.clone(), digest));
        Ok(Item::TableStart(start))
    }

    fn manifest(&mut self, text: &str) -> Result<Manifest, Error> {
        let trailer: Trailer = serde_json::from_str(text).map_err(|e| self.damaged(e))?;
        let m = trailer.manifest;
        let stream = hex::encode(self.stream.clone().finalize());
        if self.table.is_some() {
            return Err(self.damaged("the manifest comes before the last table ended"));
        }
        if Some(&m.header) != self.header.as_ref() {
            return Err(self.damaged("the manifest does not repeat the header"));
        }
        if m.stream_sha256 != stream {
            return Err(self.damaged("the checksum of the content does not match the manifest"));
        }
        if m.tables != self.tables {
            return Err(self.damaged("the tables read do not match the manifest"));
        }
        let audit = self.audit.clone().unwrap_or_else(empty_audit);
        if m.audit != audit {
            return Err(self.damaged(format!(
                "the audit chain read ({} entries, head {}) does not match the manifest ({} entries, head {})",
                audit.entries, audit.head, m.audit.entries, m.audit.head
            )));
        }
        // The manifest is the last line, and the gzip stream must end cleanly right after it: its CRC-32 and
        // length are checked on the way to the end, and bytes appended after it would be read as a further
        // gzip member and fail.
        let mut rest = Vec::new();
        self.lines.read_to_end(&mut rest).map_err(|e| self.damaged(e))?;
        if !rest.is_empty() {
            return Err(self.damaged("data after the manifest"));
        }
        self.done = true;
        Ok(m)
    }

    /// SHA-256 and size of the compressed file as read so far (the whole file once the manifest is read).
    pub fn file_digest(&self) -> (String, u64) {
        let h = self.lines.get_ref().get_ref();
        (hex::encode(h.sha.clone().finalize()), h.bytes)
    }
}

/// Reads the whole file and checks it, away from any database: the manifest of an intact file, with the
/// SHA-256 and size of the file.
pub fn verify(path: &Path) -> Result<(Manifest, Written), Error> {
    let mut reader = Reader::open(path)?;
    while let Some(item) = reader.next_item()? {
        if let Item::Manifest(m) = item {
            let (sha256, bytes) = reader.file_digest();
            return Ok((m, Written { path: path.to_owned(), bytes, sha256 }));
        }
    }
    Err(Error::Damaged(format!("{}: no manifest", path.display())))
}

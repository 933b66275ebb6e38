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
//!
//! **Encryption.** The gzip stream is sealed with the data key (the key file's field key) before it touches
//! the disk: a stolen backup shows neither names nor password hashes, and it cannot be edited and re-packed
//! by anyone without the key file. The sealed file is
//!
//! ```text
//! "DJBACKUP" · envelope version (1) · algorithm (1 = AES-256-GCM) · key id · salt (32) · nonce prefix (7) ·
//!   key check (16)
//! then chunks: ciphertext length (u32, big-endian) · ciphertext of up to 64 KiB of gzip + 16-byte tag
//! ```
//!
//! sealed with [`security::stream`] (STREAM over AES-256-GCM, a key per file derived from the salt), so a
//! chunk that is edited, dropped, repeated, moved or cut off fails to open. `zcat` no longer reads a
//! backup; `dangjian backup verify FILE` does, with the key file. Files written before encryption existed
//! (they begin with the gzip magic) are still read, without a key.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use security::KeyRing;
use security::stream::{CHECK_LEN, FileKey, PREFIX_LEN, SALT_LEN, TAG_LEN};
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

/// The first bytes of a sealed backup.
const MAGIC: &[u8; 8] = b"DJBACKUP";
const ENVELOPE_VERSION: u8 = 1;
/// Magic, version, algorithm, key id, salt, nonce prefix, key check.
const ENVELOPE_LEN: usize = MAGIC.len() + 3 + SALT_LEN + PREFIX_LEN + CHECK_LEN;
const SALT_AT: usize = MAGIC.len() + 3;
const PREFIX_AT: usize = SALT_AT + SALT_LEN;
const CHECK_AT: usize = PREFIX_AT + PREFIX_LEN;
/// Plaintext bytes per sealed chunk.
const CHUNK: usize = 64 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// Seals what is written to it in chunks of [`CHUNK`] bytes (see the module's notes). A full chunk is sealed
/// only when more bytes arrive, so that [`Sealing::finish`] can mark the real last one.
struct Sealing<W: Write> {
    inner: W,
    key: FileKey,
    envelope: [u8; ENVELOPE_LEN],
    buf: Vec<u8>,
    counter: u32,
}

impl<W: Write> Sealing<W> {
    fn new(mut inner: W, keys: &KeyRing) -> Result<Sealing<W>, Error> {
        let mut salt = [0u8; SALT_LEN];
        let mut prefix = [0u8; PREFIX_LEN];
        security::random_bytes(&mut salt)?;
        security::random_bytes(&mut prefix)?;
        let mut envelope = [0u8; ENVELOPE_LEN];
        envelope[..8].copy_from_slice(MAGIC);
        // The algorithm byte is the field cipher's: AES-256-GCM, or SM4-GCM under the 国密 profile.
        envelope[8..11].copy_from_slice(&[ENVELOPE_VERSION, security::cipher::algorithm_of(keys.profile), keys.key_id]);
        envelope[SALT_AT..PREFIX_AT].copy_from_slice(&salt);
        envelope[PREFIX_AT..CHECK_AT].copy_from_slice(&prefix);
        let key = keys.file_key(&salt, &prefix)?;
        envelope[CHECK_AT..].copy_from_slice(&key.check());
        inner.write_all(&envelope).map_err(|e| Error::Io { path: "backup".into(), source: e })?;
        Ok(Sealing { inner, key, envelope, buf: Vec::with_capacity(CHUNK), counter: 0 })
    }

    fn emit(&mut self, last: bool) -> std::io::Result<()> {
        let sealed = self
            .key
            .seal(self.counter, last, &self.envelope, &self.buf)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let len = u32::try_from(sealed.len()).map_err(|_| std::io::Error::other("chunk too large"))?;
        self.inner.write_all(&len.to_be_bytes())?;
        self.inner.write_all(&sealed)?;
        self.buf.clear();
        self.counter = self.counter.checked_add(1).ok_or_else(|| std::io::Error::other("backup too large"))?;
        Ok(())
    }

    /// Seals the last chunk (possibly empty) and hands back the writer beneath.
    fn finish(mut self) -> std::io::Result<W> {
        self.emit(true)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Sealing<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.buf.len() == CHUNK {
            self.emit(false)?;
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(data.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Opens a sealed file chunk by chunk. The header's key check tells a wrong key file from damage; the first
/// chunk is opened at once, so a file damaged at its start is refused before anything else is read.
struct Opening<R: Read> {
    inner: R,
    key: FileKey,
    envelope: [u8; ENVELOPE_LEN],
    plain: Vec<u8>,
    pos: usize,
    counter: u32,
    /// The length of the next chunk, read ahead to learn whether the current one is the last.
    next_len: Option<usize>,
    finished: bool,
}

impl<R: Read> Opening<R> {
    /// Reads the envelope (its magic already checked by the caller, who peeked) and the first chunk.
    fn new(mut inner: R, keys: &KeyRing) -> Result<Opening<R>, Error> {
        let mut envelope = [0u8; ENVELOPE_LEN];
        inner
            .read_exact(&mut envelope)
            .map_err(|_| Error::Damaged("the encrypted backup's header is cut short".into()))?;
        let profile = security::cipher::profile_of(&[1, envelope[9]]).unwrap_or_default();
        if envelope[8] != ENVELOPE_VERSION || envelope[9] != security::cipher::algorithm_of(profile) {
            return Err(Error::Refused(format!(
                "the backup is encrypted in a way this dangjian does not know (envelope {}, algorithm {}): restore it \
                 with the dangjian that wrote it or a later one",
                envelope[8], envelope[9]
            )));
        }
        let file_key_id = envelope[10];
        let salt: [u8; SALT_LEN] = envelope[SALT_AT..PREFIX_AT].try_into().unwrap_or([0; SALT_LEN]);
        let prefix: [u8; PREFIX_LEN] = envelope[PREFIX_AT..CHECK_AT].try_into().unwrap_or([0; PREFIX_LEN]);
        // The envelope names the algorithm and the key version (a backup from before a rotation opens with
        // the older version the key file keeps).
        let keys = keys.clone().with_profile(profile);
        let key = keys.file_key_of(file_key_id, &salt, &prefix).or_else(|_| keys.file_key(&salt, &prefix))?;
        if envelope[CHECK_AT..] != key.check() {
            return Err(Error::Refused(format!(
                "the backup cannot be decrypted with this key file (the backup was sealed with key id {file_key_id}, \
                 the key file has key id {}): put the key file that was in use when the backup was made in place \
                 (see docs/OPERATIONS.md)",
                keys.key_id
            )));
        }
        let mut opening =
            Opening { inner, key, envelope, plain: Vec::new(), pos: 0, counter: 0, next_len: None, finished: false };
        opening.next_len = opening.read_len().map_err(|e| Error::Damaged(e.to_string()))?;
        if opening.next_len.is_none() {
            return Err(Error::Damaged("the encrypted backup holds no data (it is cut short)".into()));
        }
        opening.next_chunk().map_err(|e| Error::Damaged(e.to_string()))?;
        Ok(opening)
    }

    /// The next chunk's length, `None` at a clean end of file.
    fn read_len(&mut self) -> std::io::Result<Option<usize>> {
        let mut len = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.inner.read(&mut len[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(invalid("the encrypted backup is cut short inside a chunk header".into())),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let n = u32::from_be_bytes(len) as usize;
        if !(TAG_LEN..=CHUNK + TAG_LEN).contains(&n) {
            return Err(invalid(format!("chunk {} of the encrypted backup has an impossible length", self.counter)));
        }
        Ok(Some(n))
    }

    fn next_chunk(&mut self) -> std::io::Result<()> {
        let Some(len) = self.next_len.take() else {
            return Err(invalid("the encrypted backup ends without its last chunk (it is cut short)".into()));
        };
        let mut sealed = vec![0u8; len];
        self.inner
            .read_exact(&mut sealed)
            .map_err(|_| invalid(format!("the encrypted backup is cut short inside chunk {}", self.counter)))?;
        self.next_len = self.read_len()?;
        let last = self.next_len.is_none();
        self.plain = self.key.open(self.counter, last, &self.envelope, &sealed).map_err(|_| {
            if last {
                invalid(format!(
                    "chunk {} of the encrypted backup does not open as the last one: the file is cut short or edited",
                    self.counter
                ))
            } else {
                invalid(format!("chunk {} of the encrypted backup was edited, moved or replaced", self.counter))
            }
        })?;
        self.pos = 0;
        self.counter += 1;
        self.finished = last;
        Ok(())
    }
}

impl<R: Read> Read for Opening<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.finished {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = buf.len().min(self.plain.len() - self.pos);
        buf[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

type FileIn = Hashing<BufReader<File>>;

/// The compressed stream of a backup file: sealed (the normal case) or, for files written before
/// encryption existed, plain gzip.
enum Source {
    Plain(FileIn),
    Sealed(Box<Opening<FileIn>>),
}

impl Source {
    /// Opens `path`, telling the two kinds apart by their first bytes.
    fn open(path: &Path, keys: Option<&KeyRing>) -> Result<Source, Error> {
        let file = File::open(path).map_err(io(path))?;
        let mut buffered = BufReader::with_capacity(1 << 20, file);
        let start = buffered.fill_buf().map_err(io(path))?.to_vec();
        let hashing = Hashing { inner: buffered, sha: Sha256::new(), bytes: 0 };
        if start.starts_with(MAGIC) {
            let keys = keys.ok_or_else(|| {
                Error::Refused(format!(
                    "{} is encrypted with the data key: give the key file (DATA_DIR/keys/dangjian.key or \
                     DANGJIAN_KEY_FILE) that was in use when it was made",
                    path.display()
                ))
            })?;
            return Ok(Source::Sealed(Box::new(Opening::new(hashing, keys)?)));
        }
        if start.starts_with(&GZIP_MAGIC) {
            return Ok(Source::Plain(hashing));
        }
        Err(Error::Damaged(format!("{} is not a dangjian backup", path.display())))
    }

    fn hashing(&self) -> &FileIn {
        match self {
            Source::Plain(h) => h,
            Source::Sealed(o) => &o.inner,
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(h) => h.read(buf),
            Source::Sealed(o) => o.read(buf),
        }
    }
}

/// The gzip stream inside a backup file, decrypted: for tools and tests that must look inside or
/// re-pack a file (and for files written before encryption, the file as it is). Checks nothing beyond
/// the encryption; [`verify`] checks the content.
pub fn unseal(path: &Path, keys: &KeyRing) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    Source::open(path, Some(keys))?.read_to_end(&mut out).map_err(|e| Error::Damaged(e.to_string()))?;
    Ok(out)
}

/// Writes `compressed` (a gzip stream of a backup's lines) to `path`, sealed with `keys`: the inverse of
/// [`unseal`].
pub fn seal(path: &Path, keys: &KeyRing, compressed: &[u8]) -> Result<(), Error> {
    let file = File::create(path).map_err(io(path))?;
    let mut sealing = Sealing::new(BufWriter::new(file), keys)?;
    sealing.write_all(compressed).map_err(io(path))?;
    sealing.finish().and_then(|mut w| w.flush()).map_err(io(path))
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
    out: GzEncoder<Sealing<Hashing<BufWriter<File>>>>,
    stream: Sha256,
    line: Vec<u8>,
    table: Option<(TableStart, TableDigest)>,
    tables: Vec<TableSummary>,
    audit: Option<AuditHead>,
    /// The audit chain's hash, from the header.
    chain: security::profile::HashAlg,
}

impl Writer {
    /// Creates the file (readable by its owner only), sealed with `keys`. An existing file is never
    /// overwritten.
    pub fn create(path: &Path, keys: &KeyRing) -> Result<Writer, Error> {
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
        let sealing = match Sealing::new(hashing, keys) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        Ok(Writer {
            path: path.to_owned(),
            partial,
            // Level 3: most of level 6's size at about twice its speed on JSON text.
            out: GzEncoder::new(sealing, Compression::new(3)),
            stream: Sha256::new(),
            line: Vec::with_capacity(4096),
            table: None,
            tables: Vec::new(),
            audit: None,
            chain: security::profile::HashAlg::Sha256,
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
        self.chain = header.chain_hash();
        self.emit_json(header)
    }

    pub fn begin_table(&mut self, start: TableStart) -> Result<(), Error> {
        self.emit_json(&start)?;
        let digest = TableDigest::new(&start.table, self.chain);
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
        let sealing = self.out.finish().map_err(io(&self.partial))?;
        let hashing = sealing.finish().map_err(io(&self.partial))?;
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
    lines: BufReader<MultiGzDecoder<Source>>,
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
    /// Opens a backup; `keys` opens a sealed one (files written before encryption need none).
    pub fn open(path: &Path, keys: Option<&KeyRing>) -> Result<Reader, Error> {
        let source = Source::open(path, keys)?;
        Ok(Reader {
            path: path.to_owned(),
            lines: BufReader::with_capacity(1 << 16, MultiGzDecoder::new(source)),
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
        let chain = self.header.as_ref().map(Header::chain_hash).unwrap_or_default();
        let digest = TableDigest::new(&start.table, chain);
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
        let h = self.lines.get_ref().get_ref().hashing();
        (hex::encode(h.sha.clone().finalize()), h.bytes)
    }
}

/// Reads the whole file and checks it, away from any database: the manifest of an intact file, with the
/// SHA-256 and size of the file. A sealed file needs `keys`.
pub fn verify(path: &Path, keys: Option<&KeyRing>) -> Result<(Manifest, Written), Error> {
    let mut reader = Reader::open(path, keys)?;
    while let Some(item) = reader.next_item()? {
        if let Item::Manifest(m) = item {
            let (sha256, bytes) = reader.file_digest();
            return Ok((m, Written { path: path.to_owned(), bytes, sha256 }));
        }
    }
    Err(Error::Damaged(format!("{}: no manifest", path.display())))
}

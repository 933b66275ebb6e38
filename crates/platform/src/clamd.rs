//! ClamAV's scanning daemon, clamd, as an extra layer behind the built-in checks of [`crate::files::check`]
//! (security.md AT-21 "EICAR test file blocked", 等保三级 8.1.4.5 malicious-code prevention). The built-in
//! checks decide the type, the container's declarations and the EICAR string in the raw bytes; clamd
//! inflates what they never inflate (the entries of a DOCX/XLSX, a PDF's compressed streams) and knows
//! the IT centre's signature databases (freshclam from the intranet mirror, docs/OPERATIONS.md).
//!
//! The protocol (clamd(8), "INSTREAM"): `zINSTREAM\0`, then the bytes as chunks, each a 4-byte big-endian
//! length and that many bytes, then a zero length; clamd answers one NUL-terminated line: `stream: OK`,
//! `stream: NAME FOUND`, or something ending in `ERROR` (e.g. `INSTREAM size limit exceeded. ERROR`).
//! `zPING\0` is answered `PONG` (the health check of the status page and `/metrics`).
//!
//! Written on tokio's own sockets (one connection per scan, the whole exchange under one timeout): the
//! protocol is a few lines, and the crates that speak it add nothing this needs (a timeout, fail-closed
//! answers, a parsed signature name).
//!
//! Configured by `[uploads] clamd = "unix:/run/clamav/clamd.ctl"` or `"tcp:127.0.0.1:3310"` (or
//! `DANGJIAN_CLAMD`) and `clamd_timeout_seconds`. When configured, every upload is scanned and the
//! platform **fails closed**: a scanner that cannot be reached, times out or answers an error refuses the
//! upload (503, nothing stored, audited). Not configured, uploads get the built-in checks only.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long a scan may take by default: connecting, sending 25 MB and clamd's verdict (a 25 MB DOCX
/// takes clamd about a second; see docs/PERFORMANCE.md).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The size of one INSTREAM chunk.
pub const DEFAULT_CHUNK_BYTES: usize = 64 * 1024;
/// The longest answer read from clamd (one line).
const MAX_REPLY: usize = 4096;

/// Where clamd listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A local socket (`LocalSocket` in clamd.conf; Debian: /run/clamav/clamd.ctl).
    Unix(PathBuf),
    /// `host:port` (`TCPSocket`/`TCPAddr`; the default port is 3310).
    Tcp(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// A configured clamd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clamd {
    pub address: Address,
    /// The whole exchange (connect, send, verdict) must finish within this.
    pub timeout: Duration,
    pub chunk_bytes: usize,
}

/// What clamd said about the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// A signature matched: its name (`Eicar-Test-Signature`, `Win.Trojan.Agent-123`).
    Found(String),
}

/// Why there is no verdict. The upload is refused all the same (fail closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection: nothing listens, the socket file is missing, permission denied.
    Connect(String),
    /// The exchange took longer than [`Clamd::timeout`].
    Timeout(Duration),
    /// The connection broke while sending or before the answer.
    Io(String),
    /// clamd answered an error (`INSTREAM size limit exceeded. ERROR`, `… ERROR`).
    Answer(String),
    /// An answer that is none of the above.
    Protocol(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(e) => write!(f, "cannot connect: {e}"),
            Failure::Timeout(d) => write!(f, "no answer within {} s", d.as_secs_f64()),
            Failure::Io(e) => write!(f, "connection broken: {e}"),
            Failure::Answer(a) => write!(f, "clamd answered: {a}"),
            Failure::Protocol(a) => write!(f, "unexpected answer: {a:?}"),
        }
    }
}

impl Clamd {
    /// `unix:/path/to/socket` or `tcp:host:port`; a bare absolute path is a socket too.
    pub fn parse(spec: &str, timeout: Duration) -> Result<Clamd, String> {
        let spec = spec.trim();
        let address = if let Some(path) = spec.strip_prefix("unix:") {
            Address::Unix(PathBuf::from(path))
        } else if spec.starts_with('/') {
            Address::Unix(PathBuf::from(spec))
        } else if let Some(addr) = spec.strip_prefix("tcp:") {
            Address::Tcp(addr.to_string())
        } else {
            return Err(format!(
                "clamd = \"{spec}\": expected \"unix:/run/clamav/clamd.ctl\" or \"tcp:127.0.0.1:3310\""
            ));
        };
        match &address {
            Address::Unix(p) if p.as_os_str().is_empty() => return Err("clamd: the socket path is empty".into()),
            Address::Tcp(a) if a.rsplit_once(':').is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err()) => {
                return Err(format!("clamd = \"{spec}\": expected tcp:HOST:PORT"));
            }
            _ => {}
        }
        if timeout.is_zero() {
            return Err("clamd_timeout_seconds must be at least 1".into());
        }
        Ok(Clamd { address, timeout, chunk_bytes: DEFAULT_CHUNK_BYTES })
    }

    /// Scans `bytes` (INSTREAM).
    pub async fn scan(&self, bytes: &[u8]) -> Result<Verdict, Failure> {
        let chunk = self.chunk_bytes.max(1);
        let reply = self
            .within(async {
                match self.connect().await? {
                    Conn::Unix(mut s) => instream(&mut s, bytes, chunk).await,
                    Conn::Tcp(mut s) => instream(&mut s, bytes, chunk).await,
                }
            })
            .await?;
        parse_scan(&reply)
    }

    /// `PING` → `PONG`: whether clamd answers (the status page and `/metrics`).
    pub async fn ping(&self) -> Result<(), Failure> {
        let reply = self
            .within(async {
                match self.connect().await? {
                    Conn::Unix(mut s) => command(&mut s, b"zPING\0").await,
                    Conn::Tcp(mut s) => command(&mut s, b"zPING\0").await,
                }
            })
            .await?;
        if reply == "PONG" { Ok(()) } else { Err(Failure::Protocol(reply)) }
    }

    async fn within(&self, run: impl Future<Output = Result<String, Failure>>) -> Result<String, Failure> {
        tokio::time::timeout(self.timeout, run).await.map_err(|_| Failure::Timeout(self.timeout))?
    }

    async fn connect(&self) -> Result<Conn, Failure> {
        Ok(match &self.address {
            Address::Unix(path) => Conn::Unix(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| Failure::Connect(format!("{}: {e}", path.display())))?,
            ),
            Address::Tcp(addr) => Conn::Tcp(
                tokio::net::TcpStream::connect(addr.as_str())
                    .await
                    .map_err(|e| Failure::Connect(format!("{addr}: {e}")))?,
            ),
        })
    }
}

/// A connection to clamd, either kind.
enum Conn {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// Sends a command and reads its answer.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, cmd: &[u8]) -> Result<String, Failure> {
    s.write_all(cmd).await.map_err(io)?;
    read_reply(s).await
}

/// The INSTREAM exchange. clamd closes the connection as soon as the stream passes its `StreamMaxLength`,
/// after saying so: a write that fails still reads the answer, so the log and the audit entry say why.
async fn instream<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, bytes: &[u8], chunk: usize) -> Result<String, Failure> {
    let sent = async {
        s.write_all(b"zINSTREAM\0").await?;
        for c in bytes.chunks(chunk) {
            let len = u32::try_from(c.len()).map_err(|_| std::io::Error::other("chunk too large"))?;
            s.write_all(&len.to_be_bytes()).await?;
            s.write_all(c).await?;
        }
        s.write_all(&0u32.to_be_bytes()).await?;
        s.flush().await
    }
    .await;
    match sent {
        Ok(()) => read_reply(s).await,
        Err(e) => match read_reply(s).await {
            Ok(reply) if !reply.is_empty() => Ok(reply),
            _ => Err(io(e)),
        },
    }
}

/// One answer: up to the NUL (the `z` commands) or the end of the connection, at most [`MAX_REPLY`] bytes.
async fn read_reply<S: AsyncRead + Unpin>(s: &mut S) -> Result<String, Failure> {
    let mut out = Vec::with_capacity(64);
    let mut buf = [0u8; 512];
    loop {
        let n = s.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        let part = &buf[..n];
        if let Some(end) = part.iter().position(|b| *b == 0) {
            out.extend_from_slice(&part[..end]);
            break;
        }
        out.extend_from_slice(part);
        if out.len() > MAX_REPLY {
            return Err(Failure::Protocol("answer too long".into()));
        }
    }
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// `stream: OK`, `stream: NAME FOUND`, `… ERROR`.
fn parse_scan(reply: &str) -> Result<Verdict, Failure> {
    let r = reply.trim();
    if let Some(name) = r.strip_prefix("stream:").and_then(|b| b.trim().strip_suffix(" FOUND")) {
        let name: String = name.trim().chars().filter(|c| !c.is_control()).take(200).collect();
        return if name.is_empty() { Err(Failure::Protocol(r.into())) } else { Ok(Verdict::Found(name)) };
    }
    if r.ends_with("ERROR") {
        return Err(Failure::Answer(r.into()));
    }
    match r.strip_prefix("stream:").map(str::trim) {
        Some("OK") => Ok(Verdict::Clean),
        _ => Err(Failure::Protocol(r.chars().take(200).collect())),
    }
}

fn io(e: std::io::Error) -> Failure {
    Failure::Io(e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Against an in-process fake clamd speaking the protocol, over a unix socket and TCP. The real clamd
    //! (Debian's clamav-daemon with a database of its own) is tested in the web crate's `clamd` suite.

    use super::*;

    /// What the fake answers after reading the whole stream.
    #[derive(Clone, Copy)]
    enum Reply {
        Clean,
        Found,
        Error,
        /// Closes without a word.
        Close,
        /// Reads everything, then never answers.
        Hang,
    }

    /// What the fake received: the command, the chunks' lengths and the bytes put back together.
    #[derive(Debug, Default)]
    struct Seen {
        command: Vec<u8>,
        chunks: Vec<usize>,
        bytes: Vec<u8>,
        terminated: bool,
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, reply: Reply) -> Seen {
        let mut seen = Seen::default();
        loop {
            let b = s.read_u8().await.unwrap();
            if b == 0 {
                break;
            }
            seen.command.push(b);
        }
        if seen.command == b"zPING" {
            s.write_all(b"PONG\0").await.unwrap();
            return seen;
        }
        assert_eq!(seen.command, b"zINSTREAM");
        loop {
            let len = s.read_u32().await.unwrap() as usize;
            if len == 0 {
                seen.terminated = true;
                break;
            }
            let mut chunk = vec![0u8; len];
            s.read_exact(&mut chunk).await.unwrap();
            seen.chunks.push(len);
            seen.bytes.extend_from_slice(&chunk);
        }
        let answer: &[u8] = match reply {
            Reply::Clean => b"stream: OK\0",
            Reply::Found => b"stream: Eicar-Test-Signature FOUND\0",
            Reply::Error => b"INSTREAM size limit exceeded. ERROR\0",
            Reply::Close => return seen,
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return seen;
            }
        };
        s.write_all(answer).await.unwrap();
        seen
    }

    fn socket_path() -> PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::env::temp_dir().join(format!("dj-fake-clamd-{}-{n}.sock", std::process::id()))
    }

    /// A fake clamd for one connection on `unix` or TCP; its handle gives what it received.
    async fn fake(unix: bool, reply: Reply) -> (Clamd, tokio::task::JoinHandle<Seen>) {
        let timeout = Duration::from_secs(5);
        if unix {
            let path = socket_path();
            let _ = std::fs::remove_file(&path);
            let listener = tokio::net::UnixListener::bind(&path).unwrap();
            let clamd = Clamd::parse(&format!("unix:{}", path.display()), timeout).unwrap();
            let task = tokio::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                let seen = serve(s, reply).await;
                let _ = std::fs::remove_file(&path);
                seen
            });
            (clamd, task)
        } else {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let clamd = Clamd::parse(&format!("tcp:{}", listener.local_addr().unwrap()), timeout).unwrap();
            let task = tokio::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                serve(s, reply).await
            });
            (clamd, task)
        }
    }

    #[tokio::test]
    async fn ok_found_and_error_over_a_unix_socket_and_tcp() {
        for unix in [true, false] {
            let (clamd, task) = fake(unix, Reply::Clean).await;
            assert_eq!(clamd.scan(b"hello").await, Ok(Verdict::Clean), "unix={unix}");
            let seen = task.await.unwrap();
            assert_eq!((seen.bytes.as_slice(), seen.terminated), (&b"hello"[..], true));

            let (clamd, task) = fake(unix, Reply::Found).await;
            assert_eq!(clamd.scan(b"infected").await, Ok(Verdict::Found("Eicar-Test-Signature".into())));
            task.await.unwrap();

            let (clamd, task) = fake(unix, Reply::Error).await;
            assert_eq!(
                clamd.scan(b"too big").await,
                Err(Failure::Answer("INSTREAM size limit exceeded. ERROR".into())),
                "unix={unix}"
            );
            task.await.unwrap();

            // Closed without an answer: no verdict, so a failure (the upload is refused).
            let (clamd, task) = fake(unix, Reply::Close).await;
            assert!(matches!(clamd.scan(b"x").await, Err(Failure::Protocol(_) | Failure::Io(_))), "unix={unix}");
            task.await.unwrap();

            let (clamd, task) = fake(unix, Reply::Clean).await;
            assert_eq!(clamd.ping().await, Ok(()));
            assert_eq!(task.await.unwrap().command, b"zPING");
        }
    }

    #[tokio::test]
    async fn the_stream_goes_in_chunks_with_big_endian_lengths_and_a_zero_terminator() {
        for unix in [true, false] {
            let (mut clamd, task) = fake(unix, Reply::Clean).await;
            clamd.chunk_bytes = 7;
            let bytes: Vec<u8> = (0..100u8).collect();
            assert_eq!(clamd.scan(&bytes).await, Ok(Verdict::Clean));
            let seen = task.await.unwrap();
            let mut expected = vec![7; 14];
            expected.push(2);
            assert_eq!(seen.chunks, expected);
            assert_eq!(seen.bytes, bytes);
            assert!(seen.terminated);

            // The default chunk size: 200 KB in four chunks of 64 KiB and the rest.
            let (clamd, task) = fake(unix, Reply::Clean).await;
            let big = vec![b'a'; 200_000];
            assert_eq!(clamd.scan(&big).await, Ok(Verdict::Clean));
            let seen = task.await.unwrap();
            assert_eq!(seen.chunks, vec![65_536, 65_536, 65_536, 3_392]);
            assert_eq!(seen.bytes.len(), 200_000);
        }
    }

    #[tokio::test]
    async fn an_unreachable_or_silent_clamd_is_a_failure_never_a_pass() {
        // Nothing at the socket path.
        let missing = Clamd::parse(&format!("unix:{}", socket_path().display()), Duration::from_secs(1)).unwrap();
        assert!(matches!(missing.scan(b"x").await, Err(Failure::Connect(_))));
        assert!(matches!(missing.ping().await, Err(Failure::Connect(_))));
        // Nothing on the port (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let closed = Clamd::parse(&format!("tcp:127.0.0.1:{port}"), Duration::from_secs(1)).unwrap();
        assert!(matches!(closed.scan(b"x").await, Err(Failure::Connect(_))));

        // A clamd that reads everything and never answers: the timeout, on both transports.
        for unix in [true, false] {
            let (mut clamd, task) = fake(unix, Reply::Hang).await;
            clamd.timeout = Duration::from_millis(300);
            let started = std::time::Instant::now();
            assert_eq!(clamd.scan(b"x").await, Err(Failure::Timeout(Duration::from_millis(300))));
            assert!(started.elapsed() < Duration::from_secs(5));
            task.abort();
        }
    }

    #[test]
    fn answers_and_addresses_are_parsed_strictly() {
        assert_eq!(parse_scan("stream: OK"), Ok(Verdict::Clean));
        assert_eq!(parse_scan("stream: Win.Test.EICAR_HDB-1 FOUND"), Ok(Verdict::Found("Win.Test.EICAR_HDB-1".into())));
        assert!(matches!(parse_scan("stream: Can't allocate memory ERROR"), Err(Failure::Answer(_))));
        assert!(matches!(parse_scan(""), Err(Failure::Protocol(_))));
        assert!(matches!(parse_scan("stream:  FOUND"), Err(Failure::Protocol(_))));
        assert!(matches!(parse_scan("PONG"), Err(Failure::Protocol(_))));

        let t = Duration::from_secs(3);
        assert_eq!(
            Clamd::parse("unix:/run/clamav/clamd.ctl", t).unwrap().address,
            Address::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            Clamd::parse("/run/clamav/clamd.ctl", t).unwrap().address,
            Address::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(Clamd::parse("tcp:127.0.0.1:3310", t).unwrap().address, Address::Tcp("127.0.0.1:3310".into()));
        assert_eq!(Clamd::parse("tcp:127.0.0.1:3310", t).unwrap().address.to_string(), "tcp:127.0.0.1:3310");
        for bad in ["", "clamd.ctl", "tcp:3310", "tcp:host:port", "unix:", "http://x"] {
            assert!(Clamd::parse(bad, t).is_err(), "{bad}");
        }
        assert!(Clamd::parse("tcp:127.0.0.1:3310", Duration::ZERO).is_err());
    }
}

//! A small HTTP/1.1 client for the load run: keep-alive connections to one server on 127.0.0.1, shared by the
//! virtual members through a bounded pool (campus NAT: every member behind one address). Written here rather
//! than added as a dependency: the workspace has no HTTP client, and the load run needs only requests with a
//! few headers, `Content-Length` or chunked answers, and the `Set-Cookie`, `Location` and `Retry-After`
//! headers.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Longest wait for one answer before the request counts as failed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `name=value` part of the `Set-Cookie` header that sets the cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap_or_default().trim())
            .find(|v| v.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
            .map(str::to_owned)
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    fn keeps_alive(&self) -> bool {
        !self.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// The value of the attribute `attr` (e.g. `value="`) that follows the first `marker` in `html`.
pub fn attribute_after<'a>(html: &'a str, marker: &str, attr: &str) -> Option<&'a str> {
    let rest = &html[html.find(marker)? + marker.len()..];
    let rest = &rest[rest.find(attr)? + attr.len()..];
    rest.split('"').next()
}

/// One request as it goes on the wire.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub cookie: Option<&'a str>,
    pub csrf: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str, cookie: Option<&'a str>) -> Self {
        Request { method: "GET", path, cookie, csrf: None, content_type: None, authorization: None, body: b"" }
    }

    /// The same request with an `Authorization` header (the API's bearer token).
    pub fn with_authorization(self, value: &'a str) -> Self {
        Request { authorization: Some(value), ..self }
    }

    fn head(&self) -> String {
        let mut h = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: dangjian-load/1 (AT-35)\r\nAccept: */*\r\n",
            self.method, self.path
        );
        if let Some(c) = self.cookie {
            h.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(t) = self.csrf {
            h.push_str(&format!("X-CSRF-Token: {t}\r\n"));
        }
        if let Some(a) = self.authorization {
            h.push_str(&format!("Authorization: {a}\r\n"));
        }
        if let Some(t) = self.content_type {
            h.push_str(&format!("Content-Type: {t}\r\n"));
        }
        if self.method != "GET" || !self.body.is_empty() {
            h.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        h.push_str("\r\n");
        h
    }
}

struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn { stream: BufReader::with_capacity(32 * 1024, s) })
    }

    /// Sends the request and reads the answer. `Err` with `answered: false` means nothing came back (a
    /// connection the server had closed while idle): safe to send again on a fresh one, as browsers do.
    async fn exchange(&mut self, req: &Request<'_>) -> Result<Response, (io::Error, bool)> {
        let mut wire = req.head().into_bytes();
        wire.extend_from_slice(req.body);
        self.stream.get_mut().write_all(&wire).await.map_err(|e| (e, false))?;
        let mut line = String::new();
        let n = self.stream.read_line(&mut line).await.map_err(|e| (e, false))?;
        if n == 0 {
            return Err((io::Error::new(io::ErrorKind::UnexpectedEof, "closed before answering"), false));
        }
        self.read_rest(line).await.map_err(|e| (e, true))
    }

    async fn read_rest(&mut self, status_line: String) -> io::Result<Response> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        let status =
            status_line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or_else(|| bad("status line"))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(bad("headers cut"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let mut r = Response { status, headers, body: Vec::new() };
        if let Some(len) = r.header("content-length") {
            let len: usize = len.parse().map_err(|_| bad("content-length"))?;
            r.body.resize(len, 0);
            self.stream.read_exact(&mut r.body).await?;
        } else if r.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                self.stream.read_line(&mut size).await?;
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or_default(), 16)
                    .map_err(|_| bad("chunk size"))?;
                let start = r.body.len();
                r.body.resize(start + size, 0);
                self.stream.read_exact(&mut r.body[start..]).await?;
                let mut crlf = String::new();
                self.stream.read_line(&mut crlf).await?;
                if size == 0 {
                    break;
                }
            }
        } else if status != 204 && status != 304 && !(100..200).contains(&status) {
            self.stream.read_to_end(&mut r.body).await?;
            r.headers.push(("connection".into(), "close".into()));
        }
        Ok(r)
    }
}

/// At most `size` connections, reused between requests of any member.
pub struct Pool {
    addr: SocketAddr,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

impl Pool {
    pub fn new(addr: SocketAddr, size: usize) -> Pool {
        Pool { addr, idle: Mutex::new(Vec::new()), permits: Semaphore::new(size) }
    }

    fn take_idle(&self) -> Option<Conn> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    fn give_back(&self, c: Conn) {
        if let Ok(mut v) = self.idle.lock() {
            v.push(c);
        }
    }

    /// Sends one request on an idle connection (or a new one) and hands the connection back after.
    pub async fn send(&self, req: &Request<'_>) -> io::Result<Response> {
        let _permit = self.permits.acquire().await.map_err(io::Error::other)?;
        let reused = self.take_idle();
        let was_reused = reused.is_some();
        let mut conn = match reused {
            Some(c) => c,
            None => Conn::open(self.addr).await?,
        };
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, conn.exchange(req)).await;
        let answer = match answer {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer within 60 s")),
            Ok(Err((_, false))) if was_reused => {
                conn = Conn::open(self.addr).await?;
                tokio::time::timeout(ANSWER_TIMEOUT, conn.exchange(req))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer within 60 s"))?
                    .map_err(|(e, _)| e)?
            }
            Ok(a) => a.map_err(|(e, _)| e)?,
        };
        if answer.keeps_alive() {
            self.give_back(conn);
        }
        Ok(answer)
    }
}

/// Percent-encoding of one form field or query value (every byte but the unreserved ones).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

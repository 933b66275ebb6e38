//! Behind a reverse proxy (nginx, docs/OPERATIONS.md) every connection comes from the proxy, so the
//! address in audit entries would be the proxy's. When the peer is one of the configured trusted proxies
//! (`trusted_proxies`), the client is the rightmost address of `X-Forwarded-For` that is not itself a
//! trusted proxy; from any other peer the header is ignored (a client could write anything in it).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};

/// Replaces the peer address the handlers see ([`crate::auth::ctx_of`]) with the forwarded client's.
pub fn use_forwarded_client(req: &mut Request, trusted: &[IpAddr]) {
    if trusted.is_empty() {
        return;
    }
    let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0) else { return };
    if !trusted.contains(&peer.ip()) {
        return;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    if let Some(client) = forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)) {
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;

    use super::*;

    fn req(peer: &str, xff: &[&str]) -> Request {
        let mut b = axum::http::Request::builder().uri("/");
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let mut r = b.body(Body::empty()).unwrap();
        r.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    }

    fn client(r: &Request) -> String {
        r.extensions().get::<ConnectInfo<SocketAddr>>().unwrap().0.ip().to_string()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let trusted: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let mut r = req("127.0.0.1:5000", &["203.0.113.7"]);
        use_forwarded_client(&mut r, &trusted);
        assert_eq!(client(&r), "203.0.113.7");
        // The client wrote its own header; the proxies appended the real address: the rightmost untrusted one.
        let mut r = req("127.0.0.1:5000", &["1.2.3.4, 198.51.100.9", "10.0.0.2"]);
        use_forwarded_client(&mut r, &trusted);
        assert_eq!(client(&r), "198.51.100.9");
        // From an untrusted peer the header means nothing.
        let mut r = req("198.51.100.9:5000", &["127.0.0.1"]);
        use_forwarded_client(&mut r, &trusted);
        assert_eq!(client(&r), "198.51.100.9");
        // Nothing configured: nothing believed.
        let mut r = req("127.0.0.1:5000", &["203.0.113.7"]);
        use_forwarded_client(&mut r, &[]);
        assert_eq!(client(&r), "127.0.0.1");
    }
}

//! The router: health, metrics, the API with its OpenAPI document, the UI and the assets, wrapped in
//! the layers every request passes (request id, security headers, panic catch, body limit — raised on the
//! upload routes only —, cross-site and anti-forgery checks, maintenance mode, metrics).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::json_error;
use crate::{AppState, api, assets, csrf, ui};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a per-process random prefix and a counter — unique across instances, cheap, and short
/// enough to read over the phone to the IT centre.
#[derive(Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    counter: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new() -> RequestIds {
        let mut prefix = [0u8; 3];
        let _ = security::random_bytes(&mut prefix);
        RequestIds { prefix: hex::encode(prefix).into(), counter: Arc::new(AtomicU64::new(1)) }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

pub fn build_router(state: AppState) -> Router {
    let (api_routes, openapi) = api::router();
    let openapi_json: Arc<String> = Arc::new(openapi.to_pretty_json().unwrap_or_default());
    let ids = RequestIds::new();

    let routes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()) }
            }),
        )
        .route("/assets/{file}", get(assets::serve))
        .route("/assets/pdfjs/{*file}", get(assets::serve_pdfjs))
        .merge(api_routes)
        .merge(ui::routes());
    layered(routes, state, ids)
}

/// Wraps `routes` in the layers every request passes. The security headers sit outside the panic catcher
/// and the body limit, so a 500 from a panic and a 413 carry them too (security.md AT-20: every response).
pub fn layered(routes: Router<AppState>, state: AppState, ids: RequestIds) -> Router {
    let hsts = state.secure_cookies;
    routes
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        // 2 MiB, raised only on the upload routes (crate::files::UPLOAD_ROUTES, security.md AT-21).
        .layer(middleware::from_fn(crate::files::limit_body))
        .layer(CatchPanicLayer::new())
        // A handler may set a stricter policy of its own (file downloads: `default-src 'none'; sandbox`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // Behind TLS (DANGJIAN_SECURE_COOKIES) browsers are told to come back only over HTTPS.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, ids))
        .with_state(state)
}

/// Ready when the database answers and every migration of this build is applied.
async fn readyz(State(s): State<AppState>) -> Response {
    match ops::status::readiness(&s.platform.db).await {
        Ok(()) => "ready".into_response(),
        Err(why) => {
            tracing::warn!(%why, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
        }
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let text = ops::status::render_metrics(&s.metrics, &s.ops, &s.platform.db).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn not_found(req: Request) -> Response {
    let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if req.uri().path().starts_with("/api/") {
        json_error(StatusCode::NOT_FOUND, "not_found", "没有这个接口".into(), None, &request_id)
    } else {
        ui::error_page(StatusCode::NOT_FOUND, "页面不存在", "您要找的页面不存在，请从导航重新进入。", &request_id)
    }
}

/// Refuses forged state changes ([`csrf`]: cross-site, then the anti-forgery token) and, in maintenance
/// mode, every state change; counts the limited routes per user ([`crate::limits`]); then counts the request and logs it with its id, status and duration. One
/// middleware instead of several: each costs a boxed future per request.
async fn observe(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    crate::proxy::use_forwarded_client(&mut req, &s.ops.settings.trusted_proxies);
    // Counted by route template (bounded), never by the path itself.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map(MatchedPath::as_str);
    let method = req.method().clone();
    let checked = match checked(&s, &method, req).await {
        Ok(req) => crate::limits::limited(&s, route, req).await,
        Err(refused) => Err(refused),
    };
    let req = match checked {
        Ok(req) => req,
        Err(refused) => {
            s.metrics.record(method.as_str(), route, refused.status().as_u16(), start.elapsed().as_micros() as u64);
            return refused;
        }
    };
    // The request line is copied only when the log will show it.
    let line = tracing::enabled!(tracing::Level::INFO).then(|| {
        let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        (req.uri().path().to_owned(), id)
    });
    let resp = next.run(req).await;
    let micros = start.elapsed().as_micros() as u64;
    s.metrics.record(method.as_str(), route, resp.status().as_u16(), micros);
    if let Some((path, request_id)) = line {
        tracing::info!(%method, %path, status = resp.status().as_u16(), micros, request_id, "request");
    }
    resp
}

/// The checks before a handler: forgery, then maintenance mode. Reads never pay for more than the
/// maintenance switch's cached state.
async fn checked(s: &AppState, method: &Method, req: Request) -> Result<Request, Response> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
        return match crate::readonly::refuse_during_maintenance(s, method, req.uri().path(), id).await {
            Some(refused) => Err(refused),
            None => Ok(req),
        };
    }
    if csrf::cross_site(req.method(), req.headers()) {
        let (parts, _) = req.into_parts();
        return Err(csrf::refuse(s, &parts, csrf::Refusal::CrossSite).await);
    }
    let (parts, body) = req.into_parts();
    let kept = parts.clone();
    let req = match csrf::guard(s, Request::from_parts(parts, body)).await {
        Ok(req) => req,
        Err(why) => return Err(csrf::refuse(s, &kept, why).await),
    };
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    match crate::readonly::refuse_during_maintenance(s, method, req.uri().path(), id).await {
        Some(refused) => Err(refused),
        None => Ok(req),
    }
}

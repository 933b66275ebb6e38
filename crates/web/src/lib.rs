//! The web shell of dangjian: one axum router serving the REST API (`/api/v1`, documented at
//! `/api/openapi.json`) and the Chinese server-rendered UI. Handlers are thin: they extract the caller
//! and the input, call one platform service function, and render the result.

pub mod api;
pub mod assets;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod files;
pub mod limits;
pub mod privacy;
pub mod proxy;
pub mod readonly;
pub mod router;
pub mod ui;

use std::sync::Arc;

pub use router::build_router;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub platform: Arc<platform::Platform>,
    pub metrics: Arc<ops::Metrics>,
    /// The operations state of this instance: the maintenance switch, the paths the status page shows.
    pub ops: Arc<ops::Ops>,
    /// Mark the session cookie `Secure` (set when served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
}

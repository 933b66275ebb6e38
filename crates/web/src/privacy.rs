//! Who contributes to a member's copy of her data (PIPL 第四十五条): the platform's own tables plus each
//! application's provider. `tests/it/privacy.rs` fails when a table that refers to a person or an account is
//! covered by none of them.

use platform::privacy::PersonData;

/// Every application's provider, in the order their sections appear in the copy.
pub fn providers() -> Vec<&'static dyn PersonData> {
    vec![
        &platform::privacy::Attachments,
        &affairs::privacy::Development,
        &life::privacy::Attendance,
        &life::privacy::NoticeReceipts,
        &life::privacy::MemberServices,
        &life::privacy::CommitteeRecords,
        &learning::privacy::Progress,
        &learning::privacy::Activity,
        &affairs::privacy::TransferRecords,
        &affairs::privacy::FeeRecords,
    ]
}

/// Tables about a person or an account that the copy leaves out on purpose, and why.
pub const NOT_IN_THE_COPY: &[(&str, &str)] = &[
    ("login_challenges", "sign-in state that lives five minutes"),
    ("mfa_totp", "the authenticator's secret: a copy would let anyone holding the file pass the second factor"),
    ("mfa_recovery_codes", "hashes of one-time codes: of no use to the person, a risk in a file"),
    ("password_history", "hashes of former passwords: of no use to the person, a risk in a file"),
    (
        "shared_account_reviews",
        "the security administrators' findings on a suspected shared account (AT-16): the sign-ins behind them are in the copy's audit entries",
    ),
    (
        "security_notifications",
        "the security administrators' to-do list about an account (AT-16), not data about the person",
    ),
];

/// The copy as a ZIP download (`my-data-YYYYMMDD.zip`: the readable page and its PDF, the JSON, a CSV per table), made
/// off the async threads; never cached (the router's `no-store`), never written to disk.
pub async fn zip_download(doc: &serde_json::Value, request_id: &str) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let doc = doc.clone();
    let made = tokio::task::spawn_blocking(move || {
        let mut files = platform::privacy::copy_files(&doc)?;
        // The PDF where the CJK fonts are installed (as for letters); the HTML page says the same without them.
        let dir = std::env::var_os("DANGJIAN_FONT_DIR").map(std::path::PathBuf::from);
        match documents::pdf::Fonts::load(dir.as_deref())
            .and_then(|fonts| documents::pdf::render(&platform::privacy::copy_document(&doc), &fonts))
        {
            Ok(pdf) => files.insert(1, ("我的个人信息.pdf".to_string(), pdf)),
            Err(e) => tracing::warn!(error = %e, "copy without its PDF"),
        }
        documents::archive::write(&files)
    })
    .await;
    match made {
        Ok(Ok(bytes)) => {
            let today = kernel::dates::today();
            let name = format!("my-data-{:04}{:02}{:02}.zip", today.year(), u8::from(today.month()), today.day());
            (
                [
                    (header::CONTENT_TYPE, "application/zip".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                ],
                bytes,
            )
                .into_response()
        }
        other => {
            tracing::error!(request_id, error = ?other.map(|r| r.map(|b| b.len())), "copy archive");
            crate::error::json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "生成副本失败".into(),
                None,
                request_id,
            )
        }
    }
}

/// The copy as a file download (`我的个人信息-YYYYMMDD.json`), never cached.
pub fn download(doc: &serde_json::Value) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let today = kernel::dates::today();
    let name = format!("my-data-{:04}{:02}{:02}.json", today.year(), u8::from(today.month()), today.day());
    let body = serde_json::to_string_pretty(doc).unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

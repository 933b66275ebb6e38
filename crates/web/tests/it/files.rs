//! The attachment store (platform::files, security.md AT-21) on both databases: what a stored file keeps,
//! that an attachment is found only through its owner, that a rolled-back write stores nothing, and how a
//! download is served. The checks of each AT-21 case are unit tests in crates/platform/src/files.rs; the
//! uploads through the development pipeline's routes are in tests/it/development.rs.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use platform::files::{FileType, Owner};
use platform::{Actor, Ctx};
use serde_json::Value;

use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn system() -> (Actor, Ctx) {
    (platform::service::system_actor(), Ctx { request_id: "test".into(), ip: "-".into(), ..Ctx::default() })
}

#[tokio::test]
async fn an_attachment_is_stored_whole_and_found_only_through_its_owner() {
    on_both(|app| async move {
        let (actor, ctx) = system();
        let p = &app.platform;
        let checked = p.check_upload(&ctx, &actor, "file", "../../入党申请书", PDF).await.unwrap();
        assert_eq!(checked.name, "入党申请书.pdf");
        let owner = Owner { kind: "test_record", id: 7, org_path: "/1/", person_id: None };
        let mut tx = p.db.begin().await.unwrap();
        let meta = p.attach(&mut tx, &ctx, &actor, &owner, &checked, PDF).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((meta.file_type.as_str(), meta.size), ("pdf", PDF.len() as i64));

        let listed = p.attachments_of("test_record", &[7, 8]).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "入党申请书.pdf");
        assert_eq!(listed[0].sha256, meta.sha256);
        assert_eq!(listed[0].sha256.len(), 64);

        let got = p.attachment(&ctx, &actor, "test_record", 7, meta.id).await.unwrap();
        assert_eq!(got.content, PDF);
        assert_eq!(got.file_type, FileType::Pdf);
        // Another owner's id, or another kind, does not find it.
        for (kind, owner_id) in [("test_record", 8), ("meeting", 7)] {
            assert!(matches!(
                p.attachment(&ctx, &actor, kind, owner_id, meta.id).await,
                Err(platform::Error::NotFound)
            ));
        }

        // A write that fails after the file was attached leaves nothing behind.
        let mut tx = p.db.begin().await.unwrap();
        let other = Owner { kind: "test_record", id: 9, org_path: "/1/", person_id: None };
        p.attach(&mut tx, &ctx, &actor, &other, &checked, PDF).await.unwrap();
        drop(tx);
        assert!(p.attachments_of("test_record", &[9]).await.unwrap().is_empty());

        // The audit log names every upload and download.
        let actions = audit_actions(&app).await;
        assert!(
            actions.contains(&"attachment.add".to_string()) && actions.contains(&"attachment.download".to_string())
        );
        app
    })
    .await;
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    match &app.platform.db {
        kernel::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT action FROM audit_log ORDER BY seq").fetch_all(pool).await.unwrap()
        }
        kernel::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT action FROM audit_log ORDER BY seq").fetch_all(pool).await.unwrap()
        }
    }
}

#[tokio::test]
async fn refusals_are_field_errors_and_the_limit_per_owner_holds() {
    on_both(|app| async move {
        let (actor, ctx) = system();
        let p = &app.platform;
        match p.check_upload(&ctx, &actor, "file", "申请书.pdf", b"MZ\x90\x00this is an exe").await {
            Err(platform::Error::Invalid(f)) => assert!(f["file"].contains("不支持的文件类型"), "{f:?}"),
            other => panic!("{other:?}"),
        }
        let checked = p.check_upload(&ctx, &actor, "file", "a.txt", "内容".as_bytes()).await.unwrap();
        let owner = Owner { kind: "test_record", id: 1, org_path: "/1/", person_id: None };
        let mut tx = p.db.begin().await.unwrap();
        for _ in 0..platform::files::MAX_PER_OWNER {
            p.attach(&mut tx, &ctx, &actor, &owner, &checked, "内容".as_bytes()).await.unwrap();
        }
        let over = p.attach(&mut tx, &ctx, &actor, &owner, &checked, "内容".as_bytes()).await;
        assert!(matches!(over, Err(platform::Error::Conflict(_))), "{over:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_download_is_an_attachment_of_the_checked_type_that_never_runs() {
    on_both(|app| async move {
        let (actor, ctx) = system();
        let p = &app.platform;
        // A text file that looks like a page to a browser that sniffs.
        let html = b"hello <script>alert(document.cookie)</script>";
        let checked = p.check_upload(&ctx, &actor, "file", "说明.txt", html).await.unwrap();
        let owner = Owner { kind: "test_record", id: 3, org_path: "/1/", person_id: None };
        let mut tx = p.db.begin().await.unwrap();
        let meta = p.attach(&mut tx, &ctx, &actor, &owner, &checked, html).await.unwrap();
        tx.commit().await.unwrap();
        let resp = web::files::download(p.attachment(&ctx, &actor, "test_record", 3, meta.id).await.unwrap());
        let h = resp.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/plain");
        let cd = h[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(cd.starts_with("attachment; filename=\"attachment-"), "{cd}");
        assert!(cd.ends_with(".txt\"; filename*=UTF-8''%E8%AF%B4%E6%98%8E.txt"), "{cd}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "default-src 'none'; sandbox");
        assert_eq!(h[header::CACHE_CONTROL], "private, no-store");
        app
    })
    .await;
}

#[tokio::test]
async fn bodies_beyond_two_mebibytes_are_refused_outside_the_upload_routes() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let big = vec![b'a'; 3 * 1024 * 1024];
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/orgs")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    let (st, _, body) = app.request(req).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "payload_too_large");
    app.cleanup().await;
}

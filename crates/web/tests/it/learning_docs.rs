//! 学习教育 documents published as PDF (issue 5, item 1: "documents (PDF uploads, viewed in the browser)"),
//! on SQLite and PostgreSQL: the material form with its file, the reading page that draws the PDF with
//! pdf.js, the download for whoever may read it, a new file as a new version, the API's multipart
//! publication and raw replacement; and every refusal with nothing written (a file on an article, a file
//! that is not a PDF, EICAR, a document with neither file nor link, a member, another branch).

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

/// Two small PDFs: the first upload and its replacement.
const PDF_V1: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PDF_V2: &[u8] =
    b"%PDF-1.7\n% second edition\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Materials and material files stored.
async fn stored(app: &TestApp) -> (i64, i64) {
    (
        count(&app.platform.db, "SELECT COUNT(*) FROM materials").await,
        count(&app.platform.db, "SELECT COUNT(*) FROM attachments WHERE owner_kind = 'material'").await,
    )
}

/// GET with a session cookie, keeping the headers.
async fn get(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    app.request(Request::builder().uri(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
}

fn document_fields<'a>(title: &'a str, org: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("title", title), ("kind", "document"), ("category", "discipline"), ("org_id", org), ("tags", "党章")]
}

#[tokio::test]
async fn a_document_is_published_with_its_pdf_read_on_the_page_and_replaced_as_a_new_version() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let reader = member_session(&app, &t, "李红", t.ba, "801").await;
        let outsider = member_session(&app, &t, "王芳", t.bb, "802").await;
        let ba = t.ba.to_string();

        // The form sends files: multipart, with the file input.
        let (st, html) = app.page("/learning/new", &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains(r#"enctype="multipart/form-data""#) && html.contains(r#"name="file" type="file""#),
            "{html}"
        );

        // Refusals first, each with its message and nothing written.
        let before = stored(&app).await;
        let mut article = document_fields("附PDF的文章", &ba);
        article[1] = ("kind", "article");
        article.push(("body", "正文"));
        let (st, _, html) = app
            .multipart("/learning/new", Auth::Cookie(&sec), &article, Some(("a.pdf", "application/pdf", PDF_V1)))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("只有“文档”类材料可以上传PDF文件"), "{html}");
        let fields = document_fields("党章学习辅导", &ba);
        let (st, _, html) = app
            .multipart(
                "/learning/new",
                Auth::Cookie(&sec),
                &fields,
                Some(("辅导.txt", "text/plain", "纯文本".as_bytes())),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("学习文档只接受PDF文件"), "{html}");
        let (st, _, html) = app
            .multipart("/learning/new", Auth::Cookie(&sec), &fields, Some(("eicar.pdf", "application/pdf", EICAR)))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        let (st, _, html) = app.multipart("/learning/new", Auth::Cookie(&sec), &fields, None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("文档须上传PDF文件或填写链接地址"), "{html}");
        let (st, _, _) = app
            .multipart("/learning/new", Auth::Cookie(&reader), &fields, Some(("a.pdf", "application/pdf", PDF_V1)))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(stored(&app).await, before, "nothing written by a refused publication");

        // Published with its PDF.
        let (st, h, _) = app
            .multipart(
                "/learning/new",
                Auth::Cookie(&sec),
                &fields,
                Some(("党章学习辅导.pdf", "application/pdf", PDF_V1)),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let loc = h.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
        let id: i64 = loc.trim_start_matches("/learning/").split('?').next().unwrap().parse().unwrap();
        assert_eq!(stored(&app).await, (before.0 + 1, before.1 + 1));

        // The member of the branch reads it on the page: the viewer and the download.
        let (st, html) = app.page(&format!("/learning/{id}"), &reader).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("下载PDF") && html.contains("党章学习辅导.pdf"), "{html}");
        if web::assets::has_pdfjs() {
            assert!(html.contains(r#"id="pdf-viewer""#) && html.contains("/assets/pdf-viewer.js"), "{html}");
        }
        let (st, h, body) = get(&app, &format!("/learning/{id}/file"), &reader).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert!(h[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "default-src 'none'; sandbox");
        assert_eq!(body, String::from_utf8_lossy(PDF_V1));
        // Reading a published document is not an audited read (it holds no personal data).
        let reads =
            count(&app.platform.db, "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.download'").await;
        assert_eq!(reads, 0);

        // Another branch's member: not in the audience, 404 for the page and the file.
        assert_eq!(app.page(&format!("/learning/{id}"), &outsider).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, &format!("/learning/{id}/file"), &outsider).await.0, StatusCode::NOT_FOUND);

        // The edit form names the current file; saving without a new one keeps it (no link needed).
        let (st, html) = app.page(&format!("/learning/{id}/edit"), &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("当前PDF文件：党章学习辅导.pdf"), "{html}");
        let mut edit = document_fields("党章学习辅导（修订）", &ba);
        edit.push(("version", "1"));
        let (st, _, _) = app.multipart(&format!("/learning/{id}/edit"), Auth::Cookie(&sec), &edit, None).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(get(&app, &format!("/learning/{id}/file"), &reader).await.2, String::from_utf8_lossy(PDF_V1));

        // A new file: version 3 shows it; version 2 keeps the first file, which stays stored.
        edit[0] = ("title", "党章学习辅导（第二版）");
        edit[5] = ("version", "2");
        let (st, _, _) = app
            .multipart(
                &format!("/learning/{id}/edit"),
                Auth::Cookie(&sec),
                &edit,
                Some(("第二版.pdf", "application/pdf", PDF_V2)),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(get(&app, &format!("/learning/{id}/file"), &reader).await.2, String::from_utf8_lossy(PDF_V2));
        let staff = t.staff.clone();
        let (st, m) = app.call("GET", &format!("/api/v1/learning/materials/{id}"), None, Some(&staff)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!((m["version"].as_i64(), m["file"]["name"].as_str()), (Some(3), Some("第二版.pdf")), "{m}");
        assert_eq!(m["file"]["url"], format!("/api/v1/learning/materials/{id}/file"));
        let (_, versions) =
            app.call("GET", &format!("/api/v1/learning/materials/{id}/versions"), None, Some(&staff)).await;
        let files: Vec<bool> = versions.as_array().unwrap().iter().map(|v| v["file_id"].is_i64()).collect();
        assert_eq!(files, vec![true, true], "{versions}");
        assert_eq!(stored(&app).await.1, before.1 + 2);

        // A bad replacement changes nothing: the version and the file stay.
        edit[5] = ("version", "3");
        let (st, _, _) = app
            .multipart(
                &format!("/learning/{id}/edit"),
                Auth::Cookie(&sec),
                &edit,
                Some(("x.txt", "text/plain", b"not a pdf")),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, m) = app.call("GET", &format!("/api/v1/learning/materials/{id}"), None, Some(&staff)).await;
        assert_eq!(m["version"].as_i64(), Some(3));
        assert_eq!(stored(&app).await.1, before.1 + 2);
        app
    })
    .await;
}

#[tokio::test]
async fn the_api_publishes_a_document_with_its_pdf_and_replaces_the_file() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let path = "/api/v1/learning/materials/documents";
        let material =
            json!({"title": "党员教育管理工作条例学习辅导", "kind": "document", "org_id": t.ba, "tags": ["党员教育"]});
        let material = material.to_string();
        let before = count(&app.platform.db, "SELECT COUNT(*) FROM materials").await;

        // Refusals: no file, bad JSON, a file on an article; a member may not publish.
        let (st, _, body) = app.multipart(path, Auth::Bearer(&t.sec_a), &[("material", &material)], None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("请选择要上传的PDF文件"), "{body}");
        let (st, _, body) = app
            .multipart(
                path,
                Auth::Bearer(&t.sec_a),
                &[("material", "{not json")],
                Some(("a.pdf", "application/pdf", PDF_V1)),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["error"]["fields"]["material"].is_string(), "{v}");
        let article = json!({"title": "文章", "kind": "article", "body": "正文", "org_id": t.ba}).to_string();
        let (st, _, body) = app
            .multipart(
                path,
                Auth::Bearer(&t.sec_a),
                &[("material", &article)],
                Some(("a.pdf", "application/pdf", PDF_V1)),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM materials").await, before);

        let (st, _, body) = app
            .multipart(
                path,
                Auth::Bearer(&t.sec_a),
                &[("material", &material)],
                Some(("辅导.pdf", "application/pdf", PDF_V1)),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap();

        // The file through the API.
        let req = Request::builder()
            .uri(format!("/api/v1/learning/materials/{id}/file"))
            .header(header::AUTHORIZATION, format!("Bearer {}", t.sec_a))
            .body(Body::empty())
            .unwrap();
        let (st, h, body) = app.request(req).await;
        assert_eq!((st, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "application/pdf"));
        assert_eq!(body, String::from_utf8_lossy(PDF_V1));

        // A raw replacement: the version goes up and the new file is served.
        let put = |bytes: &'static [u8], name: &str, target: i64| {
            Request::builder()
                .method("PUT")
                .uri(format!("/api/v1/learning/materials/{target}/file?name={}", web::auth::encode(name)))
                .header(header::AUTHORIZATION, format!("Bearer {}", t.sec_a))
                .header(header::CONTENT_TYPE, "application/pdf")
                .body(Body::from(bytes))
                .unwrap()
        };
        let (st, _, body) = app.request(put(PDF_V2, "第二版.pdf", id)).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let m: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((m["version"].as_i64(), m["file"]["name"].as_str()), (Some(2), Some("第二版.pdf")), "{m}");

        // Only a document takes a PDF; a member of the branch may not replace it.
        let article = app
            .post_ok(
                "/api/v1/learning/materials",
                json!({"title": "党费", "body": "按月交纳党费。", "kind": "article", "org_id": t.ba}),
                &t.sec_a,
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let (st, _, body) = app.request(put(PDF_V1, "a.pdf", article)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM attachments WHERE owner_kind = 'material'").await, 2);
        app
    })
    .await;
}

#[tokio::test]
async fn the_pdf_viewer_and_pdfjs_are_served_from_the_binary() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let t = tree(&app).await;
    let sec = app.web_login("sec_a", USER_PW).await;
    let (st, h, js) = get(&app, "/assets/pdf-viewer.js", &sec).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.contains("/assets/pdfjs/pdf.min.mjs") && js.contains("isEvalSupported: false"));
    if web::assets::has_pdfjs() {
        for (file, mime) in [
            ("pdf.min.mjs", "text/javascript; charset=utf-8"),
            ("pdf.worker.min.mjs", "text/javascript; charset=utf-8"),
            ("cmaps/UniGB-UCS2-H.bcmap", "application/octet-stream"),
            ("standard_fonts/FoxitSerif.pfb", "application/octet-stream"),
        ] {
            let (st, h, _) = get(&app, &format!("/assets/pdfjs/{file}"), &sec).await;
            assert_eq!((st, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, mime), "{file}");
        }
    }
    for missing in ["/assets/pdfjs/../Cargo.toml", "/assets/pdfjs/nothing.mjs", "/assets/pdfjs/"] {
        assert_eq!(get(&app, missing, &sec).await.0, StatusCode::NOT_FOUND, "{missing}");
    }
    let _ = t;
    app.cleanup().await;
}

#[tokio::test]
async fn a_word_only_inside_the_pdf_finds_the_document_and_times_it_by_its_text() {
    // A real Chinese PDF, written by our own renderer (needs fonts-noto-cjk, which CI installs).
    let Ok(fonts) = documents::pdf::Fonts::load(None) else {
        assert!(std::env::var("CI").is_err(), "fonts-noto-cjk must be installed under CI");
        return;
    };
    use documents::pdf::{Block, Document};
    let paragraph = "井冈山精神坚定执着追理想，实事求是闯新路，艰苦奋斗攻难关，依靠群众求胜利。".repeat(20);
    let doc = Document {
        title: "学习辅导".into(),
        author: None,
        footer: None,
        blocks: vec![Block::Title("红色教育基地学习".into()), Block::Paragraph(paragraph)],
    };
    let pdf = documents::pdf::render(&doc, &fonts).unwrap();
    on_both(|app| {
        let pdf = pdf.clone();
        async move {
            let t = tree(&app).await;
            let sec = app.web_login("sec_a", USER_PW).await;
            let reader = member_session(&app, &t, "李红", t.ba, "811").await;
            let ba = t.ba.to_string();
            let fields = document_fields("红色教育基地学习资料", &ba);
            let (st, h, _) = app
                .multipart("/learning/new", Auth::Cookie(&sec), &fields, Some(("资料.pdf", "application/pdf", &pdf)))
                .await;
            assert_eq!(st, StatusCode::SEE_OTHER);
            let id: i64 = h[header::LOCATION]
                .to_str()
                .unwrap()
                .trim_start_matches("/learning/")
                .split('?')
                .next()
                .unwrap()
                .parse()
                .unwrap();

            // 井冈山 is only inside the PDF: the search finds the document.
            let (st, html) = app.page(&format!("/learning?q={}", web::auth::encode("井冈山")), &reader).await;
            assert_eq!(st, StatusCode::OK);
            assert!(html.contains(&format!("/learning/{id}")), "{html}");
            // Timed by the PDF's ~700 characters like an article (not the 10 minutes of a link).
            let (_, m) = app.call("GET", &format!("/api/v1/learning/materials/{id}"), None, Some(&t.sec_a)).await;
            let secs = m["required_seconds"].as_i64().unwrap();
            assert!(secs > 60 && secs < 600, "{m}");

            // An edit without a new file keeps the PDF's words in the index.
            let mut edit = fields.clone();
            edit.push(("version", "1"));
            edit[0] = ("title", "红色教育基地学习资料（修订）");
            let (st, _, _) = app.multipart(&format!("/learning/{id}/edit"), Auth::Cookie(&sec), &edit, None).await;
            assert_eq!(st, StatusCode::SEE_OTHER);
            let (_, html) = app.page(&format!("/learning?q={}", web::auth::encode("井冈山")), &reader).await;
            assert!(html.contains(&format!("/learning/{id}")), "{html}");
            app
        }
    })
    .await;
}

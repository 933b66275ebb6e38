//! `dangjian import people FILE [--dry-run]` and `dangjian export people --org ID --format xlsx|csv --out
//! FILE`: the register on the command line, acting as the system (org staff of everything, audited as
//! `system`), like `dangjian demo`. The report is printed in Chinese; any error row exits 1.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use documents::sheet::Format;
use platform::Ctx;
use platform::roster::Severity;
use platform::service::{ImportProgress, ImportReport, ImportStep, system_actor};

fn ctx(what: &str) -> Ctx {
    Ctx {
        request_id: format!("cli-{what}-{}", std::process::id()),
        ip: "-".into(),
        user_agent: format!("dangjian {what}"),
    }
}

pub async fn import_people(s: crate::settings::Settings, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // A name ending in .xlsx is read as a workbook (a broken one says so); otherwise the bytes decide.
    let format = match file.to_str().and_then(Format::from_file_name) {
        Some(Format::Xlsx) => Format::Xlsx,
        _ => Format::sniff(&bytes),
    };
    let platform = crate::open(&s).await?;
    let started = std::time::Instant::now();
    let progress = std::sync::Arc::new(ImportProgress::default());
    let bar = progress_bar(std::sync::Arc::clone(&progress));
    let result = platform
        .import_people_file_with(&ctx("import"), &system_actor(), &bytes, Some(format), dry_run, &progress)
        .await;
    bar.abort();
    platform.db.close().await;
    let report = match result {
        Ok(r) => r,
        Err(platform::Error::Invalid(fields)) => {
            for m in fields.values() {
                eprintln!("无法导入 {}：{m}", file.display());
            }
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };
    print_report(file, &report, started.elapsed());
    if report.error_rows > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Draws the import's progress on stderr (a bar per step: reading, checking, writing) until aborted; the
/// bar is hidden when stderr is not a terminal.
fn progress_bar(progress: std::sync::Arc<ImportProgress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, 约剩 {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let mut shown: Option<ImportStep> = None;
        let _clear = ClearOnDrop(bar.clone());
        loop {
            let (step, done, total) = progress.get();
            if shown != Some(step) {
                bar.reset();
                bar.set_message(step.label());
                shown = Some(step);
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
}

/// Clears the bar when its task ends (aborted once the import returns).
struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

fn print_report(file: &Path, r: &ImportReport, took: std::time::Duration) {
    let mode = if r.dry_run { "试运行，不写入" } else { "导入" };
    println!(
        "{}（{mode}）：共 {} 行，无错误 {} 行，错误 {} 行，提醒 {} 行",
        file.display(),
        r.rows,
        r.valid_rows,
        r.error_rows,
        r.warning_rows
    );
    for i in &r.issues {
        let who = i.name.as_deref().map(|n| format!("（{n}）")).unwrap_or_default();
        println!("  第{}行 [{}] {}：{}{who}", i.row, i.severity.label(), i.column, i.message);
    }
    if !r.ignored_columns.is_empty() {
        println!("未读取的列：{}", r.ignored_columns.join("、"));
    }
    for o in &r.orgs {
        println!("  {}：{} 人", o.name, o.people);
    }
    let errors = r.issues.iter().any(|i| i.severity == Severity::Error);
    if r.committed {
        println!("已导入 {} 人（用时 {:.2} 秒），已记入审计日志。", r.imported, took.as_secs_f64());
    } else if errors {
        println!("有 {} 行存在错误，未写入任何记录。请按上面的行号修改后重新导入。", r.error_rows);
    } else if r.dry_run {
        println!("检查通过，未写入任何记录。去掉 --dry-run 即可导入这 {} 人。", r.valid_rows);
    } else {
        println!("文件中没有可导入的行。");
    }
}

pub async fn export_people(s: crate::settings::Settings, org: i64, format: &str, out: &Path) -> anyhow::Result<()> {
    let Some(format) = Format::parse(format) else { bail!("--format must be xlsx or csv") };
    if out.exists() {
        bail!("{} already exists; choose another --out (an export is never written over a file)", out.display());
    }
    let platform = crate::open(&s).await?;
    let result = platform.export_people(&ctx("export"), &system_actor(), org, format).await;
    platform.db.close().await;
    let file = match result {
        Ok(f) => f,
        Err(platform::Error::NotFound) => bail!("没有编号为 {org} 的党组织"),
        Err(e) => return Err(e.into()),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Masked, but still a list of people: readable by its owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(out).with_context(|| format!("creating {}", out.display()))?;
    f.write_all(&file.bytes)?;
    f.sync_all()?;
    println!("已导出 {} 人到 {}（公民身份号码、联系电话已脱敏；已记入审计日志）", file.rows, out.display());
    Ok(())
}

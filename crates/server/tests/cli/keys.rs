//! The crypto profile and key rotation as an operator runs them (docs/OPERATIONS.md, key custody): the 国密
//! profile chosen on an empty database and refused afterwards, everything (demo, audit chain, export file,
//! backup and restore) working under it; `dangjian keys rotate` stopped half-way (both versions decrypt),
//! resumed, and leaving no value of the old version; a tampered ciphertext failing; no plaintext ID
//! number in the database file. On SQLite and on PostgreSQL.

use std::path::Path;

use kernel::{Db, on_db};
use security::rotation::{self, ENCRYPTED, NOT_ENCRYPTED};
use security::{FieldCipher, KeyRing, profile::Profile};

use super::backup::{PgDb, copy_key, demo, dj, ok, refused};
use super::{temp_dir, tokio_runtime};

/// Values per (column, version) in the encrypted columns.
fn census(dir: &Path, url: Option<&str>) -> Vec<(&'static str, u8, u64)> {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let c = rotation::census(&db).await.unwrap();
        db.close().await;
        c
    })
}

/// Every encrypted value of the database, decrypted with `cipher`; panics on the first that fails.
fn decrypt_all(dir: &Path, url: Option<&str>, cipher: &FieldCipher) -> usize {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let mut n = 0;
        for (sql, aad) in [
            ("SELECT id_number_enc FROM people", "people.id_number"),
            ("SELECT phone_enc FROM people WHERE phone_enc IS NOT NULL", "people.phone"),
            ("SELECT address_enc FROM people WHERE address_enc IS NOT NULL", "people.address"),
        ] {
            let values: Vec<Vec<u8>> = on_db!(&db, p => sqlx::query_scalar(sql).fetch_all(p).await).unwrap();
            for v in values {
                cipher.decrypt(aad, &v).unwrap_or_else(|e| panic!("{aad}: {e}"));
                n += 1;
            }
        }
        db.close().await;
        n
    })
}

/// Every binary column of the schema is either a field ciphertext that rotation re-encrypts or listed with
/// its reason for not being one.
fn binary_columns_are_all_accounted_for(dir: &Path, url: Option<&str>) {
    const SQLITE: &str = "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND upper(p.type) = 'BLOB'";
    const PG: &str = "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND data_type = 'bytea'";
    let columns: Vec<String> = tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let c = match &db {
            Db::Sqlite(p) => sqlx::query_scalar(SQLITE).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(PG).fetch_all(p).await.unwrap(),
        };
        db.close().await;
        c
    });
    assert!(columns.len() >= ENCRYPTED.len());
    let unknown: Vec<&String> = columns
        .iter()
        .filter(|c| !ENCRYPTED.iter().any(|e| e.name == *c) && !NOT_ENCRYPTED.iter().any(|(n, _)| n == c))
        .collect();
    assert!(
        unknown.is_empty(),
        "binary columns neither in security::rotation::ENCRYPTED nor in NOT_ENCRYPTED: {unknown:?}"
    );
    for e in ENCRYPTED {
        assert!(columns.iter().any(|c| c == e.name), "{} is not in the schema", e.name);
    }
}

/// The SQLite database file (and its write-ahead log) holds no 18-character ID number in plaintext.
fn no_plaintext_id_number_in_the_file(dir: &Path) {
    for name in ["dangjian.db", "dangjian.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join(name)) else { continue };
        let hit = bytes.windows(18).position(|w| {
            w[..17].iter().all(u8::is_ascii_digit)
                && (w[17].is_ascii_digit() || w[17] == b'X')
                && (b'1'..=b'6').contains(&w[0])
                && (w[6] == b'1' || w[6] == b'2')
        });
        assert!(hit.is_none(), "{name} holds an ID number in plaintext at byte {hit:?}");
    }
}

fn cipher_of(dir: &Path, profile: Profile) -> FieldCipher {
    FieldCipher::new(&KeyRing::load(&KeyRing::default_path(dir)).unwrap().with_profile(profile)).unwrap()
}

fn rotation_works(dir: &Path, url: Option<&str>, profile: Profile) {
    demo(dir, url);
    binary_columns_are_all_accounted_for(dir, url);
    let before = census(dir, url);
    assert!(before.iter().all(|(_, v, _)| *v == 1), "{before:?}");
    let total: u64 = before.iter().map(|(_, _, n)| n).sum();
    assert!(total > 100, "the demo has encrypted values: {total}");
    // A platform that started before the rotation: it knows version 1 only.
    let running = cipher_of(dir, profile);

    // Stopped after two batches, as Ctrl-C would: both versions in the database, all decrypt.
    let batches = std::sync::atomic::AtomicU32::new(0);
    let stop_after_two = |_: &str, _: u64| batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 1;
    let report = tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let r = rotation::rotate(&db, &KeyRing::default_path(dir), profile, 25, &stop_after_two).await.unwrap();
        db.close().await;
        r
    });
    assert!(report.stopped && report.re_encrypted == 50, "{report:?}");
    let mixed = census(dir, url);
    assert!(mixed.iter().any(|(_, v, _)| *v == 1) && mixed.iter().any(|(_, v, _)| *v == 2), "{mixed:?}");
    assert_eq!(decrypt_all(dir, url, &running) as u64, total, "the running platform reads both versions");
    if url.is_none() {
        no_plaintext_id_number_in_the_file(dir);
    }
    let status = ok(&dj(dir, url, &["keys", "status"]));
    assert!(status.contains("key version 2: rotating"), "{status}");

    // Resumed from the command line: nothing of version 1 is left; version 1 retired; audited.
    let out = ok(&dj(dir, url, &["keys", "rotate", "--batch", "40"]));
    assert!(out.contains("继续了上次中断的轮换") && out.contains("停用版本 [1]"), "{out}");
    let after = census(dir, url);
    assert!(after.iter().all(|(_, v, _)| *v == 2), "no value of version 1 remains: {after:?}");
    assert_eq!(after.iter().map(|(_, _, n)| n).sum::<u64>(), total);
    assert_eq!(decrypt_all(dir, url, &running) as u64, total);
    assert_eq!(decrypt_all(dir, url, &cipher_of(dir, profile)) as u64, total);
    let status = ok(&dj(dir, url, &["keys", "status"]));
    assert!(status.contains("key version 1: retired") && status.contains("key version 2: active"), "{status}");
    let actions: Vec<String> = tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let a = on_db!(&db, p => sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE action LIKE 'keys.%' ORDER BY seq"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        db.close().await;
        a
    });
    assert_eq!(actions, ["keys.rotate.start", "keys.rotate"]);
    assert!(ok(&dj(dir, url, &["audit", "verify"])).contains("intact"));
    // A second rotation starts version 3 from a clean state.
    assert!(ok(&dj(dir, url, &["keys", "rotate"])).contains("停用版本 [2]"));

    // A ciphertext edited in the database fails authentication.
    let cipher = cipher_of(dir, profile);
    let tampered: Vec<u8> = tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let mut v: Vec<u8> =
            on_db!(&db, p => sqlx::query_scalar("SELECT id_number_enc FROM people ORDER BY id LIMIT 1")
            .fetch_one(p)
            .await)
            .unwrap();
        db.close().await;
        let last = v.len() - 1;
        v[last] ^= 0x01;
        v
    });
    assert!(cipher.decrypt("people.id_number", &tampered).is_err(), "a tampered ciphertext fails");
    if url.is_none() {
        no_plaintext_id_number_in_the_file(dir);
    }
}

#[test]
fn keys_rotate_on_sqlite_leaves_no_old_version_and_no_plaintext() {
    let dir = temp_dir("rotate-sqlite");
    ok(&dj(&dir, None, &["migrate"]));
    rotation_works(&dir, None, Profile::Aes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_rotate_on_postgresql_under_the_sm_profile() {
    let dir = temp_dir("rotate-pg");
    let pg = PgDb::new();
    ok(&dj(&dir, Some(&pg.url), &["--crypto", "sm", "migrate"]));
    rotation_works(&dir, Some(&pg.url), Profile::Sm);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Under the 国密 profile: SM4-GCM values, an SM3 chain that verifies in the database, in an exported file and
/// in a backup, which restores; the profile cannot be changed afterwards.
fn sm_profile_works(dir: &Path, url: Option<&str>, restored: &Path, restored_url: Option<&str>) {
    ok(&dj(dir, url, &["--crypto", "sm", "migrate"]));
    demo(dir, url);
    let sample: Vec<u8> = tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let v = on_db!(&db, p => sqlx::query_scalar("SELECT id_number_enc FROM people ORDER BY id LIMIT 1")
            .fetch_one(p)
            .await)
        .unwrap();
        let profile: String =
            on_db!(&db, p => sqlx::query_scalar("SELECT profile || '/' || chain_hash FROM crypto_profile")
                .fetch_one(p)
                .await)
            .unwrap();
        assert_eq!(profile, "sm/sm3");
        db.close().await;
        v
    });
    assert_eq!(sample[1], security::cipher::ALG_SM4GCM, "the value names SM4-GCM");
    assert!(cipher_of(dir, Profile::Sm).decrypt("people.id_number", &sample).is_ok());
    assert!(cipher_of(dir, Profile::Aes).decrypt("people.id_number", &sample).is_err());
    assert!(ok(&dj(dir, url, &["audit", "verify"])).contains("intact"));

    // The exported chain names SM3 and verifies away from the database; an edit is found.
    let export = dir.join("audit-sm.ndjson");
    ok(&dj(dir, url, &["audit", "export", "--out", export.to_str().unwrap()]));
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.lines().all(|l| l.contains("\"hash_alg\":\"sm3\"")));
    assert!(ok(&dj(dir, url, &["audit", "verify", "--file", export.to_str().unwrap()])).contains("intact"));
    std::fs::write(&export, text.replacen("\"result\":\"ok\"", "\"result\":\"denied\"", 1)).unwrap();
    assert!(refused(&dj(dir, url, &["audit", "verify", "--file", export.to_str().unwrap()])).contains("BROKEN"));

    // Asking for the other profile afterwards is refused, and so is serving with it.
    let no = refused(&dj(dir, url, &["--crypto", "aes", "migrate"]));
    assert!(no.contains("cannot be changed"), "{no}");

    // A backup seals with SM4-GCM, checks the SM3 chain, and restores into an empty database.
    let file = dir.join("sm.backup");
    let printed = ok(&dj(dir, url, &["backup", "--out", file.to_str().unwrap()]));
    assert!(printed.contains("audit chain:"), "{printed}");
    copy_key(dir, restored);
    ok(&dj(restored, restored_url, &["restore", file.to_str().unwrap()]));
    assert!(ok(&dj(restored, restored_url, &["audit", "verify"])).contains("intact"));
    assert!(ok(&dj(restored, restored_url, &["keys", "status"])).contains("crypto profile: sm"));
    if url.is_none() {
        no_plaintext_id_number_in_the_file(dir);
    }
}

#[test]
fn the_sm_profile_on_sqlite_is_chosen_once_and_works_throughout() {
    let (dir, restored) = (temp_dir("sm-sqlite"), temp_dir("sm-sqlite-restored"));
    sm_profile_works(&dir, None, &restored, None);
    // A database that already holds data from before profiles, or chose aes, cannot become sm.
    let aes = temp_dir("aes-sqlite");
    ok(&dj(&aes, None, &["migrate"]));
    assert!(refused(&dj(&aes, None, &["--crypto", "sm", "migrate"])).contains("cannot be changed"));
    for d in [dir, restored, aes] {
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn the_sm_profile_on_postgresql_is_chosen_once_and_works_throughout() {
    let (dir, restored) = (temp_dir("sm-pg"), temp_dir("sm-pg-restored"));
    let (pg, pg2) = (PgDb::new(), PgDb::new());
    sm_profile_works(&dir, Some(&pg.url), &restored, Some(&pg2.url));
    for d in [dir, restored] {
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// The Debian path of SoftHSM 2's PKCS #11 module (package softhsm2), the HSM the tests stand in with.
const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM 2 token of its own under `root` (labelled `dangjian`, user PIN `12345678`): the environment
/// that points the module at it, or `None` (said loudly) where SoftHSM is not installed; under `CI=true`
/// a missing SoftHSM fails the test (.ci/run installs softhsm2).
fn softhsm_token(root: &Path) -> Option<Vec<(&'static str, String)>> {
    if !Path::new(SOFTHSM_MODULE).exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "SoftHSM 2 is not installed: CI installs softhsm2 (.ci/run) and the HSM tests must run there"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: the key file sealed by an HSM was not tested: SoftHSM 2 (Debian package softhsm2) \
             is not installed here. `apt-get install softhsm2` to run it; CI installs it and fails without it.\n"
        );
        return None;
    }
    let tokens = root.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = root.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
    )
    .unwrap();
    let env = vec![("SOFTHSM2_CONF", conf.display().to_string())];
    let out = std::process::Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "dangjian", "--so-pin", "87654321", "--pin", "12345678"])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(out.status.success(), "softhsm2-util: {}", String::from_utf8_lossy(&out.stderr));
    Some(env)
}

/// `dangjian` on `dir` (SQLite) with extra environment.
fn dj_env(dir: &Path, env: &[(&str, String)], args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(args).arg("--data-dir").arg(dir).env_remove("DANGJIAN_DATABASE_URL").env("DANGJIAN_LOG", "warn");
    cmd.env_remove("DANGJIAN_PKCS11_PIN").env_remove("DANGJIAN_PKCS11_PIN_FILE");
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.output().unwrap()
}

/// AT-38 "decryption works only through the service with KMS access": `keys seal` puts the key file under a
/// key of the HSM token; the file then holds none of the keys, the platform starts only with the HSM and
/// the right PIN, a rotation keeps it sealed (and decrypts every value through it), a file moved under
/// another key label or edited opens nowhere, and `keys unseal` gives the same keys back. Audited.
#[test]
fn a_key_file_sealed_by_an_hsm_reads_only_through_the_hsm() {
    let root = temp_dir("hsm");
    let dir = root.join("data");
    let Some(hsm) = softhsm_token(&root) else { return };
    demo(&dir, None);
    let key_file = KeyRing::default_path(&dir);
    let plain = std::fs::read_to_string(&key_file).unwrap();
    let field_1 = plain.lines().find_map(|l| l.strip_prefix("field.1=")).unwrap().to_string();
    let index = plain.lines().find_map(|l| l.strip_prefix("index=")).unwrap().to_string();
    let with_pin = |pin: &str| {
        let mut env = hsm.clone();
        env.push(("DANGJIAN_PKCS11_PIN", pin.to_string()));
        env
    };
    let seal = ["keys", "seal", "--module", SOFTHSM_MODULE, "--token", "dangjian"];

    // No key in the token yet: refused unless asked to make it; a wrong PIN is refused.
    assert!(refused(&dj_env(&dir, &with_pin("12345678"), &seal)).contains("no AES key labelled dangjian-kek"));
    assert!(
        refused(&dj_env(&dir, &with_pin("00000000"), &[&seal[..], &["--create-key"][..]].concat())).contains("PIN")
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), plain, "a refused seal leaves the file as it was");
    ok(&dj_env(&dir, &with_pin("12345678"), &[&seal[..], &["--create-key"][..]].concat()));

    let sealed = std::fs::read_to_string(&key_file).unwrap();
    assert!(sealed.starts_with("dangjian-key-file=pkcs11-v1\n"), "{sealed}");
    for secret in [&field_1, &index] {
        assert!(!sealed.contains(secret.as_str()), "a key is in the sealed file in plaintext");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o077, 0);
    }
    assert!(refused(&dj_env(&dir, &with_pin("12345678"), &seal)).contains("already sealed"));
    // Without the PIN, or with a wrong one, nothing starts; with it, the status says sealed.
    assert!(refused(&dj_env(&dir, &hsm, &["keys", "status"])).contains("DANGJIAN_PKCS11_PIN"));
    assert!(refused(&dj_env(&dir, &with_pin("00000000"), &["keys", "status"])).contains("PIN"));
    let pin_file = root.join("pin");
    std::fs::write(&pin_file, "12345678\n").unwrap();
    let mut by_file = hsm.clone();
    by_file.push(("DANGJIAN_PKCS11_PIN_FILE", pin_file.display().to_string()));
    let status = ok(&dj_env(&dir, &by_file, &["keys", "status"]));
    assert!(status.contains("sealed by the HSM token dangjian (key dangjian-kek"), "{status}");

    // A rotation reads every value through the sealed ring, and writes the file back sealed.
    let rotated = ok(&dj_env(&dir, &with_pin("12345678"), &["keys", "rotate"]));
    assert!(rotated.contains("版本 2"), "{rotated}");
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert!(after.starts_with("dangjian-key-file=pkcs11-v1\n") && after != sealed);

    // The file moved under another key label, or one byte of it changed: it opens nowhere.
    let moved = after.replace("key=dangjian-kek", "key=other-kek");
    std::fs::write(&key_file, &moved).unwrap();
    assert!(
        refused(&dj_env(&dir, &with_pin("12345678"), &["keys", "status"])).contains("no AES key labelled other-kek")
    );
    let line = after.lines().find(|l| l.starts_with("sealed=")).unwrap();
    let last = line.chars().last().unwrap();
    let flipped = format!("{}{}", &line[..line.len() - 1], if last == '0' { '1' } else { '0' });
    std::fs::write(&key_file, after.replace(line, &flipped)).unwrap();
    assert!(refused(&dj_env(&dir, &with_pin("12345678"), &["keys", "status"])).contains("could not open"));
    std::fs::write(&key_file, &after).unwrap();

    // Unsealed: the same keys (version 1 as before, the rotated version 2), readable without the HSM.
    ok(&dj_env(&dir, &with_pin("12345678"), &["keys", "unseal"]));
    let ring = KeyRing::load(&key_file).unwrap();
    assert_eq!((ring.key_id, ring.versions()), (2, vec![1, 2]));
    let back = std::fs::read_to_string(&key_file).unwrap();
    assert!(back.contains(&format!("field.1={field_1}")) && back.contains(&format!("index={index}")));
    let cipher = FieldCipher::new(&ring).unwrap();
    assert!(decrypt_all(&dir, None, &cipher) > 100);
    let actions = tokio_runtime().block_on(async {
        let db = Db::connect(None, &dir).await.unwrap();
        let a: Vec<String> =
            on_db!(&db, p => sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'keys.%' ORDER BY seq")
            .fetch_all(p).await)
            .unwrap();
        db.close().await;
        a
    });
    assert!(actions.contains(&"keys.seal".to_string()) && actions.contains(&"keys.unseal".to_string()), "{actions:?}");
    std::fs::remove_dir_all(&root).ok();
}

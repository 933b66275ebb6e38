//! `sqlx::migrate!` embeds the migration files at compile time but does not notice a new file by itself;
//! this makes Cargo rebuild the kernel whenever a migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}

//! The kernel: what every part of dangjian needs and none of them owns.
//!
//! * [`Db`] / [`DbTx`]: one handle over an SQLite or a PostgreSQL pool, chosen from the URL at start-up.
//!   The SQL in the parts' `store.rs` files is written once in the common dialect and run through
//!   [`on_db!`] / [`on_tx!`], which expand the same expression for both drivers.
//! * Migrations for both databases, embedded in the binary.
//! * Dates (today in China's time zone, month arithmetic by convention C1), a small deterministic RNG.

pub mod cache;
pub mod clock;
pub mod dates;
pub mod db;
pub mod rng;

pub use db::{Backend, Db, DbError, DbTx};

//! The one integration-test binary of the web crate: the whole platform through its router, on
//! SQLite and on PostgreSQL. Every test that touches the database runs on both backends.

mod accounts;
mod api;
mod audit;
mod checkin;
mod clamd;
mod committees;
mod consistency;
mod csrf;
mod development;
mod evidence;
mod exams;
mod fees;
mod files;
mod import;
mod import_jobs;
mod learning;
mod learning_manage;
mod learning_pages;
mod life;
mod limits;
mod matrix;
mod meeting_notices;
mod meeting_plans;
mod mfa;
mod notices;
mod operations;
mod privacy;
mod register_gen;
mod reveal;
mod rules;
mod schema;
mod services;
mod support;
mod transfers;
mod ui;

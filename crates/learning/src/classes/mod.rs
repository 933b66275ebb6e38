//! 线上党课 (online Party classes): a scheduled class for an organization's subtree with its lecturer, a link
//! or a room, attendance by joining through the page, and afterwards its replay and materials. A class
//! with sign-in is a 党课 meeting of crates/life (created or linked, never copied): QR sign-in, the sign-in
//! sheet and the branch's 党课 obligation in the compliance calendar are life's; when the class is finished,
//! the meeting is marked held and those who joined through the page are recorded present there.

pub mod model;
pub mod service;
pub mod store;

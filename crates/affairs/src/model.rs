//! The types of 党务管理 parsed at the boundary and shown by the API: [`transfer`] transfers of the
//! organizational relationship, introduction letters and member status; [`fee`] dues (党费). Code lists are stored as stable
//! English codes and shown with Chinese labels.

use std::collections::BTreeMap;

pub mod development;
pub mod fee;
pub mod transfer;

/// Field name → Chinese message, every bad item of one request at once.
pub type FieldErrors = BTreeMap<String, String>;

//! The only SQL of 党务管理, one file per part: [`transfer`] (transfers, letters, status changes, contacts,
//! graduates' retention).

pub mod transfer;

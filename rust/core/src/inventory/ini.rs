//! Ansible's INI inventory format. (Reader being written; see the inventory issue.)
use super::Inventory;
use crate::diag::{Code, Diagnostic};
use std::sync::Arc;

pub fn parse(name: &Arc<str>, _text: &str) -> Result<Inventory, Vec<Diagnostic>> {
    Err(vec![Diagnostic::error(
        Code::Syntax,
        format!("{name}: INI reader not built yet"),
    )])
}

//! Inventory -> Organization, collecting every problem on the way.

use super::Organization;
use crate::diag::Diagnostic;
use crate::inventory::Inventory;

/// Builds the organisation from an inventory. Returns it only when there is no error; the
/// diagnostics (errors and warnings) are always returned, all of them, not just the first.
pub fn build(_inv: &Inventory) -> (Option<Organization>, Vec<Diagnostic>) {
    (None, Vec::new())
}

//! metis-core: everything metis-deploy knows about a Metis organisation node.
//!
//! Data flows one way: an [`inventory::Inventory`] (read from an INI file exactly as Ansible reads
//! it, or from the JSON Ansible prints) becomes a typed [`model::Organization`], which is validated,
//! rendered into config files and turned into health checks.

pub mod argument_specs;
pub mod diag;
pub mod health;
pub mod inventory;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod secrets;
pub mod services;
pub mod validate;
pub mod value;

pub use diag::{Code, Diagnostic, Severity, Span};
pub use inventory::Inventory;
pub use model::Organization;
pub use value::Value;

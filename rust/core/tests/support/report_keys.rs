//! The health report's JSON keys, in order: the shape the README gives for
//! `metis-deploy health --format json` (and the Python binding's report). Shared by the core's
//! and the CLI's tests, so that both check the one documented shape.

/// The report's own keys.
pub const REPORT_KEYS: [&str; 2] = ["healthy", "checks"];

/// The keys of one check of the report.
pub const CHECK_KEYS: [&str; 9] = [
    "host",
    "address",
    "service",
    "check",
    "ok",
    "outcome",
    "detail",
    "elapsed_ms",
    "attempts",
];

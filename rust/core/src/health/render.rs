//! A report as a table grouped by host and service, in the style of `tiup cluster display`.

use super::{CheckResult, Report};
use std::fmt::Write;

/// Renders the report: one row per check, host and service written once per group, then a
/// summary line (`N checks, M failed: healthy|unhealthy`).
pub fn render_table(report: &Report) -> String {
    let mut hosts: Vec<&str> = Vec::new();
    for c in &report.checks {
        if !hosts.contains(&c.host.name.as_str()) {
            hosts.push(&c.host.name);
        }
    }
    let mut rows: Vec<&CheckResult> = report.checks.iter().collect();
    // Stable: within one host and service, checks keep their planned order.
    rows.sort_by_key(|c| {
        (
            hosts.iter().position(|h| *h == c.host.name),
            c.service.group(),
            c.service,
        )
    });

    let header = ["Host", "Service", "Check", "Status", "Time", "Detail"];
    let mut table: Vec<[String; 6]> = Vec::new();
    let mut last: Option<(&str, &str)> = None;
    for c in rows {
        let host = if c.host.name == c.host.ip.to_string() {
            c.host.name.clone()
        } else {
            format!("{} ({})", c.host.name, c.host.ip)
        };
        let key = (c.host.name.as_str(), c.service.name());
        let (host_cell, service_cell) = match last {
            Some((h, _)) if h == key.0 && last == Some(key) => (String::new(), String::new()),
            Some((h, _)) if h == key.0 => (String::new(), c.service.name().to_string()),
            _ => (host, c.service.name().to_string()),
        };
        last = Some(key);
        // Nothing a server (or an inventory) said reaches the terminal raw.
        let shown = |s: &str| crate::diag::printable(s).into_owned();
        table.push([
            shown(&host_cell),
            service_cell,
            shown(&c.check),
            c.outcome.as_str().to_string(),
            format!("{}ms", c.elapsed_ms),
            shown(&c.detail),
        ]);
    }

    let mut width = header.map(str::len);
    for row in &table {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let underline = header.map(|h| "-".repeat(h.len()));
    out.push_str(&row_line(&header.map(String::from), &width));
    out.push_str(&row_line(&underline, &width));
    for row in &table {
        out.push_str(&row_line(row, &width));
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    let _ = writeln!(
        out,
        "{} check(s), {} failed: {}",
        report.checks.len(),
        failed,
        if report.healthy {
            "healthy"
        } else {
            "unhealthy"
        }
    );
    out
}

/// Cells padded to their column's width (the last one unpadded), trailing spaces trimmed.
fn row_line(cells: &[String; 6], width: &[usize; 6]) -> String {
    let mut l = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i + 1 == cells.len() {
            l.push_str(cell);
        } else {
            let _ = write!(l, "{cell:<w$}  ", w = width[i]);
        }
    }
    let mut l = l.trim_end().to_string();
    l.push('\n');
    l
}

//! The hosts' overlay mounts: one per host, the shared image below, the host's own changes above.

use crate::error::{LabError, Result};
use crate::run::run;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Mounts an overlay of `lower` (read-only, shared) and `upper`/`work` (the host's) on `target`.
pub fn mount_overlay(lower: &Path, upper: &Path, work: &Path, target: &Path) -> Result<()> {
    for p in [lower, upper, work, target] {
        let s = p.to_string_lossy();
        if s.contains([',', ':', '\\']) {
            return Err(LabError::Usage(format!(
                "the overlay path {s} holds `,`, `:` or `\\`, which mount options cannot carry: \
                 choose another --dir"
            )));
        }
    }
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    run(Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts])
        .arg(target))
}

/// Mount points at or below `dir`, deepest first (so they can be unmounted in that order).
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = parse_mount_points(&text)
        .into_iter()
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    found
}

/// The mount points of a /proc/PID/mountinfo text (field 5, with its octal escapes undone).
pub fn parse_mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .collect()
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| {
            (b'0'..=b'3').contains(&d[0]) && d.iter().all(|b| (b'0'..=b'7').contains(b))
        });
        if let (b'\\', Some(d)) = (bytes[i], octal) {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unmounts everything at or below `dir`. A mount still busy is detached lazily (it disappears
/// when its last user goes), and reported.
pub fn unmount_all(dir: &Path, problems: &mut Vec<String>) {
    for m in mounts_under(dir) {
        if let Err(e) = run(Command::new("umount").arg(&m)) {
            match run(Command::new("umount").arg("--lazy").arg(&m)) {
                Ok(()) => problems.push(format!(
                    "{} was busy and is detached lazily ({e})",
                    m.display()
                )),
                Err(e) => problems.push(format!("cannot unmount {}: {e}", m.display())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_read_with_escapes() {
        let text = "36 35 98:0 / /mnt1 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    40 36 0:44 / /var/lib/metis\\040lab/hosts/lab1/root rw - overlay overlay rw,lowerdir=x\n";
        assert_eq!(
            parse_mount_points(text),
            [
                PathBuf::from("/mnt1"),
                PathBuf::from("/var/lib/metis lab/hosts/lab1/root")
            ]
        );
        assert_eq!(unescape("a\\134b"), "a\\b");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
    }

    #[test]
    fn paths_mount_options_cannot_carry_are_refused() {
        let p = Path::new("/tmp/a,b");
        let err = mount_overlay(p, p, p, p).expect_err("comma");
        assert!(err.to_string().contains("--dir"), "{err}");
    }
}

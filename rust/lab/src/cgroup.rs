//! One cgroup per host launcher (`metislab/<host>`): systemd-nspawn `--keep-unit` builds its
//! `payload` and `supervisor` cgroups inside the launcher's own, so two hosts launched from the
//! same cgroup would collide. Also the authoritative list of the lab's processes for `down`.

use crate::error::{LabError, Result};
use std::path::{Path, PathBuf};

/// The name of the lab's cgroup in each hierarchy.
pub const GROUP: &str = "metislab";

/// The hierarchies nspawn uses: the unified (v2) tree alone, or on a hybrid v1 machine the named
/// `systemd` hierarchy and the `unified` one.
pub fn hierarchies() -> Vec<PathBuf> {
    hierarchies_under(Path::new("/sys/fs/cgroup"))
}

fn hierarchies_under(root: &Path) -> Vec<PathBuf> {
    if root.join("cgroup.controllers").exists() {
        return vec![root.to_path_buf()];
    }
    ["systemd", "unified"]
        .iter()
        .map(|h| root.join(h))
        .filter(|p| p.join("cgroup.procs").exists())
        .collect()
}

/// The lab's cgroup in every hierarchy.
pub fn lab_roots() -> Vec<PathBuf> {
    hierarchies().into_iter().map(|h| h.join(GROUP)).collect()
}

/// Creates `metislab/<host>` in every hierarchy; returns their `cgroup.procs` files.
pub fn create(host: &str) -> Result<Vec<PathBuf>> {
    let mut procs = Vec::new();
    for root in lab_roots() {
        let dir = root.join(host);
        std::fs::create_dir_all(&dir).map_err(LabError::io("creating the host's cgroup", &dir))?;
        procs.push(dir.join("cgroup.procs"));
    }
    Ok(procs)
}

/// Every process in a cgroup tree.
pub fn processes(root: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            stack.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Every process in the lab's cgroups, in all hierarchies.
pub fn lab_processes() -> Vec<u32> {
    let mut pids: Vec<u32> = lab_roots().iter().flat_map(|r| processes(r)).collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Removes a cgroup tree, deepest directories first (cgroups are removed with rmdir).
pub fn remove_tree(root: &Path) -> Result<()> {
    if !root.exists() {
        return Ok(());
    }
    let mut dirs = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            stack.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
        dirs.push(dir);
    }
    // Children were pushed after their parent: remove in reverse order.
    for dir in dirs.iter().rev() {
        match std::fs::remove_dir(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LabError::io("removing the cgroup", dir)(e));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchies_follow_the_machine_layout() {
        let base = std::env::temp_dir().join(format!("metis-lab-cg-{}", std::process::id()));
        let v2 = base.join("v2");
        std::fs::create_dir_all(&v2).expect("dir");
        std::fs::write(v2.join("cgroup.controllers"), "cpu memory\n").expect("file");
        assert_eq!(hierarchies_under(&v2), [v2]);
        let hybrid = base.join("hybrid");
        for h in ["systemd", "unified", "memory"] {
            std::fs::create_dir_all(hybrid.join(h)).expect("dir");
            std::fs::write(hybrid.join(h).join("cgroup.procs"), "").expect("file");
        }
        assert_eq!(
            hierarchies_under(&hybrid),
            [hybrid.join("systemd"), hybrid.join("unified")]
        );
        std::fs::remove_dir_all(&base).expect("cleanup");
    }

    #[test]
    fn processes_and_removal_walk_the_whole_tree() {
        let base = std::env::temp_dir().join(format!("metis-lab-cgt-{}", std::process::id()));
        let deep = base.join("lab1/payload/system.slice");
        std::fs::create_dir_all(&deep).expect("dir");
        std::fs::write(base.join("lab1/cgroup.procs"), "7\n3\n").expect("file");
        std::fs::write(deep.join("cgroup.procs"), "5\n7\n").expect("file");
        assert_eq!(processes(&base), [3, 5, 7]);
        // Plain directories with files are not empty for rmdir: remove the files first, then
        // the tree goes deepest first.
        std::fs::remove_file(base.join("lab1/cgroup.procs")).expect("rm");
        std::fs::remove_file(deep.join("cgroup.procs")).expect("rm");
        remove_tree(&base).expect("remove");
        assert!(!base.exists());
        remove_tree(&base).expect("removing nothing is fine");
    }
}

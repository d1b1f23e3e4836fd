//! The hosts' root file system: Debian bookworm built by mmdebstrap on first use, with everything
//! the roles install already in it (the lab's hosts have no network), cached under
//! DIR/images/<key> where the key is a hash of what goes into it.

use crate::error::{LabError, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Debian release of the image.
pub const SUITE: &str = "bookworm";

/// What the image pre-installs: the base of a server (systemd, sshd, sudo, Python for Ansible
/// with python3-apt so `apt: state=present` is a no-op) and what the roles install.
pub const PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "openssh-server",
    "sudo",
    "python3",
    "python3-apt",
    "python3-venv",
    "python3-pip-whl",
    "python3-setuptools-whl",
    "python3-pymysql",
    "iproute2",
    "procps",
    "ca-certificates",
    "openssl",
    "mariadb-server",
    "nginx",
    "zeroc-icegrid",
    "zeroc-glacier2",
    "openjdk-17-jre-headless",
    "libmariadb-java",
    "unzip",
    "tar",
    "gzip",
];

/// Units the packages enable that the lab's hosts must not start on their own: the services the
/// deploy starts itself, and apt's daily timers (they would take the dpkg lock in the middle of
/// a deploy, and there is no network to fetch from anyway).
pub const DISABLED_UNITS: &[&str] = &[
    "mariadb.service",
    "nginx.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
];

/// The login user of every host.
pub const USER: &str = "deploy";

/// mmdebstrap customize hooks (shell, `$1` is the new root). Part of the image key.
pub fn hooks() -> Vec<String> {
    vec![
        format!(r#"chroot "$1" useradd --create-home --shell /bin/bash {USER}"#),
        format!(
            r#"printf '%s ALL=(ALL) NOPASSWD:ALL\n' {USER} > "$1/etc/sudoers.d/{USER}" && chmod 0440 "$1/etc/sudoers.d/{USER}""#
        ),
        // Every host gets its own host key before boot (and DIR/known_hosts lists it).
        r#"rm -f "$1"/etc/ssh/ssh_host_*"#.to_string(),
        r#"printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\n' > "$1/etc/ssh/sshd_config.d/metis-lab.conf""#.to_string(),
        format!(r#"chroot "$1" systemctl disable {}"#, DISABLED_UNITS.join(" ")),
        r#"chroot "$1" systemctl enable systemd-networkd"#.to_string(),
    ]
}

/// The cache key of an image: the first 16 hex digits of a SHA-256 over the suite, the sorted
/// package list and the hooks. The order packages are listed in does not matter.
pub fn key_of(suite: &str, packages: &[&str], hooks: &[String]) -> String {
    let mut sorted: Vec<&str> = packages.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut h = Sha256::new();
    h.update(b"metis-lab image 1\0");
    h.update(suite.as_bytes());
    h.update(b"\0");
    for p in sorted {
        h.update(p.as_bytes());
        h.update(b"\n");
    }
    h.update(b"\0");
    for hook in hooks {
        h.update(hook.as_bytes());
        h.update(b"\n");
    }
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of this build's image.
pub fn key() -> String {
    key_of(SUITE, PACKAGES, &hooks())
}

/// The unpacked root file system of image `key` under the lab directory.
pub fn rootfs(images: &Path, key: &str) -> PathBuf {
    images.join(key).join("rootfs")
}

/// Free space needed to build the image (unpacked about 850 MB, plus apt's downloads).
pub const BUILD_NEED_MIB: u64 = 2048;

/// The machine's apt sources, handed to mmdebstrap so the image comes from the same mirror.
fn apt_sources() -> Option<PathBuf> {
    [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
}

/// Builds the image unless it is cached; returns its root file system and the build time in
/// seconds (None when cached).
pub fn ensure(images: &Path, progress: &dyn Fn(&str)) -> Result<(PathBuf, Option<f64>)> {
    let key = key();
    let done = images.join(&key);
    let root = rootfs(images, &key);
    if root.join("usr/sbin/sshd").exists() {
        return Ok((root, None));
    }
    crate::require_tools(&[("mmdebstrap", "mmdebstrap")])?;
    std::fs::create_dir_all(images).map_err(LabError::io("creating the image cache", images))?;
    crate::check_space(images, BUILD_NEED_MIB, "building the lab image")?;
    let partial = images.join(format!("{key}.partial"));
    remove_unmounted(&partial)?;
    std::fs::create_dir_all(&partial)
        .map_err(LabError::io("creating the image build directory", &partial))?;
    let log_path = partial.join("build.log");
    let log = std::fs::File::create(&log_path).map_err(LabError::io("creating", &log_path))?;
    let log2 = log
        .try_clone()
        .map_err(LabError::io("opening", &log_path))?;
    progress(&format!(
        "building the lab image {key} (first use: Debian {SUITE} with {} packages, 1-3 minutes; log {})",
        PACKAGES.len(),
        log_path.display()
    ));
    let started = Instant::now();
    let mut cmd = Command::new("mmdebstrap");
    cmd.args([
        "--variant=apt",
        "--components=main",
        "--skip=cleanup/apt/lists",
    ])
    .arg(format!("--include={}", PACKAGES.join(",")));
    for hook in hooks() {
        cmd.arg(format!("--customize-hook={hook}"));
    }
    cmd.arg(SUITE).arg(partial.join("rootfs"));
    if let Some(sources) = apt_sources() {
        cmd.arg(sources);
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(LabError::io("running mmdebstrap", "mmdebstrap"))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(LabError::ImageBuild {
            status: status.to_string(),
            log: log_path,
            tail: tail.join("\n"),
        });
    }
    let mut list = PACKAGES.join("\n");
    list.push('\n');
    std::fs::write(partial.join("packages.txt"), list)
        .map_err(LabError::io("writing", partial.join("packages.txt")))?;
    // A cache entry without its root file system: an older, broken attempt.
    remove_unmounted(&done)?;
    std::fs::rename(&partial, &done).map_err(LabError::io("storing the image", &done))?;
    let secs = started.elapsed().as_secs_f64();
    progress(&format!("built the lab image in {secs:.0} s"));
    Ok((root, Some(secs)))
}

/// Removes an unfinished or broken image directory; an interrupted build may have left mounts
/// (/proc, /dev) in it: those are unmounted first, and nothing is deleted across a mount.
fn remove_unmounted(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut problems = Vec::new();
    crate::mounts::unmount_all(dir, &mut problems);
    if !crate::mounts::mounts_under(dir).is_empty() {
        return Err(LabError::Teardown { problems });
    }
    std::fs::remove_dir_all(dir).map_err(LabError::io("removing an unfinished image", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ignores_order_but_not_content() {
        let hooks = hooks();
        let base = key_of(SUITE, PACKAGES, &hooks);
        assert_eq!(base.len(), 16);
        assert!(base.chars().all(|c| c.is_ascii_hexdigit()));
        let mut reversed: Vec<&str> = PACKAGES.to_vec();
        reversed.reverse();
        assert_eq!(key_of(SUITE, &reversed, &hooks), base);
        let mut more = PACKAGES.to_vec();
        more.push("curl");
        assert_ne!(key_of(SUITE, &more, &hooks), base);
        assert_ne!(key_of("trixie", PACKAGES, &hooks), base);
        assert_ne!(key_of(SUITE, PACKAGES, &hooks[1..]), base);
        assert_eq!(key(), base, "the key is stable within a build");
    }

    #[test]
    fn image_holds_what_ansible_and_the_roles_need() {
        for p in [
            "python3",
            "python3-apt",
            "sudo",
            "openssh-server",
            "mariadb-server",
            "nginx",
            "zeroc-icegrid",
            "zeroc-glacier2",
            "openjdk-17-jre-headless",
            "python3-venv",
            "python3-pymysql",
            "unzip",
        ] {
            assert!(PACKAGES.contains(&p), "{p} missing from the image");
        }
        let hooks = hooks().join("\n");
        assert!(hooks.contains("systemctl disable mariadb.service nginx.service"));
        assert!(hooks.contains("NOPASSWD:ALL"));
        assert!(hooks.contains("ssh_host_*"));
    }
}

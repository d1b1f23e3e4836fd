//! `metis-deploy render`: writes every rendered file of the organisation (or of one host) under
//! `--out DIR/<host>/<absolute path>`. Refuses when the inventory has errors.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::inventory::templates::Need;
use metis_core::render::{self, RenderedFile};
use std::path::{Component, Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
    /// Directory to write into: `DIR/<host>/<absolute path on the host>`.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Render only this inventory host.
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Most bytes `render` writes in one run (an organisation of many hosts with large settings
/// would otherwise fill the disk): past it, render stops with an error.
const MAX_RENDERED_BYTES: u64 = 1 << 30;

/// What the manifest lists of a written file (its content is not kept).
struct Written {
    host: String,
    service: &'static str,
    path: String,
    mode: u32,
    secret: bool,
    sha256: String,
}

impl Written {
    fn of(f: &RenderedFile) -> Self {
        Written {
            host: f.host.clone(),
            service: f.service.name(),
            path: f.path.clone(),
            mode: f.mode,
            secret: f.secret,
            sha256: f.sha256(),
        }
    }
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let ready = match args
        .input
        .organization(printer, "rendering", Need::Everything)
    {
        Ok(ready) => ready,
        Err(status) => return status,
    };
    let org = &ready.org;
    // By inventory name or by address, as `health --host` takes it.
    let host = match &args.host {
        Some(h) => match ready.find_host(printer, h) {
            Ok(host) => Some(host.name),
            Err(status) => return status,
        },
        None => None,
    };
    let mut written: Vec<Written> = Vec::new();
    let mut bytes = 0u64;
    // One host's files at a time: written, listed, dropped.
    let mut write_host = |files: Vec<RenderedFile>| -> Result<(), String> {
        for f in &files {
            bytes += f.content.len() as u64;
            if bytes > MAX_RENDERED_BYTES {
                return Err(format!(
                    "stopped after {} MiB: the rendered files are larger than metis-deploy's limit (see the README's Robustness section)",
                    MAX_RENDERED_BYTES >> 20
                ));
            }
            write_file(&args.out, f)?;
            written.push(Written::of(f));
        }
        Ok(())
    };
    let result = match host {
        Some(name) => write_host(render::render_host(org, name)),
        None => render::render_each(org, write_host),
    };
    if let Err(e) = result {
        printer.error(e);
        return ExitStatus::Failure;
    }
    let printed = match args.format {
        Format::Json => printer.out(&format!("{}\n", manifest_json(&written))),
        Format::Text => printer.out(
            &written
                .iter()
                .map(|f| {
                    format!(
                        "{} {:<8} {:04o}{} {}\n",
                        f.host,
                        f.service,
                        f.mode,
                        if f.secret { " secret" } else { "" },
                        f.path
                    )
                })
                .collect::<String>(),
        ),
    };
    match printed {
        Ok(()) => ExitStatus::Success,
        Err(status) => status,
    }
}

/// `[{"host","service","path","mode","secret","sha256"}]`; mode as an octal string ("0644").
fn manifest_json(files: &[Written]) -> String {
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(|f| {
            serde_json::json!({
                "host": f.host,
                "service": f.service,
                "path": f.path,
                "mode": format!("{:04o}", f.mode),
                "secret": f.secret,
                "sha256": f.sha256,
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".to_owned())
}

/// The components of `out/<host>/<path>` below `out`, refusing any host or path that would
/// leave `out`.
fn target(f: &RenderedFile) -> Result<Vec<&str>, String> {
    let host = Path::new(&f.host);
    let rel = Path::new(f.path.trim_start_matches('/'));
    let normal = |p: &Path| {
        p.components().count() > 0 && p.components().all(|c| matches!(c, Component::Normal(_)))
    };
    if !normal(host) || host.components().count() != 1 || !normal(rel) {
        return Err(format!(
            "refusing to write {}:{} (unsafe path)",
            f.host, f.path
        ));
    }
    let mut parts = vec![f.host.as_str()];
    parts.extend(f.path.split('/').filter(|c| !c.is_empty()));
    Ok(parts)
}

/// Writes `f` as `out/<host>/<path>`: the directories below `out` are created as needed and
/// never followed when they are links (the host's directory included); the file goes to a new
/// temporary file in its directory, created exclusively with its final mode, and is renamed
/// over the target. A link or file planted at the target is replaced, never written through,
/// and no existing file (its owner, its other links) is reused.
fn write_file(out: &Path, f: &RenderedFile) -> Result<(), String> {
    let parts = target(f)?;
    let shown = out.join(parts.join("/"));
    let ctx = |e: std::io::Error| format!("cannot write {}: {e}", shown.display());
    std::fs::create_dir_all(out).map_err(ctx)?;
    let mut dir = at::Dir::open(out).map_err(ctx)?;
    let (name, dirs) = parts.split_last().ok_or("empty path")?;
    for (i, d) in dirs.iter().enumerate() {
        dir = dir.subdir(d).map_err(|e| {
            if e.raw_os_error() == Some(at::ELOOP) || e.raw_os_error() == Some(at::ENOTDIR) {
                format!(
                    "refusing to write {}: {} is a link or not a directory",
                    shown.display(),
                    out.join(parts[..=i].join("/")).display()
                )
            } else {
                ctx(e)
            }
        })?;
    }
    dir.replace_file(name, f.mode, f.content.as_bytes())
        .map_err(ctx)
}

/// Directory-relative file operations (`openat`, `mkdirat`, `renameat`), so that no path is
/// resolved twice and no link below the output directory is followed.
mod at {
    use std::ffi::CString;
    use std::fs::File;
    use std::io::{Error, Result, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    pub use libc::{ELOOP, ENOTDIR};

    pub struct Dir(OwnedFd);

    fn cname(name: &str) -> Result<CString> {
        CString::new(name).map_err(|_| Error::other("a name holds a NUL byte"))
    }

    fn check(rc: libc::c_int) -> Result<libc::c_int> {
        if rc < 0 {
            Err(Error::last_os_error())
        } else {
            Ok(rc)
        }
    }

    impl Dir {
        /// The output directory itself (given by the user, so followed if it is a link).
        pub fn open(path: &Path) -> Result<Dir> {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
                .open(path)?;
            Ok(Dir(f.into()))
        }

        /// `name` below this directory, created (0755) when missing; a link is refused
        /// (`ELOOP`), as is anything that is not a directory (`ENOTDIR`).
        pub fn subdir(&self, name: &str) -> Result<Dir> {
            let c = cname(name)?;
            // SAFETY: a valid directory descriptor and a NUL-terminated name.
            let made = unsafe { libc::mkdirat(self.0.as_raw_fd(), c.as_ptr(), 0o755) };
            if made < 0 && Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return Err(Error::last_os_error());
            }
            let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            // SAFETY: as above; the descriptor returned is owned below.
            let fd = check(unsafe { libc::openat(self.0.as_raw_fd(), c.as_ptr(), flags) })?;
            // SAFETY: `fd` is a new descriptor nothing else owns.
            Ok(Dir(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// Replaces `name` with a new file holding `content`, with `mode`: written to a new
        /// temporary file (`O_CREAT|O_EXCL|O_NOFOLLOW`) and renamed over `name`.
        pub fn replace_file(&self, name: &str, mode: u32, content: &[u8]) -> Result<()> {
            let target = cname(name)?;
            let mut attempt = 0u32;
            let (tmp, file) = loop {
                let tmp = cname(&format!(
                    ".{name}.metis-tmp-{}-{attempt}",
                    std::process::id()
                ))?;
                let flags = libc::O_WRONLY
                    | libc::O_CREAT
                    | libc::O_EXCL
                    | libc::O_NOFOLLOW
                    | libc::O_CLOEXEC;
                // SAFETY: a valid directory descriptor and a NUL-terminated name.
                let fd = unsafe {
                    libc::openat(
                        self.0.as_raw_fd(),
                        tmp.as_ptr(),
                        flags,
                        mode as libc::c_uint,
                    )
                };
                if fd >= 0 {
                    // SAFETY: `fd` is a new descriptor nothing else owns.
                    break (tmp, unsafe { File::from_raw_fd(fd) });
                }
                let e = Error::last_os_error();
                if e.raw_os_error() != Some(libc::EEXIST) || attempt >= 100 {
                    return Err(e);
                }
                attempt += 1;
            };
            let written = (|| {
                let mut file = file;
                // The umask may have narrowed the mode given at creation.
                file.set_permissions(std::fs::Permissions::from_mode(mode))?;
                file.write_all(content)?;
                // SAFETY: valid descriptor and NUL-terminated names, both in this directory.
                check(unsafe {
                    libc::renameat(
                        self.0.as_raw_fd(),
                        tmp.as_ptr(),
                        self.0.as_raw_fd(),
                        target.as_ptr(),
                    )
                })
                .map(drop)
            })();
            if written.is_err() {
                // SAFETY: as above; a failed unlink leaves only a stray temporary file.
                unsafe { libc::unlinkat(self.0.as_raw_fd(), tmp.as_ptr(), 0) };
            }
            written
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metis_core::model::Service;
    use std::os::unix::fs::PermissionsExt;

    fn file(host: &str, path: &str, secret: bool) -> RenderedFile {
        RenderedFile {
            host: host.to_owned(),
            service: Service::Admin,
            path: path.to_owned(),
            mode: if secret { 0o600 } else { 0o644 },
            secret,
            owner: "root".to_owned(),
            group: "root".to_owned(),
            content: "x: 1\n".to_owned(),
        }
    }

    #[test]
    fn refuses_paths_leaving_out_dir() {
        assert_eq!(
            target(&file("h1", "/opt/a.yml", false)),
            Ok(vec!["h1", "opt", "a.yml"])
        );
        for (h, p) in [
            ("..", "/a"),
            ("a/b", "/a"),
            ("h", "/opt/../../x"),
            ("h", "/"),
            ("", "/a"),
        ] {
            assert!(target(&file(h, p, false)).is_err(), "{h} {p}");
        }
    }

    #[test]
    fn writes_with_modes_and_prints_manifest() {
        let dir = std::env::temp_dir().join(format!("metis-render-cli-{}", std::process::id()));
        let files = [
            file("h1", "/opt/s.yml", true),
            file("h1", "/opt/p.yml", false),
        ];
        for f in &files {
            write_file(&dir, f).expect("write");
        }
        let mode = |p: &str| {
            std::fs::metadata(dir.join(p))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("h1/opt/s.yml"), 0o600);
        assert_eq!(mode("h1/opt/p.yml"), 0o644);
        let written: Vec<Written> = files.iter().map(Written::of).collect();
        let v: serde_json::Value = serde_json::from_str(&manifest_json(&written)).expect("json");
        assert_eq!(v[0]["mode"], "0600");
        assert_eq!(v[0]["secret"], true);
        assert_eq!(v[0]["service"], "admin");
        assert_eq!(v[1]["sha256"], files[1].sha256());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

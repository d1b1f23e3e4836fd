//! `metis-deploy render`: writes every rendered file of the organisation (or of one host) under
//! `--out DIR/<host>/<absolute path>`. Refuses when the inventory has errors.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::inventory::templates::Need;
use metis_core::render::{self, RenderedFile};
use std::io::Write;
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

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let ready = match args
        .input
        .organization(printer, "rendering", Need::Everything)
    {
        Ok(ready) => ready,
        Err(status) => return status,
    };
    let org = &ready.org;
    let files = match &args.host {
        // By inventory name or by address, as `health --host` takes it.
        Some(h) => match ready.find_host(printer, h) {
            Ok(host) => render::render_host(org, host.name),
            Err(status) => return status,
        },
        None => render::render_all(org),
    };
    for f in &files {
        if let Err(e) = write_file(&args.out, f) {
            printer.error(e);
            return ExitStatus::Failure;
        }
    }
    let printed = match args.format {
        Format::Json => printer.out(&format!("{}\n", manifest_json(&files))),
        Format::Text => printer.out(
            &files
                .iter()
                .map(|f| {
                    format!(
                        "{} {:<8} {:04o}{} {}\n",
                        f.host,
                        f.service.name(),
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
fn manifest_json(files: &[RenderedFile]) -> String {
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(|f| {
            serde_json::json!({
                "host": f.host,
                "service": f.service.name(),
                "path": f.path,
                "mode": format!("{:04o}", f.mode),
                "secret": f.secret,
                "sha256": f.sha256(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".to_owned())
}

/// `out/<host>/<path>`, refusing any host or path that would leave `out`.
fn target(out: &Path, f: &RenderedFile) -> Result<PathBuf, String> {
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
    Ok(out.join(host).join(rel))
}

fn write_file(out: &Path, f: &RenderedFile) -> Result<(), String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let to = target(out, f)?;
    let ctx = |e: std::io::Error| format!("cannot write {}: {e}", to.display());
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(ctx)?;
    }
    // Created with its final mode: a secret is never readable by others, not even briefly.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(f.mode)
        .open(&to)
        .map_err(ctx)?;
    file.set_permissions(std::fs::Permissions::from_mode(f.mode))
        .map_err(ctx)?;
    file.write_all(f.content.as_bytes()).map_err(ctx)
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
        let out = Path::new("/tmp/o");
        assert_eq!(
            target(out, &file("h1", "/opt/a.yml", false)),
            Ok(PathBuf::from("/tmp/o/h1/opt/a.yml"))
        );
        for (h, p) in [
            ("..", "/a"),
            ("a/b", "/a"),
            ("h", "/opt/../../x"),
            ("h", "/"),
            ("", "/a"),
        ] {
            assert!(target(out, &file(h, p, false)).is_err(), "{h} {p}");
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
        let v: serde_json::Value = serde_json::from_str(&manifest_json(&files)).expect("json");
        assert_eq!(v[0]["mode"], "0600");
        assert_eq!(v[0]["secret"], true);
        assert_eq!(v[0]["service"], "admin");
        assert_eq!(v[1]["sha256"], files[1].sha256());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

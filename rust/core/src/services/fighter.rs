//! The fighters, data and compute: Python services in a virtual environment of their own,
//! installed offline from the bundle's wheels.

use super::{
    Artifact, ArtifactKind, CpuFlag, Ctx, Describe, Dir, Port, PythonEnv, Registration, Word,
};
use crate::health::CheckKind;
use crate::model::variables as var;
use crate::model::{defaults, FighterKind, FighterNode, Group};
use crate::render::{self, RenderedFile};

pub(super) struct Fighter<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a FighterNode,
}

/// The facts in which data and compute differ.
struct Kind {
    group: Group,
    config: &'static str,
    module: &'static str,
    port_var: &'static str,
    tasks: (u16, u16),
    consul_name: &'static str,
    consul_tag: &'static str,
}

fn kind(k: FighterKind) -> Kind {
    match k {
        FighterKind::Data => Kind {
            group: Group::Data,
            config: "data.yml",
            module: defaults::DATA_MODULE,
            port_var: var::DATA_PORT.name,
            tasks: defaults::DATA_TASK_PORTS,
            consul_name: defaults::CONSUL_DATA_SERVICE,
            consul_tag: defaults::CONSUL_DATA_TAG,
        },
        FighterKind::Compute => Kind {
            group: Group::Compute,
            config: "compute.yml",
            module: defaults::COMPUTE_MODULE,
            port_var: var::COMPUTE_PORT.name,
            tasks: defaults::COMPUTE_TASK_PORTS,
            consul_name: defaults::CONSUL_COMPUTE_SERVICE,
            consul_tag: defaults::CONSUL_COMPUTE_TAG,
        },
    }
}

impl Fighter<'_> {
    fn kind(&self) -> Kind {
        kind(self.node.kind)
    }
    fn config_path(&self) -> String {
        self.ctx.config_path(self.kind().config)
    }
    /// A virtual environment is made unless `fighter_python` names the interpreter.
    fn makes_venv(&self) -> bool {
        self.ctx.org.settings.fighter.python.is_none()
    }
    fn wheel_dir(&self) -> String {
        self.ctx.lay.fighter_wheel_dir(self.kind().group)
    }
}

impl Describe for Fighter<'_> {
    fn ports(&self) -> Vec<Port> {
        let k = self.kind();
        let port = self.node.port;
        vec![
            Port::tcp("grpc", port, Some(k.port_var)).probe(
                "grpc",
                CheckKind::Http2 {
                    addr: self.ctx.sock(port),
                },
            ),
            Port::range("task ports", k.tasks),
        ]
    }

    fn packages(&self) -> Vec<&'static str> {
        if self.makes_venv() {
            vec!["python3-venv"]
        } else {
            Vec::new()
        }
    }

    fn directories(&self) -> Vec<Dir> {
        let g = self.kind().group;
        let lay = &self.ctx.lay;
        let mut dirs = self.ctx.dirs_with_data();
        for d in [lay.fighter_code_dir(g), lay.fighter_results_dir(g)] {
            dirs.push(self.ctx.dir(d, 0o750));
        }
        if g == Group::Data {
            dirs.push(self.ctx.dir(lay.fighter_data_root(), 0o750));
        }
        if self.makes_venv() {
            let wheels = self.wheel_dir();
            dirs.push(self.ctx.dir(lay.fighter_venv(g), 0o755));
            let deps = format!("{wheels}/deps");
            dirs.push(self.ctx.dir(wheels, 0o750));
            dirs.push(self.ctx.dir(deps, 0o750));
        }
        dirs
    }

    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::fighter::config(
            self.ctx.org,
            &self.ctx.lay,
            self.node,
            self.config_path(),
        )]
    }

    fn command(&self) -> Vec<Word> {
        let k = self.kind();
        let python = self.ctx.lay.fighter_python(&self.ctx.org.settings, k.group);
        vec![
            Word::Literal(python),
            Word::Literal("-u".into()),
            Word::Literal("-m".into()),
            Word::Literal(k.module.into()),
            Word::Literal(self.config_path()),
        ]
    }

    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }

    /// The four wheels (rosetta in its avx2 and no_avx2 builds: the host's CPU picks one) and
    /// the dependency wheels, when a virtual environment is made.
    fn artifacts(&self) -> Vec<Artifact> {
        if !self.makes_venv() {
            return Vec::new();
        }
        let w = &self.ctx.org.settings.fighter;
        let dir = self.wheel_dir();
        let wheel = |file: &str, source: String, cpu_flag| Artifact {
            name: file.to_owned(),
            source,
            dest: format!("{dir}/{file}"),
            mode: 0o644,
            kind: ArtifactKind::File,
            cpu_flag,
        };
        let mut out: Vec<Artifact> = [&w.fighter_dcv, &w.channel_sdk, &w.latticex_psi]
            .into_iter()
            .map(|f| wheel(f, format!("wheels/{f}"), None))
            .collect();
        for flag in [CpuFlag::Avx2, CpuFlag::NoAvx2] {
            let f = &w.latticex_rosetta;
            out.push(wheel(f, format!("wheels/{}/{f}", flag.name()), Some(flag)));
        }
        out.push(Artifact {
            name: "dependency wheels".into(),
            source: "wheels/deps".into(),
            dest: format!("{dir}/deps"),
            mode: 0o750,
            kind: ArtifactKind::Directory,
            cpu_flag: None,
        });
        out
    }

    fn registrations(&self) -> Vec<Registration> {
        let k = self.kind();
        vec![Registration {
            name: k.consul_name,
            tag: Some(k.consul_tag),
            port: Some(self.node.port),
        }]
    }

    fn python_env(&self) -> Option<PythonEnv> {
        if !self.makes_venv() {
            return None;
        }
        let f = &self.ctx.org.settings.fighter;
        Some(PythonEnv {
            path: self.ctx.lay.fighter_venv(self.kind().group),
            base_python: f.base_python.clone(),
            wheel_dir: self.wheel_dir(),
            requirements: vec![
                f.fighter_dcv.clone(),
                f.channel_sdk.clone(),
                f.latticex_psi.clone(),
                f.latticex_rosetta.clone(),
            ],
        })
    }
}

/// The consul service name and tag a fighter registers with (its config file names them).
pub(crate) fn consul_identity(k: FighterKind) -> (&'static str, &'static str) {
    let k = kind(k);
    (k.consul_name, k.consul_tag)
}

/// Its task port range (its config file names it).
pub(crate) fn task_ports(k: FighterKind) -> (u16, u16) {
    kind(k).tasks
}

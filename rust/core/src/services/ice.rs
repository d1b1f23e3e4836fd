//! ice_via: the IceGrid registry and the Glacier2 router, from Debian's ZeroC packages.

use super::{Ctx, Describe, Dir, Port, Upload, Word};
use crate::health::CheckKind;
use crate::model::variables as var;
use crate::model::{defaults, IceProtocol, IceViaNode};
use crate::render::{self, RenderedFile};

pub(super) struct IceGrid<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a IceViaNode,
}

pub(super) struct Glacier2<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a IceViaNode,
}

impl IceGrid<'_> {
    fn config_path(&self) -> String {
        self.ctx.config_path("icegrid.cfg")
    }
}

impl Glacier2<'_> {
    fn config_path(&self) -> String {
        self.ctx.config_path("glacier2.cfg")
    }
}

/// An Ice program's command line: the binary and its configuration file.
fn ice_command(bin: &str, config_path: String) -> Vec<Word> {
    vec![
        Word::Literal(bin.into()),
        Word::Literal(format!("--Ice.Config={config_path}")),
    ]
}

impl Describe for IceGrid<'_> {
    fn ports(&self) -> Vec<Port> {
        let port = self.node.grid_port;
        vec![
            Port::tcp("registry", port, Some(var::ICE_GRID_PORT.name)).probe(
                "registry",
                CheckKind::IceValidate {
                    addr: self.ctx.sock(port),
                },
            ),
        ]
    }
    fn packages(&self) -> Vec<&'static str> {
        vec!["zeroc-icegrid"]
    }
    fn directories(&self) -> Vec<Dir> {
        let mut dirs = self.ctx.dirs_with_data();
        dirs.push(self.ctx.dir(self.ctx.lay.icegrid_lmdb_dir(), 0o750));
        dirs
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::ice::icegrid(
            &self.ctx.lay,
            self.node,
            self.config_path(),
        )]
    }
    fn command(&self) -> Vec<Word> {
        ice_command(defaults::ICEGRIDREGISTRY_BIN, self.config_path())
    }
    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }
}

impl Describe for Glacier2<'_> {
    fn ports(&self) -> Vec<Port> {
        let port = self.node.glacier2_port;
        let addr = self.ctx.sock(port);
        let router = Port::tcp("router", port, Some(var::ICE_GLACIER2_PORT.name));
        vec![match self.node.protocol {
            // Over ssl the validate-connection message only follows the TLS handshake.
            IceProtocol::Ssl => router.probe(
                "router (ssl)",
                CheckKind::TlsHello {
                    addr,
                    server_name: None,
                },
            ),
            IceProtocol::Tcp => router.probe("router", CheckKind::IceValidate { addr }),
        }]
    }
    fn packages(&self) -> Vec<&'static str> {
        vec!["zeroc-glacier2"]
    }
    fn directories(&self) -> Vec<Dir> {
        let mut dirs = self.ctx.standard_dirs();
        if self.node.protocol == IceProtocol::Ssl {
            // Where the router's certificate and key are put (ice_protocol = ssl).
            dirs.push(self.ctx.dir(self.ctx.lay.ice_certs_dir(), 0o750));
        }
        dirs
    }
    fn uploads(&self) -> Vec<Upload> {
        let Some(src) = &self.node.ssl_sources else {
            return Vec::new();
        };
        let dir = self.ctx.lay.ice_certs_dir();
        let up = |variable: &'static str, source: &str, file: &str, mode: u32| Upload {
            variable,
            source: source.to_owned(),
            dest: format!("{dir}/{file}"),
            mode,
            root_owned: false,
            secret: mode == 0o600,
        };
        vec![
            up(
                var::ICE_SSL_CA_SRC.name,
                &src.ca,
                defaults::ICE_SSL_CA_FILE,
                0o644,
            ),
            up(
                var::ICE_SSL_CERT_SRC.name,
                &src.cert,
                defaults::ICE_SSL_CERT_FILE,
                0o644,
            ),
            up(
                var::ICE_SSL_KEY_SRC.name,
                &src.key,
                defaults::ICE_SSL_KEY_FILE,
                0o600,
            ),
        ]
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::ice::glacier2(
            &self.ctx.lay,
            self.node,
            self.config_path(),
        )]
    }
    fn command(&self) -> Vec<Word> {
        ice_command(defaults::GLACIER2ROUTER_BIN, self.config_path())
    }
    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }
}

//! The admin host: MariaDB (Debian's unit, our settings), the admin backend (Java) and nginx
//! (Debian's unit, our site) serving the web UI and proxying the backend.

use super::{
    Artifact, ArtifactKind, Backup, Ctx, Database, Describe, Dir, Port, Registration, Unit, Upload,
    Word,
};
use crate::health::CheckKind;
use crate::model::variables as var;
use crate::model::{defaults, AdminNode, Group, Service};
use crate::render::{self, RenderedFile};

/// Debian's units of the services metis-deploy configures but does not run itself.
pub const MARIADB_UNIT: &str = "mariadb.service";
pub const NGINX_UNIT: &str = "nginx.service";
/// nginx's own error log on Debian.
const NGINX_ERROR_LOG: &str = "/var/log/nginx/error.log";
/// Debian's nginx binary (`nginx -t` checks the written site).
const NGINX_BIN: &str = "/usr/sbin/nginx";
/// Debian's default site, which would compete for port 80.
const NGINX_DEFAULT_SITE: &str = "/etc/nginx/sites-enabled/default";
/// MariaDB's unix socket on Debian: root connects through it (unix_socket authentication).
const MYSQL_SOCKET: &str = "/run/mysqld/mysqld.sock";
/// The admin's environment variable holding the JVM options (`$JVM_OPTS` in its command).
const JVM_OPTS: &str = "JVM_OPTS";

pub(super) struct Mysql<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a AdminNode,
}

pub(super) struct Admin<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a AdminNode,
}

pub(super) struct Nginx<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a AdminNode,
}

impl Describe for Mysql<'_> {
    fn ports(&self) -> Vec<Port> {
        let port = defaults::MYSQL_PORT;
        vec![Port::tcp("mysql", port, None).probe(
            "greeting",
            CheckKind::MysqlGreeting {
                addr: self.ctx.sock(port),
            },
        )]
    }
    fn unit(&self) -> Unit {
        Unit::Distribution(MARIADB_UNIT)
    }
    /// The server, and PyMySQL for Ansible's database modules.
    fn packages(&self) -> Vec<&'static str> {
        vec!["mariadb-server", "python3-pymysql"]
    }
    fn directories(&self) -> Vec<Dir> {
        Vec::new()
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::admin::mysql(self.node)]
    }
    /// MariaDB logs to the journal on Debian.
    fn log_file(&self) -> Option<String> {
        None
    }
}

impl Describe for Admin<'_> {
    fn ports(&self) -> Vec<Port> {
        let n = self.node;
        vec![
            Port::tcp("web", n.web_port, Some(var::ADMIN_WEB_PORT.name)).probe(
                "web",
                CheckKind::Http {
                    addr: self.ctx.sock(n.web_port),
                    path: defaults::ADMIN_HEALTH_PATH.to_owned(),
                },
            ),
            Port::tcp("grpc", n.grpc_port, Some(var::ADMIN_GRPC_SERVER_PORT.name)).probe(
                "grpc",
                CheckKind::Http2 {
                    addr: self.ctx.sock(n.grpc_port),
                },
            ),
        ]
    }
    /// Java, and the MariaDB JDBC driver the admin's class path names.
    fn packages(&self) -> Vec<&'static str> {
        vec!["openjdk-17-jre-headless", "libmariadb-java"]
    }
    /// `datum_admin`, its schema from the bundle, its user from the admin host's address (the
    /// JDBC URL names that address).
    fn database(&self) -> Option<Database> {
        let admin = &self.ctx.org.settings.admin;
        Some(Database {
            name: defaults::ADMIN_DATABASE.to_owned(),
            user: admin.db_user.clone(),
            client_host: self.node.host.ip,
            password_var: var::ADMIN_PASSWORD.name,
            schema: self.ctx.lay.admin_sql(),
            socket: MYSQL_SOCKET,
            server: Service::Mysql,
        })
    }
    /// A dump of the database, kept in the admin's directory until it is fetched.
    fn backup(&self) -> Option<Backup> {
        Some(Backup {
            path: format!(
                "{}/{}.sql",
                self.ctx.lay.group_dir(Group::Admin),
                defaults::ADMIN_DATABASE
            ),
            database: Some(defaults::ADMIN_DATABASE.to_owned()),
            kv_prefix: None,
        })
    }
    fn directories(&self) -> Vec<Dir> {
        let mut dirs = self.ctx.standard_dirs();
        // nginx (www-data) reads the web UI: world-readable.
        dirs.push(self.ctx.dir(self.ctx.lay.admin_web_root(), 0o755));
        dirs
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        let path = self.ctx.config_path(&format!(
            "application-{}.yml",
            defaults::ADMIN_SPRING_PROFILE
        ));
        vec![render::admin::application(
            self.ctx.org,
            &self.ctx.lay,
            self.node,
            path,
        )]
    }
    fn command(&self) -> Vec<Word> {
        vec![
            Word::Literal(defaults::JAVA_BIN.into()),
            Word::Env(JVM_OPTS),
            Word::Literal("-jar".into()),
            Word::Literal(self.ctx.lay.admin_jar()),
            Word::Literal(format!(
                "--spring.profiles.active={}",
                defaults::ADMIN_SPRING_PROFILE
            )),
        ]
    }
    fn environment(&self) -> Vec<(&'static str, String)> {
        vec![(JVM_OPTS, self.ctx.org.settings.admin.jvm_opts.clone())]
    }
    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }
    fn artifacts(&self) -> Vec<Artifact> {
        let lay = &self.ctx.lay;
        let file = |name: &str, dest: String| Artifact {
            name: name.into(),
            source: name.into(),
            dest,
            mode: 0o644,
            kind: ArtifactKind::File,
            cpu_flag: None,
        };
        vec![
            file("admin.jar", lay.admin_jar()),
            file("admin.sql", lay.admin_sql()),
            Artifact {
                mode: 0o755,
                kind: ArtifactKind::Untar,
                ..file("admin.tar", lay.admin_web_root())
            },
        ]
    }
    /// Spring registers the host's address with `server.port` and `grpc.server.port`.
    fn registrations(&self) -> Vec<Registration> {
        vec![
            Registration {
                name: defaults::CONSUL_ADMIN_SERVICE,
                tag: None,
                port: Some(self.node.web_port),
            },
            Registration {
                name: defaults::CONSUL_ADMIN_GRPC_SERVICE,
                tag: Some(defaults::CONSUL_ADMIN_GRPC_TAG),
                port: Some(self.node.grpc_port),
            },
        ]
    }
}

impl Describe for Nginx<'_> {
    fn ports(&self) -> Vec<Port> {
        let http = defaults::NGINX_HTTP_PORT;
        let mut ports = vec![Port::tcp("http", http, None).probe(
            "http proxy",
            CheckKind::Http {
                addr: self.ctx.sock(http),
                path: defaults::ADMIN_HEALTH_PATH.to_owned(),
            },
        )];
        if let Some(tls) = &self.ctx.org.settings.admin.tls {
            let https = defaults::NGINX_HTTPS_PORT;
            ports.push(Port::tcp("https", https, None).probe(
                "https",
                CheckKind::TlsHello {
                    addr: self.ctx.sock(https),
                    server_name: Some(tls.server_name.clone()),
                },
            ));
        }
        ports
    }
    fn unit(&self) -> Unit {
        Unit::Distribution(NGINX_UNIT)
    }
    fn validate(&self) -> Option<Vec<String>> {
        Some(vec![NGINX_BIN.into(), "-t".into(), "-q".into()])
    }
    fn disable_files(&self) -> Vec<String> {
        vec![NGINX_DEFAULT_SITE.into()]
    }
    fn packages(&self) -> Vec<&'static str> {
        vec!["nginx"]
    }
    fn directories(&self) -> Vec<Dir> {
        // The default place of pushed certificates (admin_ssl_certificate unset).
        let certs = self.ctx.lay.admin_certs_dir();
        match &self.ctx.org.settings.admin.tls {
            Some(tls)
                if tls.sources.is_some()
                    && [&tls.cert_file, &tls.key_file]
                        .iter()
                        .any(|f| f.starts_with(&format!("{certs}/"))) =>
            {
                vec![self.ctx.dir(certs, 0o750)]
            }
            _ => Vec::new(),
        }
    }
    /// The web UI's certificate and key from the controller, owned by root (nginx's master
    /// reads them before it drops privileges).
    fn uploads(&self) -> Vec<Upload> {
        let Some(tls) = &self.ctx.org.settings.admin.tls else {
            return Vec::new();
        };
        let Some((cert, key)) = &tls.sources else {
            return Vec::new();
        };
        vec![
            Upload {
                variable: var::ADMIN_SSL_CERTIFICATE_SRC.name,
                source: cert.clone(),
                dest: tls.cert_file.clone(),
                mode: 0o644,
                root_owned: true,
                secret: false,
            },
            Upload {
                variable: var::ADMIN_SSL_CERTIFICATE_KEY_SRC.name,
                source: key.clone(),
                dest: tls.key_file.clone(),
                mode: 0o600,
                root_owned: true,
                secret: true,
            },
        ]
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::admin::nginx_site(
            self.ctx.org,
            &self.ctx.lay,
            self.node,
        )]
    }
    fn log_file(&self) -> Option<String> {
        Some(NGINX_ERROR_LOG.to_owned())
    }
}

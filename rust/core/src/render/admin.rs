//! The admin host: Spring's `application-admin.yml` (holds the DB password: secret), the nginx
//! site and the MariaDB settings snippet.

use super::emit::{mysql_value, nginx_arg, Yaml};
use super::{first_consul, Layout, RenderedFile};
use crate::model::{defaults, AdminNode, Organization, Service};
use std::fmt::Write;

/// `jdbc:mysql://<ip>:3306/datum_admin?...`
pub fn jdbc_url(node: &AdminNode) -> String {
    format!(
        "jdbc:mysql://{}:{}/{}?{}",
        node.host.ip,
        defaults::MYSQL_PORT,
        defaults::ADMIN_DATABASE,
        defaults::ADMIN_JDBC_PARAMS
    )
}

pub fn application(
    org: &Organization,
    lay: &Layout<'_>,
    node: &AdminNode,
    path: String,
) -> RenderedFile {
    let a = &org.settings.admin;
    let ip = node.host.ip.to_string();
    let (consul_ip, consul_port) = first_consul(org);
    let map = |entries: Vec<(&str, Yaml)>| {
        Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    };
    let doc = map(vec![
        ("server", map(vec![("port", Yaml::int(node.web_port))])),
        (
            "spring",
            map(vec![
                (
                    "datasource",
                    map(vec![(
                        "druid",
                        map(vec![
                            ("url", Yaml::str(jdbc_url(node))),
                            ("username", Yaml::str(&a.db_user)),
                            ("password", Yaml::str(a.db_password.expose())),
                        ]),
                    )]),
                ),
                (
                    "cloud",
                    map(vec![(
                        "consul",
                        map(vec![
                            ("host", Yaml::str(consul_ip)),
                            ("port", Yaml::int(consul_port)),
                            (
                                "discovery",
                                map(vec![
                                    (
                                        "instance-id",
                                        Yaml::str(format!(
                                            "{}-{}-{}",
                                            defaults::CONSUL_ADMIN_SERVICE,
                                            ip,
                                            node.web_port
                                        )),
                                    ),
                                    ("prefer-ip-address", Yaml::Bool(true)),
                                    ("ip-address", Yaml::str(&ip)),
                                ]),
                            ),
                        ]),
                    )]),
                ),
            ]),
        ),
        (
            "grpc",
            map(vec![(
                "server",
                map(vec![("port", Yaml::int(node.grpc_port))]),
            )]),
        ),
        (
            "logging",
            map(vec![(
                "file",
                map(vec![("name", Yaml::str(lay.log_file(Service::Admin)))]),
            )]),
        ),
        ("pinata-token", Yaml::str(a.pinata_token.expose())),
        ("pinata-gateway", Yaml::str(&a.pinata_gateway)),
        ("pinata-url", Yaml::str(&a.pinata_url)),
    ]);
    RenderedFile::new(&node.host, Service::Admin, path, doc.to_document()).secret()
}

/// `[mysqld]` settings, read by Debian's MariaDB after its own `50-server.cnf`.
pub fn mysql(node: &AdminNode) -> RenderedFile {
    let content = format!(
        "# Rendered by metis-deploy: settings of the admin database.\n\
         [mysqld]\n\
         bind-address = {}\n\
         port = {}\n\
         default-time-zone = {}\n\
         event_scheduler = ON\n\
         # Users are granted by address (the admin's own); no reverse DNS on every connection.\n\
         skip-name-resolve\n",
        node.host.ip,
        defaults::MYSQL_PORT,
        mysql_value(defaults::MYSQL_TIME_ZONE),
    );
    RenderedFile::new(
        &node.host,
        Service::Mysql,
        defaults::MYSQL_CONF_FILE.to_owned(),
        content,
    )
}

/// The server block: 80 (and 443 with TLS), `/datum-admin` proxied to the admin, the unpacked
/// `admin.tar` as web root.
///
/// It listens on the host's address as the default server there: every request to that
/// address (by IP, as the health check asks, or by any name) reaches it, even with Debian's
/// `sites-enabled/default` (`listen 80 default_server`, every address) left in place. Two
/// `default_server`s on the same `*:80` would be a duplicate that nginx refuses.
pub fn nginx_site(org: &Organization, lay: &Layout<'_>, node: &AdminNode) -> RenderedFile {
    let ip = node.host.ip;
    let mut c = String::from("# Rendered by metis-deploy: the admin web UI.\nserver {\n");
    let _ = writeln!(
        c,
        "    listen {ip}:{} default_server;",
        defaults::NGINX_HTTP_PORT
    );
    match &org.settings.admin.tls {
        Some(tls) => {
            let _ = writeln!(
                c,
                "    listen {ip}:{} ssl default_server;",
                defaults::NGINX_HTTPS_PORT
            );
            let _ = writeln!(c, "    server_name {};", nginx_arg(&tls.server_name));
            let _ = writeln!(c, "    ssl_certificate {};", nginx_arg(&tls.cert_file));
            let _ = writeln!(c, "    ssl_certificate_key {};", nginx_arg(&tls.key_file));
            let protocols: Vec<String> = tls.protocols.split_whitespace().map(nginx_arg).collect();
            let _ = writeln!(c, "    ssl_protocols {};", protocols.join(" "));
            let _ = writeln!(c, "    ssl_ciphers {};", nginx_arg(&tls.ciphers));
            c.push_str("    ssl_prefer_server_ciphers on;\n");
        }
        None => c.push_str("    server_name _;\n"),
    }
    let _ = writeln!(c, "    root {};", nginx_arg(&lay.admin_web_root()));
    c.push_str("    index index.html;\n\n");
    let _ = writeln!(c, "    location {} {{", defaults::ADMIN_CONTEXT_PATH);
    let _ = writeln!(
        c,
        "        proxy_pass http://{}:{};",
        node.host.ip, node.web_port
    );
    c.push_str(
        "        proxy_set_header Host $host;\n\
         \x20       proxy_set_header X-Real-IP $remote_addr;\n\
         \x20       proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         \x20       proxy_set_header X-Forwarded-Proto $scheme;\n\
         \x20   }\n\n\
         \x20   location / {\n\
         \x20       try_files $uri $uri/ /index.html;\n\
         \x20   }\n\
         }\n",
    );
    RenderedFile::new(
        &node.host,
        Service::Nginx,
        defaults::NGINX_SITE_FILE.to_owned(),
        c,
    )
}

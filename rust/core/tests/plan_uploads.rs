//! Certificates and keys the inventory names on the controller: the host plan pushes each to the
//! place the configs read it from, keys 0600 and never shown; a host path wins over the default.

mod support;

use metis_core::plan::host_plan;
use support::{org_from_ini, FIXTURE};

const PUSHED: &str = "enable_tls = True
admin_server_name = admin.example.org
admin_ssl_certificate_src = /pki/admin.crt
admin_ssl_certificate_key_src = /pki/admin.key
ice_protocol = ssl
ice_ssl_ca_src = /pki/ca.pem
ice_ssl_cert_src = /pki/glacier2.crt
ice_ssl_key_src = /pki/glacier2.key
";

fn uploads(text: &str, group: &str) -> Vec<metis_core::plan::UploadPlan> {
    let org = org_from_ini("pushed.ini", text);
    org.hosts()
        .iter()
        .flat_map(|h| host_plan(&org, &h.name).services)
        .filter(|s| s.group == group)
        .flat_map(|s| s.uploads)
        .collect()
}

#[test]
fn admin_certificate_and_key_are_pushed_where_nginx_reads_them() {
    let org = org_from_ini("pushed.ini", &format!("{FIXTURE}{PUSHED}"));
    let tls = org.settings.admin.tls.clone().expect("tls");
    let up = uploads(&format!("{FIXTURE}{PUSHED}"), "admin");
    let row = |var: &str| up.iter().find(|u| u.variable == var).expect(var).clone();
    let cert = row("admin_ssl_certificate_src");
    let key = row("admin_ssl_certificate_key_src");
    assert_eq!(
        (cert.source.as_str(), cert.path.as_str()),
        ("/pki/admin.crt", tls.cert_file.as_str())
    );
    assert_eq!(
        (key.source.as_str(), key.path.as_str()),
        ("/pki/admin.key", tls.key_file.as_str())
    );
    assert!(
        tls.key_file.starts_with(&org.settings.deploy_dir),
        "{}",
        tls.key_file
    );
    assert_eq!(
        (key.mode.0, key.owner.as_str(), key.secret),
        (0o600, "root", true)
    );
    assert_eq!((cert.mode.0, cert.secret), (0o644, false));

    // A host path set in the inventory is where the file goes.
    let up = uploads(
        &format!("{FIXTURE}{PUSHED}admin_ssl_certificate_key = /etc/ssl/private/a.key\n"),
        "admin",
    );
    assert!(up
        .iter()
        .any(|u| u.path == "/etc/ssl/private/a.key" && u.secret));
}

#[test]
fn glacier2_gets_its_three_files_the_key_readable_by_the_service_user_only() {
    let text = format!("{FIXTURE}{PUSHED}");
    let org = org_from_ini("pushed.ini", &text);
    let up = uploads(&text, "ice_via");
    let names: Vec<(&str, &str, u32, bool)> = up
        .iter()
        .map(|u| {
            (
                u.source.as_str(),
                u.path.rsplit('/').next().unwrap_or(""),
                u.mode.0,
                u.secret,
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("/pki/ca.pem", "ca.pem", 0o644, false),
            ("/pki/glacier2.crt", "server.pem", 0o644, false),
            ("/pki/glacier2.key", "server.key", 0o600, true)
        ]
    );
    assert!(up.iter().all(|u| u.owner == org.settings.service_user));
}

#[test]
fn nothing_is_pushed_without_sources_or_with_tls_off() {
    assert!(uploads(FIXTURE, "admin").is_empty());
    assert!(uploads(FIXTURE, "ice_via").is_empty());
    let by_hand = format!("{FIXTURE}{}", support::TLS_VARS);
    assert!(uploads(&by_hand, "admin").is_empty());
    assert!(uploads(&by_hand, "ice_via").is_empty());
}

#[test]
fn relative_sources_are_found_next_to_the_inventory() {
    let org = org_from_ini(
        "pushed.ini",
        &format!("{FIXTURE}{}", PUSHED.replace("/pki/", "pki/")),
    );
    let admin = org.admin.first().expect("admin").host.name.clone();
    let mut plan = host_plan(&org, &admin);
    plan.locate("/srv/org");
    let srcs: Vec<String> = plan
        .services
        .iter()
        .flat_map(|s| s.uploads.iter().map(|u| u.source.clone()))
        .collect();
    assert!(
        srcs.contains(&"/srv/org/pki/admin.key".to_owned()),
        "{srcs:?}"
    );
}

//! ice_via: the IceGrid registry and the Glacier2 router (Ice property files).

use super::emit::ice_value;
use super::{Layout, RenderedFile};
use crate::model::{defaults, IceProtocol, IceViaNode, Service};
use std::fmt::Write;

fn props(out: &mut String, entries: &[(&str, String)]) {
    for (k, v) in entries {
        let _ = writeln!(out, "{k}={}", ice_value(v));
    }
}

pub fn icegrid(lay: &Layout<'_>, node: &IceViaNode, path: String) -> RenderedFile {
    let ip = node.host.ip;
    let inst = defaults::ICEGRID_INSTANCE;
    let verifier = format!("{inst}/NullPermissionsVerifier");
    let mut c = String::from("# Rendered by metis-deploy: IceGrid registry.\n");
    props(
        &mut c,
        &[
            ("IceGrid.InstanceName", inst.to_owned()),
            (
                "IceGrid.Registry.Client.Endpoints",
                format!("tcp -p {} -h {ip}", node.grid_port),
            ),
            ("IceGrid.Registry.Server.Endpoints", format!("tcp -h {ip}")),
            (
                "IceGrid.Registry.Internal.Endpoints",
                format!("tcp -h {ip}"),
            ),
            ("IceGrid.Registry.PermissionsVerifier", verifier.clone()),
            ("IceGrid.Registry.AdminPermissionsVerifier", verifier),
            ("IceGrid.Registry.LMDB.Path", lay.icegrid_lmdb_dir()),
            ("IceGrid.Registry.DynamicRegistration", "1".to_owned()),
            ("Ice.LogFile", lay.log_file(Service::IceGrid)),
        ],
    );
    RenderedFile::new(&node.host, Service::IceGrid, path, c)
}

pub fn glacier2(lay: &Layout<'_>, node: &IceViaNode, path: String) -> RenderedFile {
    let ip = node.host.ip;
    let inst = defaults::GLACIER2_INSTANCE;
    let mut c = String::from("# Rendered by metis-deploy: Glacier2 router.\n");
    let mut entries = vec![
        ("Glacier2.InstanceName", inst.to_owned()),
        (
            "Ice.Default.Locator",
            format!(
                "{}/Locator:tcp -p {} -h {ip}",
                defaults::ICEGRID_INSTANCE,
                node.grid_port
            ),
        ),
        (
            "Glacier2.Client.Endpoints",
            format!("{} -p {} -h {ip}", node.protocol.name(), node.glacier2_port),
        ),
        ("Glacier2.Server.Endpoints", format!("tcp -h {ip}")),
        (
            "Glacier2.PermissionsVerifier",
            format!("{inst}/NullPermissionsVerifier"),
        ),
        (
            "Glacier2.SessionTimeout",
            defaults::GLACIER2_SESSION_TIMEOUT_SECS.to_string(),
        ),
        ("Ice.LogFile", lay.log_file(Service::Glacier2)),
    ];
    if node.protocol == IceProtocol::Ssl {
        entries.extend([
            ("Ice.Plugin.IceSSL", "IceSSL:createIceSSL".to_owned()),
            ("IceSSL.DefaultDir", lay.ice_certs_dir()),
            ("IceSSL.CAs", defaults::ICE_SSL_CA_FILE.to_owned()),
            ("IceSSL.CertFile", defaults::ICE_SSL_CERT_FILE.to_owned()),
            ("IceSSL.KeyFile", defaults::ICE_SSL_KEY_FILE.to_owned()),
            // Fighters connect without client certificates.
            ("IceSSL.VerifyPeer", "0".to_owned()),
        ]);
    }
    props(&mut c, &entries);
    RenderedFile::new(&node.host, Service::Glacier2, path, c)
}

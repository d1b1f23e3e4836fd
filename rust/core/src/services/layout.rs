//! Where everything lives on a host: every path derives from `deploy_dir`, one directory per
//! group. The service descriptions, the renderer and the host plan all ask here.

use crate::model::{Group, Service, Settings};

/// The directory layout under `deploy_dir`:
/// `<deploy_dir>/<group>/{config,data,logs}`, binaries in `<deploy_dir>/<group>/`.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    /// Without a trailing `/`.
    pub deploy_dir: &'a str,
    pub user: &'a str,
}

/// Owner and group of system files and directories.
pub const ROOT: &str = "root";

impl<'a> Layout<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        Layout {
            deploy_dir: settings.deploy_dir.trim_end_matches('/'),
            user: &settings.service_user,
        }
    }

    /// Who owns a file or directory: the service user for `deploy_dir` and everything below
    /// it (services read their own configs, secrets included), root for the rest.
    pub fn owner_of(&self, path: &str) -> &'a str {
        let below = path
            .strip_prefix(self.deploy_dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if below {
            self.user
        } else {
            ROOT
        }
    }

    /// `<deploy_dir>/<group>`: the working directory of the group's services.
    pub fn group_dir(&self, group: Group) -> String {
        format!("{}/{}", self.deploy_dir, group.name())
    }
    pub fn config_dir(&self, group: Group) -> String {
        format!("{}/config", self.group_dir(group))
    }
    pub fn data_dir(&self, group: Group) -> String {
        format!("{}/data", self.group_dir(group))
    }
    pub fn log_dir(&self, group: Group) -> String {
        format!("{}/logs", self.group_dir(group))
    }
    /// The main log file of a service.
    pub fn log_file(&self, service: Service) -> String {
        format!("{}/{}.log", self.log_dir(service.group()), service.name())
    }
    /// The pid file of a service started as a process (`service_manager=process`).
    pub fn pid_file(&self, service: Service) -> String {
        format!("{}/{}.pid", self.group_dir(service.group()), service.name())
    }

    /// Where an archive of the bundle is kept on the host: in its group's directory, under its
    /// own file name.
    pub fn archive_path(&self, group: Group, source: &str) -> String {
        let name = source.rsplit('/').next().unwrap_or(source);
        format!("{}/{name}", self.group_dir(group))
    }

    /// Where an upgrade keeps the group's previous artifacts (and the version they came from),
    /// for a rollback.
    pub fn previous_dir(&self, group: Group) -> String {
        format!("{}/previous", self.group_dir(group))
    }
    /// Where an upgrade pushes the group's new artifacts before it switches a service to them.
    pub fn staged_dir(&self, group: Group) -> String {
        format!("{}/next", self.group_dir(group))
    }
    /// The bundle version a service's artifacts on the host came from.
    pub fn version_file(&self, service: Service) -> String {
        format!(
            "{}/{}.version",
            self.group_dir(service.group()),
            service.name()
        )
    }
    /// The consul KV keys of the organisation, kept by a backup before they are fetched.
    pub fn consul_kv_backup(&self) -> String {
        format!("{}/kv.json", self.group_dir(Group::Consul))
    }

    pub fn consul_bin(&self) -> String {
        format!("{}/consul", self.group_dir(Group::Consul))
    }
    pub fn carrier_bin(&self) -> String {
        format!("{}/carrier", self.group_dir(Group::Carrier))
    }
    /// `keytool`, which makes the carrier's p2p key.
    pub fn keytool_bin(&self) -> String {
        format!("{}/keytool", self.group_dir(Group::Carrier))
    }
    /// The carrier's p2p private key, made once by `keytool` and kept across redeploys.
    pub fn carrier_p2p_key(&self) -> String {
        format!("{}/p2p.key", self.config_dir(Group::Carrier))
    }
    pub fn admin_jar(&self) -> String {
        format!("{}/admin.jar", self.group_dir(Group::Admin))
    }
    /// The schema of the admin's database (imported once by the MySQL role).
    pub fn admin_sql(&self) -> String {
        format!("{}/admin.sql", self.group_dir(Group::Admin))
    }
    /// The unpacked `admin.tar`: nginx's web root.
    pub fn admin_web_root(&self) -> String {
        format!("{}/web", self.group_dir(Group::Admin))
    }
    /// Where the web UI's certificate and key are pushed when the inventory gives them as
    /// controller files and no host path.
    pub fn admin_certs_dir(&self) -> String {
        admin_certs_dir(self.deploy_dir)
    }
    pub fn icegrid_lmdb_dir(&self) -> String {
        format!("{}/registry", self.data_dir(Group::IceVia))
    }
    pub fn ice_certs_dir(&self) -> String {
        ice_certs_dir(self.deploy_dir)
    }
    pub fn fighter_code_dir(&self, group: Group) -> String {
        format!("{}/code", self.data_dir(group))
    }
    pub fn fighter_results_dir(&self, group: Group) -> String {
        format!("{}/results", self.data_dir(group))
    }
    pub fn fighter_data_root(&self) -> String {
        format!("{}/data_root", self.data_dir(Group::Data))
    }
    /// The fighter's virtual environment.
    pub fn fighter_venv(&self, group: Group) -> String {
        format!("{}/venv", self.group_dir(group))
    }
    /// The wheels a fighter installs from (dependencies in `deps/` below it).
    pub fn fighter_wheel_dir(&self, group: Group) -> String {
        format!("{}/wheels", self.group_dir(group))
    }
    /// The fighters' interpreter: `fighter_python` when set (relative paths taken from
    /// `deploy_dir`), else the virtual environment's.
    pub fn fighter_python(&self, settings: &Settings, group: Group) -> String {
        match settings.fighter.python.as_deref() {
            Some(p) if p.starts_with('/') => p.to_owned(),
            Some(p) => format!("{}/{}", self.deploy_dir, p),
            None => format!("{}/bin/python", self.fighter_venv(group)),
        }
    }
}

/// `<deploy_dir>/admin/certs` (read while the settings are built, before a [`Layout`] exists).
pub fn admin_certs_dir(deploy_dir: &str) -> String {
    format!(
        "{}/{}/certs",
        deploy_dir.trim_end_matches('/'),
        Group::Admin.name()
    )
}

/// The web UI's certificate pushed from `admin_ssl_certificate_src` when no host path is set.
pub fn default_admin_cert(deploy_dir: &str) -> String {
    format!("{}/admin.crt", admin_certs_dir(deploy_dir))
}

/// The web UI's private key pushed from `admin_ssl_certificate_key_src` when no host path is set.
pub fn default_admin_key(deploy_dir: &str) -> String {
    format!("{}/admin.key", admin_certs_dir(deploy_dir))
}

/// `<deploy_dir>/ice_via/certs`: Glacier2's certificate authority, certificate and key.
pub fn ice_certs_dir(deploy_dir: &str) -> String {
    format!(
        "{}/{}/certs",
        deploy_dir.trim_end_matches('/'),
        Group::IceVia.name()
    )
}

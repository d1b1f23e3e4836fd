//! Where everything lives on a host: every path derives from `deploy_dir`, one directory per
//! group. Roles, health checks and the renderer all ask here.

use crate::model::defaults;
use crate::model::{Group, Service, Settings};

/// The directory layout under `deploy_dir`:
/// `<deploy_dir>/<group>/{config,data,logs}`, binaries in `<deploy_dir>/<group>/`.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    pub deploy_dir: &'a str,
    pub user: &'a str,
}

impl<'a> Layout<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        Layout {
            deploy_dir: settings.deploy_dir.trim_end_matches('/'),
            user: &settings.service_user,
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
    /// The main config file of a service (the one its command line names).
    pub fn config_file(&self, service: Service) -> String {
        let dir = self.config_dir(service.group());
        match service {
            Service::Consul => format!("{dir}/consul.json"),
            Service::Carrier => format!("{dir}/carrier.yml"),
            Service::IceGrid => format!("{dir}/icegrid.cfg"),
            Service::Glacier2 => format!("{dir}/glacier2.cfg"),
            Service::Admin => {
                format!("{dir}/application-{}.yml", defaults::ADMIN_SPRING_PROFILE)
            }
            Service::Data => format!("{dir}/data.yml"),
            Service::Compute => format!("{dir}/compute.yml"),
            Service::Nginx => defaults::NGINX_SITE_FILE.to_owned(),
            Service::Mysql => defaults::MYSQL_CONF_FILE.to_owned(),
        }
    }
    /// Every directory a service needs before it starts (owned by the service user).
    pub fn service_dirs(&self, service: Service) -> Vec<String> {
        let g = service.group();
        let mut dirs = vec![self.group_dir(g), self.config_dir(g), self.log_dir(g)];
        match service {
            Service::Consul | Service::Carrier => dirs.push(self.data_dir(g)),
            Service::IceGrid => dirs.push(self.icegrid_lmdb_dir()),
            Service::Admin => dirs.push(self.admin_web_root()),
            Service::Data | Service::Compute => {
                dirs.push(self.data_dir(g));
                dirs.extend([self.fighter_code_dir(g), self.fighter_results_dir(g)]);
                if service == Service::Data {
                    dirs.push(self.fighter_data_root());
                }
            }
            Service::Glacier2 | Service::Mysql | Service::Nginx => {}
        }
        dirs
    }

    pub fn consul_bin(&self) -> String {
        format!("{}/consul", self.group_dir(Group::Consul))
    }
    pub fn carrier_bin(&self) -> String {
        format!("{}/carrier", self.group_dir(Group::Carrier))
    }
    /// The carrier's p2p private key, made once by `keytool` and kept across redeploys.
    pub fn carrier_p2p_key(&self) -> String {
        format!("{}/p2p.key", self.config_dir(Group::Carrier))
    }
    pub fn admin_jar(&self) -> String {
        format!("{}/admin.jar", self.group_dir(Group::Admin))
    }
    /// The unpacked `admin.tar`: nginx's web root.
    pub fn admin_web_root(&self) -> String {
        format!("{}/web", self.group_dir(Group::Admin))
    }
    pub fn icegrid_lmdb_dir(&self) -> String {
        format!("{}/registry", self.data_dir(Group::IceVia))
    }
    pub fn ice_certs_dir(&self) -> String {
        format!("{}/certs", self.group_dir(Group::IceVia))
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
    /// The fighters' interpreter: `fighter_python`, relative paths taken from `deploy_dir`.
    pub fn fighter_python(&self, settings: &Settings) -> String {
        let p = settings.fighter.python.as_str();
        if p.starts_with('/') {
            p.to_owned()
        } else {
            format!("{}/{}", self.deploy_dir, p)
        }
    }
    /// `/etc/systemd/system/metis-<service>.service`.
    pub fn unit_file(&self, service: Service) -> String {
        format!("{}/{}", defaults::SYSTEMD_UNIT_DIR, unit_name(service))
    }
}

/// `metis-<service>.service`.
pub fn unit_name(service: Service) -> String {
    format!("{}{}.service", defaults::UNIT_PREFIX, service.name())
}

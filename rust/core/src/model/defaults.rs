//! Every default of metis-deploy, once. Roles, the renderer and the health checks ask here.

/// Where everything is installed on a host (`deploy_dir`).
pub const DEPLOY_DIR: &str = "/opt/metis";
/// The unprivileged user services run as (`service_user`).
pub const SERVICE_USER: &str = "metis";
pub const CLUSTER_NAME: &str = "metis";

pub const CARRIER_PPROF_PORT: u16 = 10032;
pub const CARRIER_RPC_PORT: u16 = 10033;
pub const CARRIER_GRPC_GATEWAY_PORT: u16 = 10034;
pub const CARRIER_P2P_UDP_PORT: u16 = 10035;
pub const CARRIER_P2P_TCP_PORT: u16 = 10036;

pub const ADMIN_WEB_PORT: u16 = 9090;
pub const ADMIN_GRPC_PORT: u16 = 9091;
pub const NGINX_HTTP_PORT: u16 = 80;
pub const NGINX_HTTPS_PORT: u16 = 443;
pub const MYSQL_PORT: u16 = 3306;
/// The admin's database (created from admin.sql).
pub const ADMIN_DATABASE: &str = "datum_admin";
/// The database server's time zone (upstream sets +0:00).
pub const MYSQL_TIME_ZONE: &str = "+00:00";
pub const ADMIN_DB_USER: &str = "datum_admin";
/// Valid for Java 9+ (upstream's CMS/ParNew flags are rejected by modern JDKs).
pub const ADMIN_JVM_OPTS: &str = "-Xms512m -Xmx1g -XX:+UseG1GC";
pub const ADMIN_TLS_PROTOCOLS: &str = "TLSv1.2 TLSv1.3";
pub const ADMIN_TLS_CIPHERS: &str = "HIGH:!aNULL:!MD5";

pub const ICE_GLACIER2_PORT: u16 = 20031;
pub const ICE_GRID_PORT: u16 = 20032;

/// Ports the data service opens for tasks (`task_port_range`), inclusive.
pub const DATA_TASK_PORTS: (u16, u16) = (31000, 31100);
/// Ports the compute service opens for tasks (`task_port_range`), inclusive.
pub const COMPUTE_TASK_PORTS: (u16, u16) = (41000, 41100);
/// Fighter ports must be above this (the fighter refuses lower ones).
pub const FIGHTER_MIN_PORT: u16 = 1025;

/// Consul's minimum deregister-critical-service-after, in seconds.
pub const CONSUL_MIN_DEREGISTER_SECS: u32 = 60;

/// Consul KV keys the services read at start.
/// The prefix of every consul KV key of the organisation (what a backup keeps).
pub const KV_PREFIX: &str = "datumnetwork/";
pub const KV_GLACIER2: &str = "datumnetwork/glacier2_ip_port";
pub const KV_ICEGRID: &str = "datumnetwork/icegrid_ip_port";
pub const KV_DATA_CENTER: &str = "datumnetwork/dataCenter_ip_port";

/// Names services register under in consul.
pub const CONSUL_CARRIER_SERVICE: &str = "carrierService";
pub const CONSUL_ADMIN_SERVICE: &str = "adminService";
pub const CONSUL_ADMIN_GRPC_SERVICE: &str = "adminGrpcService";
pub const CONSUL_DATA_SERVICE: &str = "dataService";
pub const CONSUL_COMPUTE_SERVICE: &str = "jobService";
/// Tags of the services registered with a tag.
pub const CONSUL_CARRIER_TAG: &str = "carrier";
pub const CONSUL_ADMIN_GRPC_TAG: &str = "adminGrpc";

/// Chain settings: upstream's public values are used when the inventory sets none.
pub const CHAIN_RPC_URL: &str = "ws://127.0.0.1:6790";
pub const CHAIN_HRP: &str = "lat";

// ---- Rendering (render/): values services get when the inventory has no setting for them ----

/// `carrier_verbosity`: 3 = info.
pub const CARRIER_VERBOSITY: u8 = 3;
/// `pinata_url`: the pinning API of the admin's IPFS uploads.
pub const PINATA_URL: &str = "https://api.pinata.cloud";
/// `fighter_base_python`: the fighters' virtual environments are made from it.
pub const FIGHTER_BASE_PYTHON: &str = "/usr/bin/python3";
/// Wheel file names in the artifact bundle when the inventory names none.
pub const FIGHTER_DCV_WHEEL: &str = "fighter_dcv-0.9.1-py3-none-any.whl";
pub const CHANNEL_SDK_WHEEL: &str = "datum_network_channel_sdk-2.0.4-py3-none-any.whl";
pub const LATTICEX_PSI_WHEEL: &str = "latticex_psi-1.0.0-py3-none-any.whl";
pub const LATTICEX_ROSETTA_WHEEL: &str = "latticex_rosetta-1.0.0-py3-none-any.whl";
/// Python module each fighter runs (`python -u -m <module> <config>`).
pub const DATA_MODULE: &str = "fighter_project.data_svc.main";
pub const COMPUTE_MODULE: &str = "fighter_project.compute_svc.main";
pub const FIGHTER_THREAD_POOL_SIZE: u32 = 10;
/// Consul tags the fighters register with (names: [`CONSUL_DATA_SERVICE`], [`CONSUL_COMPUTE_SERVICE`]).
pub const CONSUL_DATA_TAG: &str = "data";
pub const CONSUL_COMPUTE_TAG: &str = "job";
/// Interval of the consul checks services register.
pub const CONSUL_CHECK_INTERVAL: &str = "10s";

/// Binaries installed by Debian packages.
pub const JAVA_BIN: &str = "/usr/bin/java";
pub const ICEGRIDREGISTRY_BIN: &str = "/usr/bin/icegridregistry";
pub const GLACIER2ROUTER_BIN: &str = "/usr/bin/glacier2router";
/// Ice instance names (Ice's own defaults, which the fighters' locator strings assume).
pub const ICEGRID_INSTANCE: &str = "IceGrid";
pub const GLACIER2_INSTANCE: &str = "Glacier2";
/// Glacier2.SessionTimeout, seconds.
pub const GLACIER2_SESSION_TIMEOUT_SECS: u32 = 60;
/// Certificate files of `ice_protocol=ssl`, in `<deploy_dir>/ice_via/certs/` (PEM).
pub const ICE_SSL_CA_FILE: &str = "ca.pem";
pub const ICE_SSL_CERT_FILE: &str = "server.pem";
pub const ICE_SSL_KEY_FILE: &str = "server.key";

/// The admin's Spring profile (`--spring.profiles.active`) and so its config file name.
pub const ADMIN_SPRING_PROFILE: &str = "admin";
/// The admin's context path as a literal, so that paths under it are built at compile time.
macro_rules! admin_context_path {
    () => {
        "/datum-admin"
    };
}
/// The admin's context path, proxied by nginx and used by its health check.
pub const ADMIN_CONTEXT_PATH: &str = admin_context_path!();
/// The admin's health endpoint, answered without login (directly and through nginx).
pub const ADMIN_HEALTH_PATH: &str = concat!(admin_context_path!(), "/health");
/// Carrier's node information, on its grpc-gateway port (its health check).
pub const CARRIER_NODE_INFO_PATH: &str = "/carrier/v1/yarn/nodeInfo";
/// Go's pprof index, on carrier's pprof port (its health check).
pub const PPROF_PATH: &str = "/debug/pprof/";
/// JDBC URL parameters of the admin's datasource.
pub const ADMIN_JDBC_PARAMS: &str =
    "useUnicode=true&characterEncoding=utf8&serverTimezone=UTC&useSSL=false&allowPublicKeyRetrieval=true";

/// Where Debian's nginx and MariaDB read the snippets metis-deploy renders.
pub const NGINX_SITE_FILE: &str = "/etc/nginx/conf.d/metis-admin.conf";
pub const MYSQL_CONF_FILE: &str = "/etc/mysql/mariadb.conf.d/60-metis.cnf";
/// Where the rendered units go (`metis-<service>.service`).
pub const SYSTEMD_UNIT_DIR: &str = "/etc/systemd/system";
/// Our units are `<prefix><service>.service` (MySQL and nginx keep Debian's own).
pub const UNIT_PREFIX: &str = "metis-";
pub const UNIT_LIMIT_NOFILE: u32 = 65536;
pub const UNIT_TIMEOUT_STOP_SECS: u32 = 30;
pub const UNIT_RESTART_SEC: u32 = 5;

// ---- Operations (the roles): values the playbooks get from the host plan's options ----

/// `start_timeout`: seconds a started service has to pass its health checks.
pub const START_TIMEOUT_SECS: u32 = 120;
/// `min_free_mb`: free MiB bootstrap requires where deploy_dir is.
pub const MIN_FREE_MB: u64 = 2048;
/// The controller's state directory of an organisation, relative to the inventory's directory:
/// `<inventory dir>/.metis-deploy/<cluster_name>` (verified bundles, backups, runs).
pub const STATE_DIR_NAME: &str = ".metis-deploy";

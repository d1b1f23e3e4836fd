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
pub const KV_GLACIER2: &str = "datumnetwork/glacier2_ip_port";
pub const KV_ICEGRID: &str = "datumnetwork/icegrid_ip_port";
pub const KV_DATA_CENTER: &str = "datumnetwork/dataCenter_ip_port";

/// Names services register under in consul.
pub const CONSUL_CARRIER_SERVICE: &str = "carrierService";
pub const CONSUL_ADMIN_SERVICE: &str = "adminService";
pub const CONSUL_ADMIN_GRPC_SERVICE: &str = "adminGrpcService";
pub const CONSUL_DATA_SERVICE: &str = "dataService";
pub const CONSUL_COMPUTE_SERVICE: &str = "jobService";

/// Chain settings: upstream's public values are used when the inventory sets none.
pub const CHAIN_RPC_URL: &str = "ws://127.0.0.1:6790";
pub const CHAIN_ID: i64 = 210309;
pub const CHAIN_HRP: &str = "lat";

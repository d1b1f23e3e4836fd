// admin.jar: metis-deploy STAND-IN for datum-admin (tests and lab only; not the real admin).
package standin.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Stand-in for the datum-admin Spring Boot jar: `java [opts] -jar admin.jar
 * --spring.profiles.active=admin` run from its directory reads config/application-admin.yml,
 * connects to MariaDB through JDBC and checks the schema of admin.sql, serves
 * /datum-admin/health and HTTP/2 on the gRPC port, registers adminService and adminGrpcService
 * in consul and deregisters them when stopped (SIGTERM: the JVM exits with status 143, as Spring
 * Boot does).
 */
public final class Main {
    /** Tables of admin.sql the stand-in needs (as the real admin needs its schema). */
    static final String[] REQUIRED_TABLES = {"t_user", "t_org"};
    static final String DRIVER = "org.mariadb.jdbc.Driver";
    static final String DRIVER_JAR = "/usr/share/java/mariadb-java-client.jar";
    static final String SERVICE = "adminService";
    static final String GRPC_SERVICE = "adminGrpcService";
    static final String GRPC_TAG = "adminGrpc";

    private static Connection db;
    private static String url;
    private static String user;
    private static String password;

    private Main() {}

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/standin-version.txt")) {
            return in == null ? "0.0.0-standin-dev" : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "0.0.0-standin-dev";
        }
    }

    public static void main(String[] args) {
        String profile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String a : args) {
            if (a.equals("--version") || a.equals("-version")) {
                System.out.println("datum-admin " + version() + " (metis-deploy stand-in, not the real datum-admin)");
                return;
            }
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: java [jvm options] -jar admin.jar --spring.profiles.active=<profile> [--key=value...]\n"
                        + "datum-admin: metis-deploy stand-in " + version() + ", not the real datum-admin.\n"
                        + "Reads config/application-<profile>.yml from the working directory.");
                return;
            }
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                System.err.println("datum-admin stand-in: unexpected argument '" + a + "' (expected --key=value)");
                System.exit(1);
            }
            String k = a.substring(2, eq);
            if (k.equals("spring.profiles.active")) {
                profile = a.substring(eq + 1);
            } else {
                overrides.put(k, a.substring(eq + 1));
            }
        }
        int rc;
        try {
            rc = run(profile, overrides);
        } catch (RuntimeException e) {
            Log.error("Application run failed: " + e);
            rc = 1;
        }
        if (rc != 0) {
            Log.close();
            System.exit(rc);
        }
    }

    static Map<String, String> config(String profile) throws IOException, MiniYaml.YamlException {
        List<Path> files = new ArrayList<>();
        for (String dir : new String[] {".", "config"}) {
            files.add(Path.of(dir, "application.yml"));
            if (profile != null) {
                files.add(Path.of(dir, "application-" + profile + ".yml"));
            }
        }
        Map<String, String> conf = new LinkedHashMap<>();
        boolean any = false;
        for (Path p : files) {
            if (Files.isRegularFile(p)) {
                any = true;
                try {
                    conf.putAll(MiniYaml.parse(Files.readString(p, StandardCharsets.UTF_8)));
                } catch (MiniYaml.YamlException e) {
                    throw new MiniYaml.YamlException(0, p + ": " + e.getMessage());
                }
            }
        }
        if (!any) {
            throw new IOException("no configuration: expected config/application" + (profile == null ? "" : "-" + profile) + ".yml in "
                    + Path.of("").toAbsolutePath());
        }
        return conf;
    }

    static String need(Map<String, String> c, String... keys) {
        for (String k : keys) {
            String v = c.get(k);
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        throw new IllegalStateException("missing setting " + keys[0] + " in application-*.yml");
    }

    static int port(Map<String, String> c, String key) {
        String v = need(c, key);
        try {
            int p = Integer.parseInt(v);
            if (p > 0 && p < 65536) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalStateException(key + " = '" + v + "' is not a port number");
    }

    static String redact(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1****");
    }

    static synchronized boolean dbUp() {
        try {
            if (db != null && db.isValid(2)) {
                return true;
            }
            db = DriverManager.getConnection(url, user, password);
            return db.isValid(2);
        } catch (SQLException e) {
            Log.warn("database health: " + e.getMessage());
            return false;
        }
    }

    static int run(String profile, Map<String, String> overrides) {
        long t0 = System.nanoTime();
        Map<String, String> c;
        try {
            c = config(profile);
        } catch (IOException | MiniYaml.YamlException e) {
            Log.error("Application run failed: " + e.getMessage());
            return 1;
        }
        c.putAll(overrides);
        String logFile = c.get("logging.file.name");
        if (logFile != null && !logFile.isEmpty()) {
            try {
                Log.open(logFile);
            } catch (IOException e) {
                Log.error("cannot open logging.file.name " + logFile + ": " + e);
                return 1;
            }
        }
        String v = version();
        Log.info("Starting DatumAdminStandIn " + v + " (metis-deploy stand-in, not the real datum-admin) using Java "
                + System.getProperty("java.version") + " with PID " + ProcessHandle.current().pid() + " in "
                + Path.of("").toAbsolutePath());
        Log.info("The following profiles are active: " + (profile == null ? "default" : profile));
        int webPort;
        int grpcPort;
        String consulHost;
        int consulPort;
        try {
            webPort = port(c, "server.port");
            grpcPort = port(c, "grpc.server.port");
            url = need(c, "spring.datasource.druid.url", "spring.datasource.url");
            user = need(c, "spring.datasource.druid.username", "spring.datasource.username");
            password = c.getOrDefault("spring.datasource.druid.password", c.getOrDefault("spring.datasource.password", ""));
            consulHost = need(c, "spring.cloud.consul.host");
            consulPort = port(c, "spring.cloud.consul.port");
        } catch (IllegalStateException e) {
            Log.error("Application run failed: " + e.getMessage());
            return 1;
        }

        try {
            Class.forName(DRIVER);
        } catch (ClassNotFoundException e) {
            Log.error("Cannot load driver class: " + DRIVER + ": MariaDB Connector/J is not on the class path ("
                    + DRIVER_JAR + "): install Debian's libmariadb-java");
            return 1;
        }
        DriverManager.setLoginTimeout(10);
        try {
            db = DriverManager.getConnection(url, user, password);
        } catch (SQLException e) {
            Log.error("{dataSource-1} init error: cannot connect to the database " + redact(url) + " as '" + user
                    + "': " + e.getMessage());
            Log.error("Application run failed");
            return 1;
        }
        String schema;
        List<String> missing = new ArrayList<>();
        try (PreparedStatement st = db.prepareStatement(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?")) {
            schema = db.getCatalog();
            for (String t : REQUIRED_TABLES) {
                st.setString(1, t);
                try (ResultSet rs = st.executeQuery()) {
                    if (!rs.next() || rs.getInt(1) == 0) {
                        missing.add(t);
                    }
                }
            }
        } catch (SQLException e) {
            Log.error("cannot read the schema of " + redact(url) + ": " + e.getMessage());
            return 1;
        }
        if (schema == null || schema.isEmpty()) {
            Log.error("the JDBC URL " + redact(url) + " names no database: expected .../datum_admin?...");
            return 1;
        }
        if (!missing.isEmpty()) {
            Log.error("database '" + schema + "' has no table " + String.join(", ", missing)
                    + ": the schema of admin.sql is missing; import admin.sql into it (mariadb " + schema
                    + " < admin.sql)");
            Log.error("Application run failed");
            return 1;
        }
        Log.info("{dataSource-1} inited: " + redact(url) + " as '" + user + "', schema '" + schema + "' has "
                + String.join(", ", REQUIRED_TABLES));

        String context = c.getOrDefault("server.servlet.context-path", "/datum-admin");
        String bind = c.getOrDefault("server.address", "0.0.0.0");
        HttpServer web;
        try {
            web = HttpServer.create(new InetSocketAddress(bind, webPort), 64);
        } catch (IOException e) {
            Log.error("Web server failed to start. Port " + webPort + " was already in use (" + bind + "): " + e.getMessage());
            return 1;
        }
        web.createContext("/", ex -> handle(ex, context));
        web.setExecutor(Executors.newFixedThreadPool(8));
        web.start();
        Log.info("Tomcat started on port(s): " + webPort + " (http) with context path '" + context + "'");
        Http2Server grpc;
        String grpcBind = c.getOrDefault("grpc.server.address", "0.0.0.0");
        try {
            grpc = new Http2Server(grpcBind, grpcPort);
        } catch (IOException e) {
            Log.error("gRPC server failed to start on " + grpcBind + ":" + grpcPort + ": " + e.getMessage());
            web.stop(0);
            return 1;
        }
        Log.info("gRPC Server started, listening on address: " + grpcBind + ", port: " + grpcPort);

        String ip = c.get("spring.cloud.consul.discovery.ip-address");
        if (ip == null || ip.isEmpty()) {
            try {
                ip = InetAddress.getLocalHost().getHostAddress();
            } catch (IOException e) {
                ip = "127.0.0.1";
            }
        }
        String id = c.getOrDefault("spring.cloud.consul.discovery.instance-id", SERVICE + "-" + ip + "-" + webPort);
        String grpcId = GRPC_SERVICE + "-" + ip + "-" + grpcPort;
        ConsulClient consul = new ConsulClient(consulHost, consulPort);
        String web1 = "{\"ID\":" + ConsulClient.q(id) + ",\"Name\":\"" + SERVICE + "\",\"Tags\":[\"secure=false\"],"
                + "\"Address\":" + ConsulClient.q(ip) + ",\"Port\":" + webPort
                + ",\"Meta\":{\"secure\":\"false\",\"standin\":\"true\",\"version\":" + ConsulClient.q(v) + "},"
                + "\"Check\":{\"HTTP\":" + ConsulClient.q("http://" + ip + ":" + webPort + context + "/health")
                + ",\"Interval\":\"10s\",\"Timeout\":\"5s\"}}";
        String grpc1 = "{\"ID\":" + ConsulClient.q(grpcId) + ",\"Name\":\"" + GRPC_SERVICE + "\",\"Tags\":[\"" + GRPC_TAG
                + "\"],\"Address\":" + ConsulClient.q(ip) + ",\"Port\":" + grpcPort
                + ",\"Meta\":{\"standin\":\"true\",\"version\":" + ConsulClient.q(v) + "},"
                + "\"Check\":{\"GRPC\":" + ConsulClient.q(ip + ":" + grpcPort) + ",\"Interval\":\"10s\"}}";
        try {
            consul.register(web1);
            Log.info("Registering service with consul: NewService{id='" + id + "', name='" + SERVICE + "', address='"
                    + ip + "', port=" + webPort + "} at " + consul.base());
            consul.register(grpc1);
            Log.info("Registering service with consul: NewService{id='" + grpcId + "', name='" + GRPC_SERVICE
                    + "', tags=[" + GRPC_TAG + "], address='" + ip + "', port=" + grpcPort + "}");
        } catch (IOException e) {
            Log.error("cannot register with consul at " + consul.base() + ": " + e.getMessage());
            Log.error("Application run failed");
            web.stop(0);
            grpc.close();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Log.info("Shutting down: deregistering " + id + " and " + grpcId + " from consul");
            for (String sid : new String[] {id, grpcId}) {
                try {
                    consul.deregister(sid);
                } catch (IOException e) {
                    Log.warn("could not deregister " + sid + ": " + e.getMessage());
                }
            }
            web.stop(0);
            grpc.close();
            Log.info("datum-admin stand-in stopped");
            Log.close();
        }, "shutdown"));
        Log.info(String.format("Started DatumAdminStandIn in %.3f seconds", (System.nanoTime() - t0) / 1e9));
        try {
            Thread.currentThread().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static void handle(HttpExchange ex, String context) throws IOException {
        String path = ex.getRequestURI().getPath();
        int status;
        String body;
        if (path.equals(context + "/health")) {
            boolean up = dbUp();
            status = up ? 200 : 503;
            body = up ? "{\"status\":\"UP\",\"version\":" + ConsulClient.q(version()) + "}" : "{\"status\":\"DOWN\",\"components\":{\"db\":{\"status\":\"DOWN\"}}}";
        } else if (path.equals(context) || path.startsWith(context + "/")) {
            status = 401;
            body = "{\"code\":401,\"msg\":\"not logged in (datum-admin stand-in)\"}";
        } else {
            status = 404;
            body = "{\"status\":404,\"error\":\"Not Found\",\"path\":" + ConsulClient.q(path) + "}";
        }
        byte[] data = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, ex.getRequestMethod().equals("HEAD") ? -1 : data.length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!ex.getRequestMethod().equals("HEAD")) {
                out.write(data);
            }
        }
    }
}

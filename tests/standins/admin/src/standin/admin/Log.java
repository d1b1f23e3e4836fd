// admin.jar: metis-deploy STAND-IN for datum-admin (tests and lab only; not the real admin).
package standin.admin;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Spring Boot's console/file log line format, to stdout and logging.file.name (appended). */
final class Log {
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static final long PID = ProcessHandle.current().pid();
    private static PrintStream file;

    private Log() {}

    static synchronized void open(String path) throws IOException {
        Path p = Path.of(path);
        if (p.getParent() != null) {
            Files.createDirectories(p.getParent());
        }
        file = new PrintStream(new FileOutputStream(path, true), true, StandardCharsets.UTF_8);
    }

    static synchronized void close() {
        if (file != null) {
            file.flush();
        }
    }

    static synchronized void log(String level, String msg) {
        String line = String.format("%s %5s %d --- [%15.15s] %-40.40s : %s",
                ZonedDateTime.now(ZoneOffset.UTC).format(TS), level, PID, Thread.currentThread().getName(),
                "s.admin.DatumAdminStandIn", msg);
        (level.equals("ERROR") ? System.err : System.out).println(line);
        if (file != null) {
            file.println(line);
        }
    }

    static void info(String msg) {
        log("INFO", msg);
    }

    static void warn(String msg) {
        log("WARN", msg);
    }

    static void error(String msg) {
        log("ERROR", msg);
    }
}

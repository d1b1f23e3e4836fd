// admin.jar: metis-deploy STAND-IN for datum-admin (tests and lab only; not the real admin).
package standin.admin;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The two consul agent calls Spring Cloud Consul makes: register and deregister a service. */
final class ConsulClient {
    private final String base;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    ConsulClient(String host, int port) {
        this.base = "http://" + host + ":" + port;
    }

    String base() {
        return base;
    }

    private void put(String path, String body) throws IOException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (r.statusCode() != 200) {
            throw new IOException("PUT " + base + path + ": HTTP " + r.statusCode() + " " + r.body().strip());
        }
    }

    void register(String json) throws IOException {
        put("/v1/agent/service/register", json);
    }

    void deregister(String id) throws IOException {
        put("/v1/agent/service/deregister/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20"), "");
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}

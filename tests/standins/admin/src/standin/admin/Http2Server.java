// admin.jar: metis-deploy STAND-IN for datum-admin (tests and lab only; not the real admin).
package standin.admin;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The smallest gRPC-looking server: answers the HTTP/2 client preface with a SETTINGS frame,
 * acknowledges SETTINGS, answers PING, and answers every request with a trailers-only
 * grpc-status 12 (UNIMPLEMENTED): the stand-in has no RPC methods.
 */
final class Http2Server {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private final ServerSocket socket;

    Http2Server(String host, int port) throws IOException {
        socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(host, port));
        Thread t = new Thread(this::acceptLoop, "grpc-accept");
        t.setDaemon(true);
        t.start();
    }

    void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                Thread t = new Thread(() -> serve(s), "grpc-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        int n = payload.length;
        f[0] = (byte) (n >>> 16);
        f[1] = (byte) (n >>> 8);
        f[2] = (byte) n;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) ((stream >>> 24) & 0x7f);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, n);
        return f;
    }

    private static byte[] settings() {
        int[][] s = {{3, 100}, {4, 65535}, {5, 16384}};
        byte[] p = new byte[6 * s.length];
        for (int i = 0; i < s.length; i++) {
            p[6 * i] = (byte) (s[i][0] >>> 8);
            p[6 * i + 1] = (byte) s[i][0];
            for (int b = 0; b < 4; b++) {
                p[6 * i + 2 + b] = (byte) (s[i][1] >>> (24 - 8 * b));
            }
        }
        return frame(4, 0, 0, p);
    }

    private static byte[] literal(String name, String value) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        byte[] v = value.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[3 + n.length + v.length];
        out[0] = 0;
        out[1] = (byte) n.length;
        System.arraycopy(n, 0, out, 2, n.length);
        out[2 + n.length] = (byte) v.length;
        System.arraycopy(v, 0, out, 3 + n.length, v.length);
        return out;
    }

    private static byte[] unimplemented() {
        byte[][] parts = {
            {(byte) 0x88},
            literal("content-type", "application/grpc"),
            literal("grpc-status", "12"),
            literal("grpc-message", "datum-admin%20stand-in%20without%20RPC%20methods"),
        };
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static void serve(Socket s) {
        try (s) {
            s.setSoTimeout(300_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] greeting = new byte[PREFACE.length];
            in.readFully(greeting);
            if (!Arrays.equals(greeting, PREFACE)) {
                return;
            }
            out.write(settings());
            out.flush();
            byte[] head = new byte[9];
            while (true) {
                in.readFully(head);
                int len = ((head[0] & 0xff) << 16) | ((head[1] & 0xff) << 8) | (head[2] & 0xff);
                int type = head[3] & 0xff;
                int flags = head[4] & 0xff;
                int stream = ((head[5] & 0x7f) << 24) | ((head[6] & 0xff) << 16) | ((head[7] & 0xff) << 8) | (head[8] & 0xff);
                if (len > (1 << 20)) {
                    return;
                }
                byte[] payload = new byte[len];
                in.readFully(payload);
                if (type == 4 && (flags & 1) == 0) {
                    out.write(frame(4, 1, 0, new byte[0]));
                } else if (type == 6 && (flags & 1) == 0) {
                    out.write(frame(6, 1, 0, payload));
                } else if (type == 1 && stream != 0) {
                    out.write(frame(1, 0x4 | 0x1, stream, unimplemented()));
                } else if (type == 7) {
                    return;
                }
                out.flush();
            }
        } catch (EOFException e) {
            // client went away
        } catch (IOException e) {
            // connection error: nothing to do
        }
    }
}

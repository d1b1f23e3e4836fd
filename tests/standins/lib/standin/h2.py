"""metis-deploy STAND-IN support: the smallest HTTP/2 (gRPC) server and client probe.

A real gRPC server answers the client connection preface with a SETTINGS frame, acknowledges
the client's SETTINGS and answers PINGs. That is what health checks look at, and what this
server does. Every request (HEADERS) is answered with a trailers-only gRPC response
``grpc-status: 12`` (UNIMPLEMENTED): the stand-ins have no RPC methods.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

FRAME_DATA = 0x0
FRAME_HEADERS = 0x1
FRAME_RST_STREAM = 0x3
FRAME_SETTINGS = 0x4
FRAME_PING = 0x6
FRAME_GOAWAY = 0x7
FRAME_WINDOW_UPDATE = 0x8

FLAG_ACK = 0x1
FLAG_END_STREAM = 0x1
FLAG_END_HEADERS = 0x4

# What a gRPC server announces: MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE.
SERVER_SETTINGS = ((0x3, 100), (0x4, 65535), (0x5, 16384))
MAX_FRAME = 1 << 20


def frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, stream & 0x7FFFFFFF) + payload


def settings_frame(settings=SERVER_SETTINGS) -> bytes:
    return frame(FRAME_SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in settings))


def _hpack_len(n: int, prefix_bits: int, first: int) -> bytes:
    """An HPACK integer with an N-bit prefix (RFC 7541 5.1), `first` holding the pattern bits."""
    limit = (1 << prefix_bits) - 1
    if n < limit:
        return bytes([first | n])
    out = [first | limit]
    n -= limit
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _literal(name: bytes, value: bytes) -> bytes:
    """Literal header field without indexing, new name, no Huffman coding."""
    return (b"\x00" + _hpack_len(len(name), 7, 0) + name + _hpack_len(len(value), 7, 0) + value)


def grpc_unimplemented_block(message: str) -> bytes:
    """HPACK block of a trailers-only gRPC answer: :status 200 (static index 8), grpc-status 12."""
    return (
        b"\x88"
        + _literal(b"content-type", b"application/grpc")
        + _literal(b"grpc-status", b"12")
        + _literal(b"grpc-message", message.encode("ascii", "replace").replace(b" ", b"%20"))
    )


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def serve_connection(sock: socket.socket, who: str, log=None) -> None:
    """Speaks HTTP/2 on an accepted connection until the client goes away."""
    sock.settimeout(300)
    try:
        greeting = _recv_exact(sock, len(PREFACE))
        if greeting != PREFACE:
            if log and greeting:
                log(f"{who}: not an HTTP/2 client preface ({greeting[:16]!r}...), connection closed")
            return
        sock.sendall(settings_frame())
        while True:
            head = _recv_exact(sock, 9)
            if head is None:
                return
            length = (head[0] << 16) | (head[1] << 8) | head[2]
            ftype, flags = head[3], head[4]
            stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
            if length > MAX_FRAME:
                sock.sendall(frame(FRAME_GOAWAY, 0, 0, struct.pack(">II", 0, 6)))  # FRAME_SIZE_ERROR
                return
            payload = _recv_exact(sock, length) if length else b""
            if payload is None:
                return
            if ftype == FRAME_SETTINGS and not flags & FLAG_ACK:
                sock.sendall(frame(FRAME_SETTINGS, FLAG_ACK, 0))
            elif ftype == FRAME_PING and not flags & FLAG_ACK:
                sock.sendall(frame(FRAME_PING, FLAG_ACK, 0, payload))
            elif ftype == FRAME_HEADERS and stream:
                block = grpc_unimplemented_block(f"{who} is a metis-deploy stand-in without RPC methods")
                sock.sendall(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, stream, block))
            elif ftype == FRAME_GOAWAY:
                return
    except OSError:
        return
    finally:
        try:
            sock.close()
        except OSError:
            pass


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        serve_connection(self.request, self.server.who, self.server.log)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(host: str, port: int, who: str, log=None) -> socketserver.ThreadingTCPServer:
    """Binds host:port (raises OSError when it cannot) and serves HTTP/2 in a thread."""
    srv = _Server((host, port), _Handler, bind_and_activate=True)
    srv.who = who
    srv.log = log
    threading.Thread(target=srv.serve_forever, name=f"h2 {host}:{port}", daemon=True).start()
    return srv


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Client side: sends the preface and an empty SETTINGS, expects a SETTINGS frame back."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(PREFACE + settings_frame(()))
            head = _recv_exact(s, 9)
    except OSError as e:
        return False, f"dial tcp {host}:{port}: {e.strerror or e}"
    if head is None:
        return False, f"{host}:{port} closed the connection without an HTTP/2 SETTINGS frame"
    if head[3] == FRAME_SETTINGS and not head[4] & FLAG_ACK and head[5:9] == b"\0\0\0\0":
        return True, f"gRPC check {host}:{port}: success"
    return False, f"{host}:{port} did not answer the HTTP/2 preface with SETTINGS (got {head.hex()})"

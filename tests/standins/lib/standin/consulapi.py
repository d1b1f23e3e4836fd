"""metis-deploy STAND-IN support: the consul HTTP API calls the stand-in services make."""

from __future__ import annotations

import http.client
import json
import urllib.parse


class ConsulError(Exception):
    pass


class Consul:
    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.host, self.port, self.timeout = host, int(port), timeout

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            raise ConsulError(f"cannot reach consul at {self.base} ({method} {path}): {e}") from None
        finally:
            conn.close()

    def json(self, path: str):
        status, body = self.request("GET", path)
        if status != 200:
            raise ConsulError(f"GET {self.base}{path}: HTTP {status} {body[:200].decode('utf-8', 'replace').strip()}")
        try:
            return json.loads(body)
        except ValueError:
            raise ConsulError(f"GET {self.base}{path}: not JSON: {body[:100]!r}") from None

    def kv_get(self, key: str) -> bytes | None:
        """The raw value of `key`, None when it is not set."""
        path = f"/v1/kv/{urllib.parse.quote(key)}?raw"
        status, body = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise ConsulError(f"GET {self.base}{path}: HTTP {status} {body[:200].decode('utf-8', 'replace').strip()}")
        return body

    def agent_services(self) -> dict:
        return self.json("/v1/agent/services")

    def register(self, service: dict) -> None:
        status, body = self.request("PUT", "/v1/agent/service/register", json.dumps(service).encode())
        if status != 200:
            raise ConsulError(
                f"consul at {self.base} refused the registration of {service.get('Name')}: "
                f"HTTP {status} {body[:300].decode('utf-8', 'replace').strip()}"
            )

    def deregister(self, service_id: str) -> None:
        path = f"/v1/agent/service/deregister/{urllib.parse.quote(service_id, safe='')}"
        status, body = self.request("PUT", path)
        if status != 200:
            raise ConsulError(f"PUT {self.base}{path}: HTTP {status} {body[:200].decode('utf-8', 'replace').strip()}")

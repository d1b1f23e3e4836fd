# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.prepare_bundle (documentation in plugins/modules).

Runs on the controller: gets the artifact bundle from a directory, a .tar.gz or an HTTPS server,
verifies every file against SHA256SUMS and keeps the verified bundle under DEST/<VERSION>, with
DEST/current pointing at it. A bundle already verified is not fetched or verified again."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import ssl
import tarfile
import time
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

SUMS = "SHA256SUMS"
VERSION = "VERSION"
VERIFIED = ".verified"
CURRENT = "current"
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_CHUNK = 1 << 20


def parse_sums(text: str, origin: str) -> list[tuple[str, str]]:
    """(relative path, sha256) of each SHA256SUMS line; refuses paths that leave the bundle."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _SUM_LINE.match(line)
        if not m:
            raise AnsibleActionFail(f"{origin} line {number}: expected '<sha256>  <path>' as sha256sum writes it")
        digest, path = m.group(1).lower(), m.group(2)
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or path in (SUMS, VERIFIED):
            raise AnsibleActionFail(f"{origin} line {number}: path {path!r} is not a plain path inside the bundle")
        entries.append((path, digest))
    if not entries:
        raise AnsibleActionFail(f"{origin} lists no file")
    return entries


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class _Source:
    """Where the bundle comes from: read its text files and copy its members into a directory."""

    origin = ""

    def text(self, name: str) -> str:
        raise NotImplementedError

    def fetch(self, name: str, dest: str) -> bool:
        """Writes member ``name`` to ``dest``; False when the bundle has no such file."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class _DirSource(_Source):
    def __init__(self, path: str):
        self.root = path
        self.origin = path

    def text(self, name):
        try:
            with open(os.path.join(self.root, name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            raise AnsibleActionFail(f"the bundle {self.root} has no {name}") from None

    def fetch(self, name, dest):
        src = os.path.join(self.root, name)
        if not os.path.isfile(src):
            return False
        shutil.copyfile(src, dest)
        return True


class _TarSource(_Source):
    def __init__(self, path: str):
        self.origin = path
        try:
            self.tar = tarfile.open(path, "r:*")  # pylint: disable=consider-using-with
        except (OSError, tarfile.TarError) as exc:
            raise AnsibleActionFail(f"cannot read the bundle archive {path}: {exc}") from exc
        self.members = {}
        for m in self.tar.getmembers():
            name = m.name[2:] if m.name.startswith("./") else m.name
            if m.isfile():
                self.members[name] = m
        # An archive of a directory holds its files under one top directory: accept both forms.
        if SUMS not in self.members:
            tops = {n.split("/", 1)[0] for n in self.members}
            if len(tops) == 1:
                top = tops.pop() + "/"
                self.members = {n[len(top):]: m for n, m in self.members.items() if n.startswith(top)}

    def text(self, name):
        member = self.members.get(name)
        if member is None:
            raise AnsibleActionFail(f"the bundle archive {self.origin} has no {name}")
        f = self.tar.extractfile(member)
        return f.read().decode("utf-8") if f else ""

    def fetch(self, name, dest):
        member = self.members.get(name)
        if member is None:
            return False
        src = self.tar.extractfile(member)
        if src is None:
            return False
        with open(dest, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        return True

    def close(self):
        self.tar.close()


def _certificate_rejected(exc: BaseException) -> bool:
    """Whether a download failed because the server's certificate was not trusted."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 8:
        if isinstance(cur, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cur):
            return True
        reason = getattr(cur, "reason", None)
        cur = reason if isinstance(reason, BaseException) else (cur.__cause__ or cur.__context__)
        seen += 1
    return False


class _UrlSource(_Source):
    def __init__(self, url: str, ca_path: str | None, retries: int, delay: float, timeout: int):
        if not url.lower().startswith("https://"):
            raise AnsibleActionFail(f"download_url {url!r} is not https://: artifacts are only downloaded with certificate checks")
        self.base = url.rstrip("/") + "/"
        self.origin = url
        self.ca_path = ca_path
        self.retries = retries
        self.delay = delay
        self.timeout = timeout

    def _get(self, name: str, out: t.BinaryIO | None) -> bytes:
        url = self.base + name
        last = None
        for attempt in range(self.retries + 1):
            try:
                resp = open_url(url, validate_certs=True, ca_path=self.ca_path, timeout=self.timeout, http_agent="metis-deploy")
                if out is None:
                    return resp.read()
                out.seek(0)
                out.truncate()
                shutil.copyfileobj(resp, out, _CHUNK)
                return b""
            except Exception as exc:  # pylint: disable=broad-exception-caught
                last = exc
                code = getattr(exc, "code", None)
                if code == 404:
                    raise FileNotFoundError(url) from exc
                if _certificate_rejected(exc):
                    # Trying again cannot help: say which certificate authority to give.
                    hint = (
                        f"is bundle_ca_path ({self.ca_path}) the certificate authority that signed it?"
                        if self.ca_path
                        else "for a server with a private certificate authority, set bundle_ca_path to its PEM file"
                    )
                    raise AnsibleActionFail(f"certificate verification failed for {url}: {exc}; {hint}") from exc
                if attempt < self.retries:
                    time.sleep(self.delay)
        raise AnsibleActionFail(f"cannot download {url} after {self.retries + 1} attempts: {last}")

    def text(self, name):
        try:
            return self._get(name, None).decode("utf-8")
        except FileNotFoundError:
            raise AnsibleActionFail(f"{self.base}{name} does not exist (404)") from None

    def fetch(self, name, dest):
        try:
            with open(dest, "wb") as out:
                self._get(name, out)
            return True
        except FileNotFoundError:
            return False


class ActionModule(ActionBase):
    """Gets and verifies the artifact bundle on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(
            argument_spec={
                "download_url": {"type": "str"},
                "offline_bundle": {"type": "path"},
                "dest": {"type": "path", "required": True},
                "ca_path": {"type": "path"},
                "retries": {"type": "int", "default": 3},
                "delay": {"type": "float", "default": 3.0},
                "timeout": {"type": "int", "default": 30},
            },
            mutually_exclusive=[("download_url", "offline_bundle")],
            required_one_of=[("download_url", "offline_bundle")],
        )[1]
        source = self._source(args)
        try:
            return self._prepare(source, args["dest"], result)
        finally:
            source.close()

    @staticmethod
    def _source(args) -> _Source:
        if args["offline_bundle"]:
            path = args["offline_bundle"]
            if os.path.isdir(path):
                return _DirSource(path)
            if os.path.isfile(path):
                return _TarSource(path)
            raise AnsibleActionFail(f"offline_bundle {path} is neither a directory nor a .tar.gz file")
        return _UrlSource(args["download_url"], args["ca_path"], args["retries"], args["delay"], args["timeout"])

    def _prepare(self, source: _Source, dest_root: str, result: dict) -> dict:
        version = source.text(VERSION).strip()
        if not _VERSION_RE.match(version):
            raise AnsibleActionFail(f"{source.origin}: VERSION {version!r} is not a version name (letters, digits, . _ + -)")
        sums_text = source.text(SUMS)
        entries = parse_sums(sums_text, f"{source.origin}/{SUMS}")
        dest = os.path.join(dest_root, version)
        current = os.path.join(dest_root, CURRENT)
        result.update(version=version, path=dest, files=len(entries))
        if self._is_verified(dest, sums_text):
            result["changed"] = self._point_current(current, version)
            result["msg"] = f"bundle {version} already verified in {dest}"
            return result
        if self._task.check_mode:
            result.update(changed=True, msg=f"bundle {version} would be fetched and verified into {dest}")
            return result
        os.makedirs(dest_root, mode=0o755, exist_ok=True)
        staging = os.path.join(dest_root, f".{version}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        problems = []
        try:
            for path, expected in entries:
                target = os.path.join(staging, path)
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                if not source.fetch(path, target):
                    problems.append(f"{path}: missing from the bundle (SHA256SUMS lists it with {expected})")
                    continue
                actual = sha256_of(target)
                if actual != expected:
                    problems.append(f"{path}: corrupt: SHA256SUMS says {expected}, the file has {actual}")
                os.chmod(target, 0o644)
            if problems:
                raise AnsibleActionFail(
                    f"the bundle {source.origin} (version {version}) failed verification, nothing was kept:\n  " + "\n  ".join(problems)
                )
            with open(os.path.join(staging, SUMS), "w", encoding="utf-8") as f:
                f.write(sums_text)
            with open(os.path.join(staging, VERSION), "w", encoding="utf-8") as f:
                f.write(version + "\n")
            shutil.rmtree(dest, ignore_errors=True)
            os.rename(staging, dest)
            with open(os.path.join(dest, VERIFIED), "w", encoding="utf-8") as f:
                f.write(sums_text)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._point_current(current, version)
        result.update(changed=True, msg=f"bundle {version}: {len(entries)} file(s) verified into {dest}")
        return result

    @staticmethod
    def _is_verified(dest: str, sums_text: str) -> bool:
        try:
            with open(os.path.join(dest, VERIFIED), encoding="utf-8") as f:
                return f.read() == sums_text
        except OSError:
            return False

    @staticmethod
    def _point_current(current: str, version: str) -> bool:
        """Points DEST/current at the version (atomically); True when it changed."""
        try:
            if os.readlink(current) == version:
                return False
        except OSError:
            pass
        tmp_link = f"{current}.{os.getpid()}.tmp"
        os.symlink(version, tmp_link)
        os.replace(tmp_link, current)
        return True

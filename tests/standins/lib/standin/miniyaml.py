"""metis-deploy STAND-IN support: a small YAML subset reader (stdlib only).

Block maps (`key: value`, nested by indentation), block lists (`- item`), flow lists
(`[a, 1]`), empty `{}`; scalars: double-quoted (JSON escapes), single-quoted, plain (int, float,
bool, null or string); `#` comments. Enough for the files metis-deploy renders; anything else is
an error with its line number.
"""

from __future__ import annotations

import json
import re

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


class YamlError(ValueError):
    pass


def _strip_comment(line: str) -> str:
    """Drops a `#` comment that is outside quotes."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = None
        elif quote == "'":
            if c == "'":
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
        i += 1
    return line.rstrip()


def scalar(text: str, lineno: int = 0):
    t = text.strip()
    if t.startswith('"'):
        try:
            value, end = json.JSONDecoder().raw_decode(t)
        except ValueError as e:
            raise YamlError(f"line {lineno}: bad double-quoted string {t!r}: {e}") from None
        if t[end:].strip():
            raise YamlError(f"line {lineno}: text after a quoted string: {t!r}")
        return value
    if t.startswith("'"):
        if len(t) < 2 or not t.endswith("'"):
            raise YamlError(f"line {lineno}: unterminated single-quoted string {t!r}")
        return t[1:-1].replace("''", "'")
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        return [scalar(p, lineno) for p in _split_flow(inner, lineno)] if inner else []
    if t == "{}":
        return {}
    if t.startswith(("{", "[", "&", "*", "!", "|", ">")):
        raise YamlError(f"line {lineno}: unsupported YAML syntax {t!r} (stand-in reader)")
    if t in ("", "~", "null", "Null", "NULL"):
        return None
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    return t


def _split_flow(inner: str, lineno: int) -> list[str]:
    parts, cur, quote = [], "", None
    for c in inner:
        if quote:
            cur += c
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur += c
        elif c == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += c
    if quote:
        raise YamlError(f"line {lineno}: unterminated string in a flow list")
    parts.append(cur)
    return [p for p in parts]


def _split_key(body: str, lineno: int) -> tuple[str, str]:
    if body.startswith('"'):
        key, end = json.JSONDecoder().raw_decode(body)
        rest = body[end:]
        if not rest.startswith(":"):
            raise YamlError(f"line {lineno}: expected ':' after the key {key!r}")
        return key, rest[1:]
    m = re.match(r"^([^:]+?):(\s|$)", body)
    if not m:
        raise YamlError(f"line {lineno}: expected 'key: value', got {body!r}")
    return m.group(1).strip(), body[m.end(1) + 1:]


def loads(text: str):
    lines = []
    for n, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlError(f"line {n}: tab in indentation")
        stripped = _strip_comment(raw)
        if not stripped.strip() or stripped.strip() in ("---", "..."):
            continue
        lines.append((n, len(stripped) - len(stripped.lstrip()), stripped.strip()))
    if not lines:
        return {}
    value, pos = _block(lines, 0, lines[0][1])
    if pos != len(lines):
        n = lines[pos][0]
        raise YamlError(f"line {n}: unexpected indentation")
    return value


def _block(lines, pos, indent):
    if lines[pos][2].startswith("- ") or lines[pos][2] == "-":
        return _list(lines, pos, indent)
    return _map(lines, pos, indent)


def _map(lines, pos, indent):
    out: dict = {}
    while pos < len(lines):
        n, ind, body = lines[pos]
        if ind < indent:
            break
        if ind > indent:
            raise YamlError(f"line {n}: unexpected indentation")
        if body.startswith("- "):
            raise YamlError(f"line {n}: a list item where a key was expected")
        key, rest = _split_key(body, n)
        if key in out:
            raise YamlError(f"line {n}: duplicate key {key!r}")
        pos += 1
        if rest.strip():
            out[key] = scalar(rest, n)
        elif pos < len(lines) and (
            lines[pos][1] > indent or (lines[pos][1] == indent and lines[pos][2].startswith("- "))
        ):
            out[key], pos = _block(lines, pos, lines[pos][1])
        else:
            out[key] = None
    return out, pos


def _list(lines, pos, indent):
    out: list = []
    while pos < len(lines):
        n, ind, body = lines[pos]
        if ind < indent or not (body.startswith("- ") or body == "-"):
            break
        if ind > indent:
            raise YamlError(f"line {n}: unexpected indentation")
        item = body[1:].strip()
        pos += 1
        if not item:
            if pos < len(lines) and lines[pos][1] > indent:
                value, pos = _block(lines, pos, lines[pos][1])
                out.append(value)
            else:
                out.append(None)
        elif re.match(r"^[^\"'\[{][^:]*:(\s|$)", item):
            raise YamlError(f"line {n}: maps inside lists are not supported by the stand-in reader")
        else:
            out.append(scalar(item, n))
    return out, pos


def flatten(doc, prefix: str = "") -> dict:
    """Nested maps as dotted keys (`a: {b: 1}` -> `a.b`); lists and scalars are leaves."""
    out = {}
    if not isinstance(doc, dict):
        raise YamlError("the document is not a map of keys")
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out

"""metis-deploy STAND-IN support: secp256k1 key pairs (pure Python, no secrecy guarantees:
the stand-in's keys are for tests and the lab only)."""

from __future__ import annotations

import secrets

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return x, (lam * (a[0] - x) - a[1]) % P


def public_key(private: int) -> bytes:
    """The 64-byte uncompressed public key (X || Y, without the 0x04 prefix)."""
    if not 1 <= private < N:
        raise ValueError("private key out of range")
    result, addend, k = None, G, private
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    return result[0].to_bytes(32, "big") + result[1].to_bytes(32, "big")


def generate() -> tuple[int, bytes]:
    while True:
        k = secrets.randbelow(N)
        if k:
            return k, public_key(k)

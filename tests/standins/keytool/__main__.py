# keytool: metis-deploy STAND-IN for the carrier's keytool (tests and lab only; not the real keytool).
"""`keytool genkeypair` prints a new secp256k1 key pair as the real keytool does:
`PrivateKey: <64 hex>` and `PublicKey: <128 hex>` (uncompressed point without its 04 prefix)."""

import sys

from standin import VERSION, secp256k1

HELP = f"""NAME:
   keytool - key tool of the Metis carrier: metis-deploy STAND-IN {VERSION} (not the real keytool)

USAGE:
   keytool command

COMMANDS:
   genkeypair  print a new p2p key pair (PrivateKey, PublicKey) as hex
   version     print the version
"""


def main(argv):
    if not argv or argv[0] in ("help", "-h", "--help"):
        print(HELP, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 1
    if argv[0] in ("version", "--version", "-v"):
        print(f"keytool version {VERSION} (metis-deploy stand-in, not the real keytool)")
        return 0
    if argv[0] == "genkeypair":
        if len(argv) > 1:
            print(f"keytool genkeypair: unexpected arguments {argv[1:]}", file=sys.stderr)
            return 1
        priv, pub = secp256k1.generate()
        print(f"PrivateKey: {priv:064x}")
        print(f"PublicKey: {pub.hex()}")
        return 0
    print(f"keytool: unknown command '{argv[0]}'\n\n{HELP}", file=sys.stderr)
    return 1


sys.exit(main(sys.argv[1:]))

# SPDX-License-Identifier: MIT
"""A throwaway certificate authority for wss:// tests and benchmarks, made
with the openssl command at run time (nothing committed): a CA, a server
certificate for localhost and 127.0.0.1 signed by it, and a key that is not
the certificate's (for mismatch checks). Keys are 0600, as the daemon wants."""

import os
import subprocess

CURVE = ("-pkeyopt", "ec_paramgen_curve:P-256")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """Writes ca.pem, server.pem, server.key and other.key into d and
    returns the paths of (ca.pem, server.pem, server.key)."""
    openssl("req", "-x509", "-newkey", "ec", *CURVE, "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "1", "-subj", "/CN=wsbench test CA", cwd=d)
    openssl("req", "-newkey", "ec", *CURVE, "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf", cwd=d)
    openssl("genpkey", "-algorithm", "EC", *CURVE, "-out", "other.key", cwd=d)
    for k in ("server.key", "other.key", "ca.key"):
        os.chmod(os.path.join(d, k), 0o600)
    return tuple(os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))

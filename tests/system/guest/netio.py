#!/usr/bin/python3
"""Tiny TCP upload helper of the system test (runs inside the guest).

  netio.py sink HOST PORT          accept connections forever; for each, read to EOF, answer "<bytes> <sha256>\n"
  netio.py send HOST PORT FILE [T] send FILE, half-close, read the answer; exit 0 only if size and sha256 match
"""
import hashlib
import socket
import sys


def sink(host, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        with conn:
            h, n = hashlib.sha256(), 0
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
            conn.sendall(("%d %s\n" % (n, h.hexdigest())).encode())


def send(host, port, path, timeout):
    data = open(path, "rb").read()
    want = "%d %s" % (len(data), hashlib.sha256(data).hexdigest())
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while not got.endswith(b"\n"):
            b = s.recv(256)
            if not b:
                break
            got += b
    got = got.decode().strip()
    if got != want:
        print("upload mismatch: sent %s, sink saw %s" % (want, got or "nothing"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sink":
        sink(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "send":
        sys.exit(send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else 120))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

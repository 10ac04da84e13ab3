#!/usr/bin/python3
"""Tiny TCP upload helper of the system test (runs inside the guest).

  netio.py sink HOST PORT          accept connections forever; for each, read to EOF, answer
                                   "<bytes> <sha256> <longest gap in seconds between received chunks>\n"
  netio.py send HOST PORT FILE [T [GAPFILE]]
                                   send FILE, half-close, read the answer; exit 0 only if size and sha256 match;
                                   the sink's longest gap (the stall of the transfer) goes to GAPFILE
"""
import hashlib
import socket
import sys
import time


def sink(host, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        with conn:
            h, n, gap, last = hashlib.sha256(), 0, 0.0, None
            while True:
                b = conn.recv(65536)
                t = time.monotonic()
                if not b:
                    break
                if last is not None:
                    gap = max(gap, t - last)
                last = t
                h.update(b)
                n += len(b)
            conn.sendall(("%d %s %.2f\n" % (n, h.hexdigest(), gap)).encode())


def send(host, port, path, timeout, gapfile=None):
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
    fields = got.decode().split()
    got = " ".join(fields[:2])
    if gapfile and len(fields) > 2:
        with open(gapfile, "w") as f:
            f.write(fields[2] + "\n")
    if got != want:
        print("upload mismatch: sent %s, sink saw %s" % (want, got or "nothing"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sink":
        sink(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "send":
        sys.exit(send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else 120,
                      sys.argv[6] if len(sys.argv) > 6 else None))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

#!/usr/bin/python3
"""Tiny TCP upload helper of the system test (runs inside the guest).

  netio.py sink HOST PORT          accept connections forever; for each, read to EOF, answer
                                   "<bytes> <sha256> <longest gap in seconds between received chunks>\n"
  netio.py send HOST PORT FILE [T [GAPFILE]]
                                   send FILE, half-close, read the answer; exit 0 only if size and sha256 match;
                                   the sink's longest gap (the stall of the transfer) goes to GAPFILE
  NETIO_STATS=PATH                 (send) also write the flow's own figures as JSON to PATH: its seconds from
                                   connect to the sink's answer (the interpreter's start and the file's hashing not
                                   counted) and the sender's TCP_INFO at the end (retransmits, reordering, time
                                   limited by the receiver's window or the send buffer, RTT, congestion window)
"""
import hashlib
import json
import os
import socket
import struct
import sys
import time

# struct tcp_info (linux/tcp.h, kernel 6.1): 8 bytes of u8 fields, then u32 rto .. total_retrans (24), then u64
# pacing_rate, max_pacing_rate, bytes_acked, bytes_received, u32 segs_out, segs_in, notsent_bytes, min_rtt,
# data_segs_in, data_segs_out, u64 delivery_rate, busy_time, rwnd_limited, sndbuf_limited, u32 delivered,
# delivered_ce, u64 bytes_sent, bytes_retrans, u32 dsack_dups, reord_seen, rcv_ooopack, snd_wnd
_TCP_INFO = struct.Struct("=8B24I4Q6I4Q2I2Q4I")
_TCP_INFO_NAMES = (["state", "ca_state", "retransmits", "probes", "backoff", "options", "wscale", "flags",
                    "rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost", "retrans", "fackets",
                    "last_data_sent", "last_ack_sent", "last_data_recv", "last_ack_recv", "pmtu", "rcv_ssthresh",
                    "rtt", "rttvar", "snd_ssthresh", "snd_cwnd", "advmss", "reordering", "rcv_rtt", "rcv_space",
                    "total_retrans", "pacing_rate", "max_pacing_rate", "bytes_acked", "bytes_received",
                    "segs_out", "segs_in", "notsent_bytes", "min_rtt", "data_segs_in", "data_segs_out",
                    "delivery_rate", "busy_time", "rwnd_limited", "sndbuf_limited", "delivered", "delivered_ce",
                    "bytes_sent", "bytes_retrans", "dsack_dups", "reord_seen", "rcv_ooopack", "snd_wnd"])


def tcp_stats(s, seconds):
    """The flow's figures for NETIO_STATS (times in ms; kBps and the sink's gapSeconds are added by send)."""
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size)
    i = dict(zip(_TCP_INFO_NAMES, _TCP_INFO.unpack(raw.ljust(_TCP_INFO.size, b"\0"))))
    return {"flowSeconds": round(seconds, 3), "totalRetrans": i["total_retrans"], "bytesRetrans": i["bytes_retrans"],
            "reordering": i["reordering"], "reordSeen": i["reord_seen"], "dsackDups": i["dsack_dups"],
            "busyMs": i["busy_time"] // 1000, "rwndLimitedMs": i["rwnd_limited"] // 1000,
            "sndbufLimitedMs": i["sndbuf_limited"] // 1000, "rttMs": i["rtt"] / 1000, "minRttMs": i["min_rtt"] / 1000,
            "rtoMs": i["rto"] // 1000, "cwnd": i["snd_cwnd"], "ssthresh": i["snd_ssthresh"], "sndWnd": i["snd_wnd"],
            "sacked": i["sacked"], "lost": i["lost"], "segsOut": i["data_segs_out"]}


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
    stats = os.environ.get("NETIO_STATS")
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while not got.endswith(b"\n"):
            b = s.recv(256)
            if not b:
                break
            got += b
        flow = tcp_stats(s, time.monotonic() - t0) if stats else None
    fields = got.decode().split()
    if flow is not None:
        flow = dict({"kBps": round(len(data) / flow["flowSeconds"] / 1000, 1) if flow["flowSeconds"] > 0 else None,
                     "gapSeconds": float(fields[2]) if len(fields) > 2 else None}, **flow)
        with open(stats, "w") as f:
            f.write(json.dumps(flow, separators=(",", ":")) + "\n")
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

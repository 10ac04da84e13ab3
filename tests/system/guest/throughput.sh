# shellcheck shell=bash
# Throughput of the bundle inside the system-test guest, as a library for scenario scripts (sourced after
# topology.sh). Test infrastructure, not the product.
#
# Shaping: every link is limited to TP_RATE (256 kbit/s) in each direction independently, on the link's own ssh
# connection to its first hop (the jump host, 127.0.0.1:2202), so LCP frames queue behind data as on a real slow
# line. htb on lo (no default class: unclassified traffic is not limited), per connection and direction one class
# `rate = ceil = TP_RATE` with a bfifo leaf, selected by u32 filters on the connection's local port P
# (`sport P dport 2202` up, `sport 2202 dport P` down). lo must carry MTU-sized packets for htb to pace them:
# tp_prepare_lo before any ssh starts (no GSO super-packets, MTU 1500).
#
# A transfer is one TCP flow of TP_KIB KiB: a download over HTTP from host_B (sha256 compared with the original),
# an upload to netio.py's sink (size + sha256 checked by the sink). Each records KB/s (1000 bytes per second, the
# HOWTO's unit) of the transfer itself: the download from wget's start to its end, the upload from netio's connect
# to the sink's answer (after the sink has every byte); neither counts the verification's hashing nor, for the
# upload, python's start (0.8-3.7 s of guest time depending on the host's load, which made the 3-link upload's
# ratio move with the load: docs/benchmarks.md). The whole command's wall time is kept as "command" KB/s. Also the
# per-slave shares from the ppp counters, and the guest's TCP counters (retransmitted segments, out-of-order
# queueing, reordering detected by SACK, loss probes, timeouts) from nstat: reordering across links is what
# net.ipv4.tcp_reordering=127 is set against. These count every connection of the guest (the shaped ssh
# connections on lo included); the upload flow's own TCP_INFO (netio.py, NETIO_STATS) isolates the flow.

TP_RATE=${TP_RATE:-256kbit}
TP_KIB=${TP_KIB:-512}
TP_FILE=/srv/www/tp
TP_SHAPED=" "                                     # local ports already shaped
TP_CLASS=1
TP_NSTAT="TcpRetransSegs TcpExtTCPOFOQueue TcpExtTCPSACKReorder TcpExtTCPTSReorder TcpExtTCPRenoReorder
  TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPSackRecovery TcpExtTCPLostRetransmit TcpExtTCPSpuriousRTOs
  TcpExtTCPFastRetrans TcpExtTCPSlowStartRetrans TcpExtTCPDSACKRecv TcpExtTCPLossProbeRecovery"
declare -A TP_UP=() TP_DOWN=() TP_UP_CMD=() TP_DOWN_CMD=() TP_UP_SHARES=() TP_DOWN_SHARES=() TP_UP_TCP=() TP_DOWN_TCP=()

# before any ssh connection exists: lo as a 1500-byte link (htb sees real packet sizes)
tp_prepare_lo() { ip link set lo mtu 1500 gso_max_segs 1 gso_max_size 1500; }

tp_files() { head -c $((TP_KIB * 1024)) /dev/urandom >"$TP_FILE"; chmod 644 "$TP_FILE"; }

# local ports of the established ssh connections to the first hop
tp_ssh_ports() { ss -Htn state established "( dport = :$TOPO_FIREMAN_PORT )" | awk '{ n = split($3, a, ":"); print a[n] }' | sort -n; }

# tp_shape: shape every established connection to the first hop not shaped yet; prints how many are shaped
tp_shape() { local p c
  if ! tc qdisc show dev lo | grep -q '^qdisc htb 1: root'; then
    modprobe sch_htb 2>/dev/null || true; modprobe cls_u32 2>/dev/null || true
    tc qdisc add dev lo root handle 1: htb
  fi
  for p in $(tp_ssh_ports); do
    [[ $TP_SHAPED == *" $p "* ]] && continue
    for dir in up down; do c=$((TP_CLASS++)); c=$((c + 1))
      tc class add dev lo parent 1: classid "1:$c" htb rate "$TP_RATE" ceil "$TP_RATE"
      tc qdisc add dev lo parent "1:$c" handle "$c:" bfifo limit 48000
      if [ "$dir" = up ]; then
        tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff \
          match ip sport "$p" 0xffff match ip dport "$TOPO_FIREMAN_PORT" 0xffff flowid "1:$c"
      else
        tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff \
          match ip sport "$TOPO_FIREMAN_PORT" 0xffff match ip dport "$p" 0xffff flowid "1:$c"
      fi
    done
    TP_SHAPED+="$p "
  done
  log "shaped ($TP_RATE each way) the ssh connections from local ports:$TP_SHAPED"
}
tp_unshape() { tc qdisc del dev lo root 2>/dev/null || true; TP_SHAPED=" "; log "shaping removed"; }

# shellcheck disable=SC2086  # (the list splits into names on purpose)
tp_nstat() { nstat -az $TP_NSTAT 2>/dev/null | awk 'NR > 1 { print $1, $2 }'; }
# tp_nstat_delta BEFORE AFTER: {"TcpRetransSegs":N,...}
tp_nstat_delta() { awk 'NR == FNR { b[$1] = $2; next } { d[$1] = $2 - b[$1]; k[++n] = $1 }
  END { printf "{"; for (i = 1; i <= n; i++) printf "%s\"%s\":%d", (i > 1 ? "," : ""), k[i], d[k[i]]; print "}" }' \
  <(printf '%s\n' "$1") <(printf '%s\n' "$2"); }
# guest CPU: "busy total" jiffies; tp_busy BEFORE AFTER: percent busy in between (a CPU-bound guest caps throughput)
tp_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit }' /proc/stat; }
tp_busy() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'; }
declare -A TP_UP_CPU=() TP_DOWN_CPU=()
# qdisc drops (packets) of eql, every pppN and the shaping on lo, as "dev n" lines; tp_drops_delta BEFORE AFTER: JSON
tp_drops() { local d; for d in eql $(ppp_links) lo; do
    echo "$d $(tc -s qdisc show dev "$d" 2>/dev/null | awk '/dropped/ { for (i = 1; i < NF; i++) if ($i == "dropped") { v = $(i + 1); sub(",", "", v); n += v } } END { print n + 0 }')"
  done; }
tp_drops_delta() { awk 'NR == FNR { b[$1] = $2; next } { k[++n] = $1; d[$1] = $2 - b[$1] }
  END { printf "{"; for (i = 1; i <= n; i++) printf "%s\"%s\":%d", (i > 1 ? "," : ""), k[i], d[k[i]]; print "}" }' \
  <(printf '%s\n' "$1") <(printf '%s\n' "$2"); }
# per-link tx bytes every 0.5 s (guest time) into tp-upload-N.log while an upload runs: a link that stalls shows
# as a flat column. Bash builtins only (the pause is a read timeout on a pipe nobody writes), so that the sampler
# takes next to nothing of the guest CPU the transfer needs.
tp_link_sampler() { local t c l b fd; exec {fd}<> <(:)
  while :; do read -r t _ </proc/uptime; c=""; for l in $(ppp_links); do read -r b <"/sys/class/net/$l/statistics/tx_bytes" && c+=" $l=$b"; done
    echo "$t$c"; read -r -t 0.5 -u "$fd" _ || true; done; }
declare -A TP_UP_DROPS=() TP_DOWN_DROPS=() TP_UP_FLOW=()
tp_kbps() { awk -v b=$((TP_KIB * 1024)) -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1000 : 0) }'; }

# tp_download N: one verified download with N links; fills TP_DOWN[N], TP_DOWN_SHARES[N], TP_DOWN_TCP[N]
tp_download() { local n=$1 b n0 c0 t0 s st d0 out=/tmp/tp-fetched
  rm -f "$out"; b=$(counters); n0=$(tp_nstat); d0=$(tp_drops); c0=$(tp_cpu); t0=$(now)
  if ! timeout 300 busybox wget -q -O "$out" "http://$TOPO_PEER:$TOPO_HTTP_PORT/$(basename "$TP_FILE")" \
     || ! st=$(since "$t0") || [ "$(sha256sum <"$out")" != "$(sha256sum <"$TP_FILE")" ]; then
    rm -f "$out"; fail "download of $TP_KIB KiB with $n links failed or differs"; return 1; fi
  s=$(since "$t0"); rm -f "$out"; TP_DOWN_CPU[$n]=$(tp_busy "$c0" "$(tp_cpu)")
  TP_DOWN[$n]=$(tp_kbps "$st"); TP_DOWN_CMD[$n]=$(tp_kbps "$s"); TP_DOWN_SHARES[$n]=$(shares "$b" "$(counters)" rx); TP_DOWN_TCP[$n]=$(tp_nstat_delta "$n0" "$(tp_nstat)")
  TP_DOWN_DROPS[$n]=$(tp_drops_delta "$d0" "$(tp_drops)")
  log "download $TP_KIB KiB, $n links: ${st}s = ${TP_DOWN[$n]} KB/s (with the verification ${s}s = ${TP_DOWN_CMD[$n]} KB/s), guest CPU ${TP_DOWN_CPU[$n]}% busy, rx shares ${TP_DOWN_SHARES[$n]}, tcp ${TP_DOWN_TCP[$n]}, qdisc drops ${TP_DOWN_DROPS[$n]}"
}
# tp_upload N: one verified upload with N links; fills TP_UP[N], TP_UP_SHARES[N], TP_UP_TCP[N]
tp_upload() { local n=$1 b n0 c0 t0 s d0 sp stats
  stats=$SYSTEST_OUT/tp-upload-$n.json; b=$(counters); n0=$(tp_nstat); d0=$(tp_drops); rm -f "$stats"
  tp_link_sampler >"$SYSTEST_OUT/tp-upload-$n.log" 2>&1 & sp=$!
  c0=$(tp_cpu); t0=$(now)
  NETIO_STATS=$stats timeout 300 python3 "$TOPO_GUEST_DIR/netio.py" send "$TOPO_PEER" "$TOPO_UPLOAD_PORT" "$TP_FILE" 240 \
    || { kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true; fail "upload of $TP_KIB KiB with $n links failed"; return 1; }
  kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
  s=$(since "$t0"); TP_UP_CPU[$n]=$(tp_busy "$c0" "$(tp_cpu)")
  TP_UP_CMD[$n]=$(tp_kbps "$s"); TP_UP_SHARES[$n]=$(shares "$b" "$(counters)" tx); TP_UP_TCP[$n]=$(tp_nstat_delta "$n0" "$(tp_nstat)")
  TP_UP_DROPS[$n]=$(tp_drops_delta "$d0" "$(tp_drops)")
  log "upload $TP_KIB KiB, $n links: the command ${s}s = ${TP_UP_CMD[$n]} KB/s, guest CPU ${TP_UP_CPU[$n]}% busy, tx shares ${TP_UP_SHARES[$n]}, tcp ${TP_UP_TCP[$n]}, qdisc drops ${TP_UP_DROPS[$n]}"
  # the flow itself (connect -> the sink's answer, without python's start and hashing), the sink's longest gap and
  # the sender's TCP_INFO: {"kBps":..,"gapSeconds":..,"flowSeconds":..,"totalRetrans":..,...}
  TP_UP_FLOW[$n]=$(cat "$stats" 2>/dev/null || echo null)
  TP_UP[$n]=$(awk -v b=$((TP_KIB * 1024)) 'match($0, /"flowSeconds":[0-9.]+/) { t = substr($0, RSTART + 14, RLENGTH - 14); if (t > 0) printf "%.1f", b / t / 1000 }' "$stats" 2>/dev/null)
  [ -n "${TP_UP[$n]}" ] || { fail "upload of $TP_KIB KiB with $n links: netio wrote no flow figures"; return 1; }
  log "upload flow, $n links: ${TP_UP[$n]} KB/s from connect to the sink's answer; ${TP_UP_FLOW[$n]}"
}
tp_both() { tp_download "$1" && tp_upload "$1"; }

# JSON: {"upload":{"1":..,"2":..,"3":..},"download":{...}} from what was measured
tp_json_map() { local -n m=$1; local k out=""; for k in 1 2 3; do [ -n "${m[$k]:-}" ] && out+="${out:+,}\"$k\":${m[$k]}"; done; printf '{%s}' "$out"; }
tp_throughput_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP)" "$(tp_json_map TP_DOWN)"; }
tp_tcp_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP_TCP)" "$(tp_json_map TP_DOWN_TCP)"; }
tp_command_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP_CMD)" "$(tp_json_map TP_DOWN_CMD)"; }
tp_flow_json() { tp_json_map TP_UP_FLOW; }
tp_drops_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP_DROPS)" "$(tp_json_map TP_DOWN_DROPS)"; }
tp_cpu_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP_CPU)" "$(tp_json_map TP_DOWN_CPU)"; }
tp_shares_json() { printf '{"upload":%s,"download":%s}' "$(tp_json_map TP_UP_SHARES)" "$(tp_json_map TP_DOWN_SHARES)"; }

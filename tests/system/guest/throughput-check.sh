#!/bin/bash
# THROUGHPUT CHECK (test infrastructure, no product): the bundle's throughput with 1, 2 and 3 links, plain pppd +
# eql_enslave as in fixture-check.sh, each link shaped to 256 kbit/s each way (guest/throughput.sh), one verified
# TCP flow per direction and link count. SYSTEST_SLIRP=stock|fixed (default fixed) picks the slirp build, so the
# stock build's figures come from the same script. Last line: one JSON object. `tests/system/run --throughput`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/topology.sh
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"
# shellcheck source=SCRIPTDIR/throughput.sh
. "$(dirname "${BASH_SOURCE[0]}")/throughput.sh"

VARIANT=${SYSTEST_SLIRP:-fixed}
PRIORITY=10000000
T0=$(now)
tp_prepare_lo
topo_setup "$VARIANT"
tp_files
ip addr add "$TOPO_EQL_ADDR/24" dev eql
ip link set eql up mtu 1500
sysctl -qw net.ipv4.tcp_reordering=127
ok=true
for n in 0 1 2; do
  fixture_link_up "$n" || { ok=false; break; }
  ip route del "$TOPO_PEER" dev "ppp$n" 2>/dev/null || true
  eql_enslave eql "ppp$n" "$PRIORITY"
  ip route replace "$TOPO_PEER/32" dev eql
  wait_for 30 "$((n + 1)) links enslaved" all_enslaved "$((n + 1))" || { ok=false; break; }
  tp_shape
  tp_both "$((n + 1))" || { ok=false; break; }
done
tp_unshape
log "teardown"
ip link set eql down
for n in 0 1 2; do [ -f "/run/ppp-fixture$n.pid" ] && kill "$(head -n 1 "/run/ppp-fixture$n.pid")" 2>/dev/null || true; done
wait_for 60 "no pppd left" not pgrep -x pppd || true
kill_remote_slirps || true
ip route del "$TOPO_PEER/32" dev eql 2>/dev/null || true
log "throughput check ($VARIANT) done in $(since "$T0")s"
printf '{"slirp":"%s","flowKiB":%d,"throughput":%s,"command":%s,"shares":%s,"tcp":%s,"cpuBusy":%s,"passed":%s}\n' "$VARIANT" "$TP_KIB" \
  "$(tp_throughput_json)" "$(tp_command_json)" "$(tp_shares_json)" "$(tp_tcp_json)" "$(tp_cpu_json)" "$ok" | tee "$SYSTEST_OUT/summary.json"
$ok

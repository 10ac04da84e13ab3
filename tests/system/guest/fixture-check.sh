#!/bin/bash
# FIXTURE SELF-CHECK (test infrastructure only, not the product): proves that the guest and the HOWTO topology work
# by doing by hand what the product will do: 3 links `pppd pty "exec ssh -q -t -J fireman@... hostb@... bin/slirp -l N"`,
# enslaved to eql with the Debian `eql_enslave`, routes via eql, a verified download from host_B, a verified
# download from the remote LAN, a verified upload, then a teardown that leaves nothing behind.
# Last line: one JSON object. Run it with `tests/system/run --fixture-check`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/topology.sh
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"

LINKS=(0 1 2)
PRIORITY=10000000          # decays faster than a link's rate (docs/facts.md, "EQL priority and balance"), so upload balances
T0=$(now)
topo_setup fixed

log "bringing up ${#LINKS[@]} links with plain pppd (link 0 first: it starts the main slirp with the socket)"
tb=$(now)
fixture_link_up 0
for n in "${LINKS[@]:1}"; do fixture_link_up "$n" & done
wait_ok=1; for job in $(jobs -p); do [ "$job" = "${TOPO_SINK_PID:-}" ] && continue; wait "$job" || wait_ok=0; done
[ "$wait_ok" = 1 ] || fail "a link did not come up"

ip addr add "$TOPO_EQL_ADDR/24" dev eql
ip link set eql up mtu 1500
for n in "${LINKS[@]}"; do
  ip route del "$TOPO_PEER" dev "ppp$n" 2>/dev/null || true      # pppd's peer route would bypass eql
  eql_enslave eql "ppp$n" "$PRIORITY"
done
ip route replace "$TOPO_PEER/32" dev eql
ip route replace "$TOPO_LAN_NET" dev eql
sysctl -qw net.ipv4.tcp_reordering=127
wait_for 30 "${#LINKS[@]} links enslaved" all_enslaved "${#LINKS[@]}"
bring_up=$(since "$tb")
log "bundle up in ${bring_up}s: $(enslaved_count) slaves; routes:"; routes | sed 's/^/     /'
routed_via_eql "$TOPO_PEER" || fail "$TOPO_PEER is not routed via eql"
routed_via_eql "$TOPO_LAN_HOST" || fail "$TOPO_LAN_HOST is not routed via eql"

b=$(counters); dl=$(fetch_check); rx=$(shares "$b" "$(counters)" rx)
log "download ${TOPO_BLOB_MB} MiB from host_B verified in ${dl}s; rx shares $rx"
lan=$(fetch_check "$TOPO_LAN_HOST" /srv/lan/blob)
log "download 1 MiB from the remote LAN host $TOPO_LAN_HOST verified in ${lan}s"
b=$(counters); ul=$(upload_check); tx=$(shares "$b" "$(counters)" tx)
log "upload ${TOPO_BLOB_MB} MiB verified in ${ul}s; tx shares $tx"

log "teardown"
td=$(now)
ip link set eql down
for n in "${LINKS[@]}"; do kill "$(head -n 1 "/run/ppp-fixture$n.pid")" 2>/dev/null || true; done
wait_for 60 "no pppd left" not pgrep -x pppd
wait_for 30 "no ppp links left" not ls -d /sys/class/net/ppp0 /sys/class/net/ppp1 /sys/class/net/ppp2
kill_remote_slirps
ip route del "$TOPO_LAN_NET" dev eql 2>/dev/null || true
ip route del "$TOPO_PEER/32" dev eql 2>/dev/null || true
left="pppd=[$(pids_of -x pppd)] slirp=[$(pids_of -u hostb -x slirp)] ssh=[$(pids_of -x ssh)] slaves=$(enslaved_count)"
log "teardown took $(since "$td")s; left: $left"
clean=false
[ -z "$(pgrep -x pppd || true)$(pgrep -u hostb -x slirp || true)$(pgrep -x ssh || true)" ] && [ "$(enslaved_count)" = 0 ] \
  && ! ip route show | grep -q 'dev eql' && clean=true
log "fixture check done in $(since "$T0")s"
printf '{"fixture":true,"linksEnslaved":%d,"transferVerified":true,"bringUpSeconds":%s,"downloadSeconds":%s,"lanDownloadSeconds":%s,"uploadSeconds":%s,"uploadShares":%s,"downloadShares":%s,"teardownClean":%s}\n' \
  "${#LINKS[@]}" "$bring_up" "$dl" "$lan" "$ul" "$tx" "$rx" "$clean" | tee "$SYSTEST_OUT/summary.json"
[ "$clean" = true ]

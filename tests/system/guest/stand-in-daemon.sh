#!/bin/bash
# STAND-IN DAEMON (test infrastructure only, NOT the product): a crude shell reconciler with the product's CLI,
# `stand-in-daemon.sh run --config FILE`, used to check guest/product.sh itself before the product exists:
#   SYSTEST_PRODUCT=/systest/src/guest/stand-in-daemon.sh  tests/system/run --product
# Every second it compares the kernel with the config and repairs: (re)starts missing links (after killing the
# old ssh chain), brings downed links up, enslaves, sets eql up, routes, tcp_reordering. It adopts running pppd's
# through their pid files (/run/ppp-eqlactors-N.pid) and on SIGTERM stops everything, remote slirp included.
set -euo pipefail
# shellcheck source=SCRIPTDIR/topology.sh
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"
if [ "${1:-}" != run ] || [ "${2:-}" != --config ] || [ ! -f "${3:-}" ]; then echo "usage: $0 run --config FILE" >&2; exit 2; fi
mapfile -t LINKS < <(python3 -c 'import json,sys; print("\n".join(str(n) for n in json.load(open(sys.argv[1]))["links"]))' "$3")
PRIORITY=10000000
say() { echo "stand-in $(now): $*"; }

pidfile() { echo "/run/ppp-eqlactors-$1.pid"; }
alive_pppd() { local p; p=$(head -n 1 "$(pidfile "$1")" 2>/dev/null) && [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = pppd ]; }
ifname_of() { sed -n 2p "$(pidfile "$1")" 2>/dev/null; }
declare -A STARTER=() STARTED_AT=()
# the old chain of link N: its pppd (if any) and any ssh still running `bin/slirp -l N`
kill_chain() { local n=$1 p
  for p in $(pgrep -f "bin/slirp -l $n\$" || true); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = ssh ] && kill "$p" 2>/dev/null; done
  return 0; }
start_link() { local n=$1
  kill_chain "$n"
  say "starting link $n"
  topo_pty_command "$n" >/dev/null
  pppd unit "$n" linkname "eqlactors-$n" local "$TOPO_LOCAL:$TOPO_PEER" mtu 1500 mru 1500 passive noauth nodeflate \
    nobsdcomp novj novjccomp nodefaultroute idle 0 lcp-echo-interval 5 lcp-echo-failure 3 nodetach \
    logfile "$SYSTEST_OUT/stand-in-pppd$n.log" pty "$(topo_pty_command "$n")" </dev/null >/dev/null 2>&1 &
  STARTER[$n]=$!; STARTED_AT[$n]=$(now)
}
reconcile() { local n i
  is_up eql || { ip link set eql up mtu 1500 && say "eql up"; }
  ip -4 -o addr show dev eql | grep -q " $TOPO_EQL_ADDR/24 " || ip addr replace "$TOPO_EQL_ADDR/24" dev eql
  for n in "${LINKS[@]}"; do
    if ! alive_pppd "$n"; then
      # a starting pppd writes its pid file only once the link is up: give it 60 s
      if [ -n "${STARTER[$n]:-}" ] && kill -0 "${STARTER[$n]}" 2>/dev/null && ! older_than "${STARTED_AT[$n]}" 60; then continue; fi
      [ -n "${STARTER[$n]:-}" ] && kill "${STARTER[$n]}" 2>/dev/null
      start_link "$n"; continue
    fi
    # ready = IPCP done (pppd has set the address and its peer route; up to then leave the interface to pppd)
    i=$(ifname_of "$n")
    if [ -z "$i" ] || ! ip -4 -o addr show dev "$i" 2>/dev/null | grep -q " $TOPO_LOCAL "; then continue; fi
    is_up "$i" || { ip link set "$i" up && say "$i up again"; }
    ip route del "$TOPO_PEER" dev "$i" 2>/dev/null || true
    is_slave "$i" || { eql_enslave eql "$i" "$PRIORITY" >/dev/null && say "enslaved $i"; }
  done
  [ "$(route_dev "$TOPO_PEER")" = eql ] || ip route replace "$TOPO_PEER/32" dev eql
  ip -4 route show "$TOPO_LAN_NET" | grep -q 'dev eql' || ip route replace "$TOPO_LAN_NET" dev eql
  [ "$(cat /proc/sys/net/ipv4/tcp_reordering)" = 127 ] || sysctl -qw net.ipv4.tcp_reordering=127
}
stop() { local n p
  say "SIGTERM: stopping"
  for n in "${LINKS[@]}"; do p=$(head -n 1 "$(pidfile "$n")" 2>/dev/null || true); [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${STARTER[@]}"; do kill "$p" 2>/dev/null || true; done
  wait_for 30 "pppd gone" not pgrep -x pppd || true
  topo_ssh_argv 0
  "${TOPO_SSH_ARGV[@]:0:${#TOPO_SSH_ARGV[@]}-3}" 'pkill -u hostb -x slirp; rm -f .slirp_socket' </dev/null || true
  ip route del "$TOPO_LAN_NET" dev eql 2>/dev/null || true
  ip route del "$TOPO_PEER/32" dev eql 2>/dev/null || true
  ip link set eql down
  say "stopped"; exit 0
}
trap stop TERM INT
for n in "${LINKS[@]}"; do alive_pppd "$n" && say "adopting link $n (pppd $(head -n 1 "$(pidfile "$n")"))"; done
while :; do reconcile || say "reconcile failed"; sleep 1 & wait $! || true; done

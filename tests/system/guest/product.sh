#!/bin/bash
# PRODUCT SCENARIO of issue 5: the real daemon in the guest, checked against the kernel (never against what the
# product says about itself). Start `eqlactors run --config CONFIG`, wait until the kernel shows every link
# enslaved to eql, the routes via eql and tcp_reordering=127, transfer + cmp, per-slave upload shares; then inject
# each fault, wait for the full state back, transfer again and record guest-time detect/recover; then the pppd kill
# once more with the stock slirp; SIGKILL + restart (same pppd pids: adoption); final SIGTERM (nothing left).
# Last line on stdout (and $SYSTEST_OUT/summary.json): one JSON object.
#
# Environment: SYSTEST_PRODUCT  the daemon executable (default $SYSTEST_CACHE/publish/eqlactors/eqlactors)
#              SYSTEST_RECOVER_LIMIT  seconds allowed per recovery (default 240; the guest is ~25x slower)
#              SYSTEST_CONNECT_TIMEOUT  remote.connectTimeoutSeconds of the config (default 60: the product's 15 s
#                                     is for real hosts; three ssh handshakes through the jump host in a TCG guest
#                                     on a loaded host took longer, and every link failed before it reached slirp);
#                                     supervision.linkUpTimeoutSeconds is twice it (default 120 s, the product's 60 s)
#              SYSTEST_FAULTS  run only these parts, space-separated (default: every part): `throughput`, `stall`
#                              and fault kinds (pppd-kill ... failing-slirp, jump-sshd-down, key-revoked, ssh-frozen,
#                              link-down ... lcp-only, daemon-restart, slirp-kill-to-stock); for a short run
#                              while working on one of them. The summary lists only what ran.
set -euo pipefail
# shellcheck source=SCRIPTDIR/topology.sh
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"
# shellcheck source=SCRIPTDIR/throughput.sh
. "$(dirname "${BASH_SOURCE[0]}")/throughput.sh"
# shellcheck source=SCRIPTDIR/howto-baseline.sh
. "$(dirname "${BASH_SOURCE[0]}")/howto-baseline.sh"

PRODUCT=${SYSTEST_PRODUCT:-$SYSTEST_CACHE/publish/eqlactors/eqlactors}
LIMIT=${SYSTEST_RECOVER_LIMIT:-240}
LINKS=(0 1 2)
NLINKS=${#LINKS[@]}
RUNDIR=/run/eqlactors                  # a small folder of its own: the generic host watches its content root
CONFIG=$RUNDIR/config.json
DAEMON_PID=""
RESTART_SHARES=[]
declare -A FAULT_STATUS=() FAULT_DETECT=() FAULT_RECOVER=() FAULT_REASON=() FAULT_EXPECT=()
# per fault kind, optional: FAULT_QUIET = seconds of unbroken full state after which the fault counts as recovered
# without degradation (default 30); FAULT_DETECT_ON=degraded: detect is when the full state first broke (for a fault
# the product itself must notice and act on by removing something, e.g. restarting a link that still looks up)
declare -A FAULT_QUIET=() FAULT_DETECT_ON=()
FAULT_ORDER=()
TRANSFERS_OK=true
want() { [ -z "${SYSTEST_FAULTS:-}" ] || [[ " $SYSTEST_FAULTS " == *" $1 "* ]]; }

[ -x "$PRODUCT" ] || { log "no product at $PRODUCT (publish it first, see tests/system/README.md)"; exit 3; }

# write_config [EXTRA]: EXTRA, if given, is more top-level JSON members (`"health": {...}`)
write_config() { local extra=""
  # SYSTEST_PPP_EXTRA: JSON words for ppp.extraOptions, for a diagnostic run (e.g. '"debug"': LCP/IPCP timing in product.log)
  [ -z "${SYSTEST_PPP_EXTRA:-}" ] || extra=", \"extraOptions\": [$SYSTEST_PPP_EXTRA]"
  mkdir -p "$RUNDIR"
  cat >"$CONFIG" <<EOF
{
  "links": [$(IFS=,; echo "${LINKS[*]}")],
  "remote": {
    "account": "$TOPO_ACCOUNT:$TOPO_HOSTB_PORT",
    "jumpHosts": ["$TOPO_JUMP"],
    "slirpCommand": "bin/slirp",
    "attach": "unix",
    "identityFile": "$TOPO_SSH_DIR/id_ed25519",
    "knownHostsFile": "$TOPO_SSH_DIR/known_hosts",
    "connectTimeoutSeconds": ${SYSTEST_CONNECT_TIMEOUT:-60}
  },
  "ppp": { "pppdPath": "/usr/sbin/pppd", "mtu": 1500$extra },
  "eql": { "address": "$TOPO_EQL_ADDR", "netmask": "255.255.255.0", "mtu": 1500 },
  "routes": { "remoteLans": ["$TOPO_LAN_NET"] },
  "supervision": { "linkUpTimeoutSeconds": $((2 * ${SYSTEST_CONNECT_TIMEOUT:-60})) }${1:+,
  $1}
}
EOF
}

# start_daemon [LOG]: the daemon's output goes to LOG (default product.log)
start_daemon() {
  # timestamped log lines (the daemon's style for a log file): product.log lines up with the guest's events
  DAEMON_EPOCH=$(date +%s.%N)
  # with the systemd unit's runtime settings (Host/Hosting/DaemonRuntime.cs): the JIT compiles once, never recompiles
  # SYSTEST_DAEMON_ENV: more NAME=VALUE words for a diagnostic run (e.g. an EventPipe trace of the JIT: tests/system/README.md)
  local extra_env=(); read -r -a extra_env <<<"${SYSTEST_DAEMON_ENV:-}"
  (cd "$RUNDIR" && { [ "${#extra_env[@]}" -eq 0 ] || export "${extra_env[@]}"; } \
     && EQLACTORS_LOG_STYLE=file DOTNET_TieredCompilation=1 DOTNET_TC_CallCounting=0 exec "$PRODUCT" run --config "$CONFIG" {NAP_FD}<&-) >>"${1:-$SYSTEST_OUT/product.log}" 2>&1 &
  DAEMON_PID=$!
  log "daemon started: pid $DAEMON_PID ($PRODUCT run --config $CONFIG)"
}

# ---------------------------------------------------------------- the kernel's view
pppd_pids() { procs_named pppd | sort -n | tr '\n' ' '; }
pppd_of() { head -n 1 "/run/$1.pid" 2>/dev/null; }    # pppd writes /run/IFNAME.pid whatever its linkname
# full state: NLINKS ppp links enslaved, eql up with its address, exactly NLINKS pppd, host_B and the LAN routed via
# eql, tcp_reordering 127
# (no fork: every check is bash reading /proc and /sys, so that it stamps the state when it was reached and not a
# few `ip` processes later)
full_state() {
  all_enslaved "$NLINKS" || return 1
  local n=0 f c v; for f in /proc/[0-9]*/comm; do read -r c 2>/dev/null <"$f" && [ "$c" = pppd ] && n=$((n + 1)); done
  [ "$n" -eq "$NLINKS" ] || return 1
  read -r v </proc/sys/net/ipv4/tcp_reordering; [ "$v" = 127 ] || return 1
  has_addr eql "$TOPO_EQL_ADDR" 24 || return 1
  routed_via_eql "$TOPO_PEER" && routed_via_eql "$TOPO_LAN_HOST"
}
# the full state, holding for SETTLE guest seconds (pppd re-adds its peer route after IPCP, a product may race
# with that): STABLE_SINCE = when it started to hold
STABLE_SINCE=""
stable_full_state() { local t _; full_state || return 1; read -r t _ </proc/uptime
  while ! older_than "$t" "${SYSTEST_SETTLE:-2}"; do full_state || return 1; nap 0.2; done; STABLE_SINCE=$t; }
state_line() { echo "slaves=$(enslaved_count) links=[$(ppp_links | tr '\n' ' ')] pppd=[$(pppd_pids)] eql=$(is_up eql && echo up || echo down) peer-via=$(route_dev "$TOPO_PEER") lan-via=$(route_dev "$TOPO_LAN_HOST") reordering=$(sysctl_value net.ipv4.tcp_reordering)"; }
# what the product makes: pppd processes, up and enslaved links, eql up, routes via eql. Faults only remove such
# elements, so an element that was not there at the previous poll is the product acting.
signature() { local p l
  for p in $(procs_named pppd); do echo "pppd:$p"; done
  for l in $(ppp_links); do is_slave "$l" && echo "slave:$l"; is_up "$l" && echo "up:$l"; done
  is_up eql && echo eql-up; ip -4 route show dev eql 2>/dev/null | sed 's/^/route:/'; return 0; }
added_since() { [ -n "$(comm -13 <(printf '%s\n' "$1" | sort) <(printf '%s\n' "$2" | sort))" ]; }

# ---------------------------------------------------------------- traffic
# traffic WHAT [KIND]: 1 MiB from host_B, verified; also 1 MiB from the remote LAN initially and after the faults
# that hit routes (the LAN route is the one a fault deletes)
traffic() { local what=$1 kind=${2:-initial} dl lan="-"
  if dl=$(fetch_check "$TOPO_PEER" /srv/www/small); then
    case ${kind%%#*} in initial|route-delete|eql-down|daemon-restart) lan=$(fetch_check "$TOPO_LAN_HOST" /srv/lan/blob) || lan="" ;; esac
    if [ "$lan" = - ]; then log "$what: 1 MiB from host_B verified in ${dl}s"; return 0; fi
    if [ -n "$lan" ]; then log "$what: 1 MiB from host_B verified in ${dl}s, 1 MiB from the LAN in ${lan}s"; return 0; fi
  fi
  TRANSFERS_OK=false; return 1
}

# ---------------------------------------------------------------- faults
# fault KIND DESCRIPTION CMD...: inject; detect = first poll at which the product added something (a pppd, a
# slave, eql up, a route); recover = the full state holds again (stable for SETTLE s); then a verified transfer.
# A product faster than the 0.2 s polling shows no degradation at all: after 30 s of unbroken full state the fault
# counts as recovered with detect = recover = 0.
fault() { local kind=$1 what=$2 t0 e0 prev cur td="" tg="" tr degraded=false; shift 2
  FAULT_ORDER+=("$kind")
  log "=== fault $kind: $what"
  prev=$(signature); t0=$(now); e0=$(date +%s.%N)
  if ! "$@"; then FAULT_STATUS[$kind]=inject-failed; log "could not inject $kind: $(state_line)"; return 1; fi
  while :; do
    cur=$(signature)
    if [ -z "$td" ] && added_since "$prev" "$cur"; then td=$(since "$t0"); log "product acted after ${td}s"; fi
    prev=$cur
    if ! full_state; then
      if ! $degraded; then degraded=true; tg=$(since "$t0"); log "degraded after ${tg}s: $(state_line)"; fi
    elif $degraded || [ -n "$td" ]; then
      stable_full_state && break
    elif older_than "$t0" "${FAULT_QUIET[$kind]:-30}"; then
      log "no degradation seen in 30 s (faster than the polling?)"; td=0; STABLE_SINCE=$t0; break
    fi
    if older_than "$t0" "$LIMIT"; then
      FAULT_STATUS[$kind]=not-recovered; log "NOT RECOVERED after ${LIMIT}s: $(state_line)"; return 1; fi
    nap 0.2
  done
  tr=$(awk -v a="$t0" -v b="$STABLE_SINCE" 'BEGIN { printf "%.2f", b - a }'); [ -n "$td" ] || td=$tr
  if [ "${FAULT_DETECT_ON[$kind]:-}" = degraded ] && [ -n "$tg" ]; then td=$tg; fi
  FAULT_DETECT[$kind]=$td; FAULT_RECOVER[$kind]=$tr
  # (not in the soak, which sources this file: a CLI start per fault would cost it minutes)
  [ "${PRODUCT_SH_LIBRARY:-}" = 1 ] || FAULT_REASON[$kind]=$(fault_reason "$e0")
  [ "${PRODUCT_SH_LIBRARY:-}" = 1 ] || proc_timeline "after $kind"
  log "recovered after ${tr}s (product acted after ${td}s): $(state_line); reason shown: ${FAULT_REASON[$kind]:-not read in the soak}"
  if [ -n "${FAULT_EXPECT[$kind]:-}" ] && [[ ${FAULT_REASON[$kind]} != *"\"class\": \"${FAULT_EXPECT[$kind]}\""* ]]; then
    FAULT_STATUS[$kind]=wrong-reason; log "the reason shown is not of class ${FAULT_EXPECT[$kind]}"; return 1; fi
  if traffic "after $kind" "$kind"; then FAULT_STATUS[$kind]=recovered; else FAULT_STATUS[$kind]=transfer-failed; return 1; fi
}

# proc_timeline LABEL: appends to procs.log when each process of the link path that is alive now was forked (guest
# wall clock, product.log's), with its pid, parent and command line: pppd, ssh, both sshd's per-connection
# children and host_B's wrapper/slirp. Read beside product.log and the sshd logs, it splits a link's bring-up into
# its hops. One pass over /proc with bash builtins (no fork per process).
proc_timeline() { local btime f st rest comm ppid start a line t hz=100 TZ=UTC
  read -r _ btime < <(grep '^btime' /proc/stat)
  { echo "== $1 ($(date -u +%T.%N))"
    for f in /proc/[0-9]*/stat; do read -r st <"$f" 2>/dev/null || continue
      comm=${st#*(}; comm=${comm%)*}; case $comm in pppd|ssh|sshd|slirp|sh) ;; *) continue ;; esac
      rest=${st##*) }; read -r -a a <<<"$rest"; ppid=${a[1]}; start=${a[19]}
      mapfile -d '' -t line <"${f%/stat}/cmdline" 2>/dev/null || line=()
      printf -v t '%(%H:%M:%S)T' $((btime + start / hz))
      printf '%s.%02d %s %s %s %s\n' "$t" $((start % hz)) \
        "${f//[^0-9]/}" "$ppid" "$comm" "${line[*]:0:12}" | cut -c1-220
    done | sort; } >>"$SYSTEST_OUT/procs.log" 2>/dev/null || true; }

kill_pppd_of() { local p; p=$(pppd_of "$1") && [ -n "$p" ] && kill "$p"; }
# the main slirp: the one listening on ~hostb/.slirp_socket (not the oldest slirp: after the main slirp was killed
# and restarted, a unit's `slirp -l N` that started a moment before unit 0's is older than the new main)
main_slirp() { local p; p=$(ss -Hxlp 2>/dev/null | grep -F ' /home/hostb/.slirp_socket ' | grep -o 'pid=[0-9]*' | head -n 1)
  if [ -n "$p" ]; then echo "${p#pid=}"; else pgrep -o -u hostb -x slirp; fi; }
kill_main_slirp() { local p; p=$(main_slirp) && [ -n "$p" ] && kill "$p"; }
# unit N's own `slirp -l N` on host_B (it attached the unit and waits; the main slirp serves the unit)
unit_slirp() { local f p a; for f in /proc/[0-9]*/cmdline; do
  mapfile -d '' -t a <"$f" 2>/dev/null || continue
  [ "${#a[@]}" -ge 3 ] && [[ ${a[0]} == *slirp ]] && [ "${a[1]}" = -l ] && [ "${a[2]%%,*}" = "$1" ] || continue
  p=${f#/proc/}; echo "${p%/cmdline}"; return 0; done; return 1; }
unit_slirp_not_main() { local p; p=$(unit_slirp "$1") && [ "$p" != "$(main_slirp)" ] && echo "$p"; }
kill_unit_slirp() { local p; p=$(unit_slirp_not_main "$1") && kill -KILL "$p"; }
# the link's ssh client: the ssh whose parent (exec) or grandparent (sh -c wrapper) is the link's pppd
ssh_of() { local p s pp; p=$(pppd_of "$1") || return 1
  for s in $(procs_named ssh); do pp=$(awk '/^PPid:/ { print $2 }' "/proc/$s/status" 2>/dev/null) || continue
    if [ "$pp" = "$p" ] || [ "$(awk '/^PPid:/ { print $2 }' "/proc/$pp/status" 2>/dev/null)" = "$p" ]; then echo "$s"; return; fi
  done; return 1; }
kill_ssh_of() { local s; s=$(ssh_of "$1") && kill "-${2:-TERM}" "$s"; }
# --- sshmux (issue 11): each link keeps its own ssh master (remote.reuseConnection); the pty's ssh is then only a
# mux client that handed its fds to the master: the master ("ssh: DIR/ssh-LINKNAME [mux]", found by its control
# path, LINKNAME from pppd's argv) carries the link's data, so the faults that mean "the link's ssh connection"
# (frozen, killed before a fresh connect) target it; without a master (reuse off) the pty's ssh as before.
master_of() { local p n s; p=$(pppd_of "$1") || return 1; [ -n "$p" ] || return 1
  n=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | awk 'f { print; exit } $0 == "linkname" { f = 1 }'); [ -n "$n" ] || return 1
  for s in $(procs_named ssh); do case "$(tr '\0' ' ' <"/proc/$s/cmdline" 2>/dev/null)" in "ssh: "*"/ssh-$n [mux]"*) echo "$s"; return;; esac; done
  return 1; }
connection_of() { master_of "$1" || ssh_of "$1"; }
kill_connection_of() { local s; s=$(connection_of "$1") && kill "-${2:-TERM}" "$s"; }
# --- end sshmux
# signal_pid SIG PID: a kill fault whose target was found before the fault's clock started (as an argument of
# run_fault): finding it (a /proc scan with a fork per process, ss) took 0.5-1 s of guest time that was counted
# as the product's detection (docs/benchmarks.md, section 20)
signal_pid() { [ -n "$2" ] && kill "$1" "$2"; }
delete_lan_route() { ip route del "$TOPO_LAN_NET"; }

# daemonReadySeconds: from the daemon's start to its control socket serving, read from its own log line (polling
# with the CLI would cost a .NET start per poll in this slow guest and compete with the bring-up it measures)
daemon_ready_seconds() { local line
  line=$(grep -m1 'Control socket .* serving' "$SYSTEST_OUT/product.log" 2>/dev/null) || { echo null; return; }
  awk -v a="$DAEMON_EPOCH" -v b="$(date -d "${line:0:23}" +%s.%N 2>/dev/null || echo x)" 'BEGIN { if (b == "x") print "null"; else printf "%.2f", b - a }'; }
# the reason the product shows for a fault: the newest lastError (with its class) seen since EPOCH, from status --json
fault_reason() { local i r; for i in 1 2 3; do r=$(fault_reason_once "$1"); [ "$r" != null ] && break; done; echo "$r"; }
fault_reason_once() { "$PRODUCT" status --json --config "$CONFIG" 2>/dev/null | python3 -c '
import json, sys
from datetime import datetime
t0 = float(sys.argv[1]); best = None
try: s = json.load(sys.stdin)
except Exception: print("null"); sys.exit(0)
for l in s.get("links", []):
    at, e = l.get("lastErrorAt"), l.get("lastError")
    if not at or not e: continue
    ts = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    if ts >= t0 and (best is None or ts > best[0]): best = (ts, l.get("lastErrorClass") or "", e)
print(json.dumps({"class": best[1], "text": best[2]}) if best else "null")' "$1"; }
# host_B's sshd (the listener; sessions stay) down for SECONDS while the ssh of ppp1 is killed: its retries are refused
hostb_sshd_down() { kill "$(cat /run/sshd_hostb.pid)" && kill_connection_of ppp1 || return 1
  ( sleep "$1"; topo_sshd_start hostb ) & }
# the remote slirp replaced by one that prints an error and exits 1 for SECONDS, while the ssh of ppp2 is killed
failing_slirp() { local b=/home/hostb/bin/slirp
  cp -p "$b" "$b.good" && printf '#!/bin/sh\necho "Error: this slirp is broken on purpose" >&2\nexit 1\n' >"$b.bad" \
    && chown hostb "$b.bad" && chmod 755 "$b.bad" && mv -f "$b.bad" "$b" && kill_connection_of ppp2 || return 1
  ( sleep "$1"; mv -f "$b.good" "$b" ) & }

# the jump host's sshd (the listener; sessions stay) down for SECONDS while the ssh of ppp1 is killed
jump_sshd_down() { kill "$(cat /run/sshd_fireman.pid)" && kill_connection_of ppp1 || return 1
  ( sleep "$1"; topo_sshd_start fireman ) & }
# host_B's authorized_keys removed and the ssh of ppp2 killed: the link must be parked (a refused key is permanent);
# then the key is restored and the operator's `restart-parked` brings it back
# (status exits 1 while the bundle is degraded: under pipefail that must not count as "not parked")
link_parked() { { "$PRODUCT" status --json --config "$CONFIG" 2>/dev/null || true; } | python3 -c '
import json, sys
try: s = json.load(sys.stdin)
except Exception: sys.exit(1)
sys.exit(0 if any(str(l.get("phase")).lower() in ("parked", "7") and l.get("link") == int(sys.argv[1]) for l in s.get("links", [])) else 1)' "$1"; }
key_revoked() { local k=/home/hostb/.ssh/authorized_keys
  mv -f "$k" "$k.revoked" && kill_connection_of ppp2 || return 1
  # (polled every 2 s: each status is a .NET start in this slow guest)
  ( local i=0; until link_parked 2 || [ $i -ge 60 ]; do sleep 2; i=$((i+1)); done
    if link_parked 2; then log "link 2 parked $(since "$t0")s after the key was revoked"; else log "link 2 not parked after the key was revoked"; fi
    mv -f "$k.revoked" "$k"; "$PRODUCT" restart-parked --config "$CONFIG" >&2 || log "restart-parked failed" ) & }
# lcp-only (issue 14): the health probes' fault. The daemon runs with this health section only for that fault (probes
# every 4 s, 2 failures restart a link; a short interval so that detection stays within seconds of guest time).
HEALTH_CONFIG="\"health\": { \"enabled\": true, \"intervalSeconds\": 4, \"timeoutSeconds\": 3, \"failuresBeforeRestart\": 2, \"remoteLanTarget\": \"$TOPO_LAN_HOST:$TOPO_HTTP_PORT\" }"
# the interface drops every IP packet it sends: a root pfifo of length 0. pppd sends LCP (and the other control
# protocols) through the ppp channel, which bypasses the interface's qdisc: LCP echo still passes, pppd stays up.
drop_ip_of() { tc qdisc replace dev "$1" root pfifo limit 0; }
# the daemon's log since LOG_MARK (a byte offset of product.log): read instead of `status`, whose .NET start per
# call would starve this slow guest while it waits
log_since() { tail -c +"$((LOG_MARK + 1))" "$SYSTEST_OUT/product.log"; }
# every link's end-to-end probe has passed (the health actor logs the first pass of each link)
probes_pass() { local l; for l in "${LINKS[@]}"; do log_since | grep -q "Link $l: end-to-end probe passes via" || return 1; done; }
# links the probe restarted since LOG_MARK, space-separated
probe_restarted() { log_since | sed -n 's/.*HealthActor: Link \([0-9]*\): end-to-end probe failed [0-9]* times.*restarting it$/\1/p' | sort -un | tr '\n' ' '; }
# from status --json (one call, retried): per link the probe's ok/rtt and health-probe failures, the remote LAN's ok
health_json() { local i r; for i in 1 2 3; do r=$(health_json_once) && [ -n "$r" ] && { echo "$r"; return; }; done; echo null; }
health_json_once() { "$PRODUCT" status --json --config "$CONFIG" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
links = s.get("links", []); lan = (s.get("stats") or {}).get("remoteLan") or {}
print(json.dumps({"probeOk": [(l.get("probe") or {}).get("ok") for l in links],
  "probeRttSeconds": [(l.get("probe") or {}).get("rttSeconds") for l in links],
  "healthProbeFailures": [(l.get("failures") or {}).get("health-probe", 0) for l in links],
  "restarts": [l.get("restarts") for l in links], "remoteLanOk": lan.get("ok")}, separators=(",", ":")))' 2>/dev/null; }

# guest/soak.sh sources this file for the set-up, the kernel checks and the fault harness above, then runs its own
# scenario (a fault KIND may carry a #N suffix there: one per repetition)
[ "${PRODUCT_SH_LIBRARY:-}" = 1 ] && return 0

# ---------------------------------------------------------------- run
T0=$(now)
tp_prepare_lo                                 # before any ssh connection: the throughput phase shapes them
topo_setup fixed
tp_files
# ---------------------------------------------------------------- bring-up baselines (issue 10: side by side)
# one bare pppd link and the HOWTO script's own start, in this run, before the daemon exists (guest/howto-baseline.sh)
log "=== bring-up baselines: one bare pppd link, then the HOWTO script"
BARE_LINK=$(bare_link_seconds); log "one bare link: pppd start -> IP up in ${BARE_LINK}s"
# the floor of issue 10's ratio: the same links started at once, no daemon (~10-20 s of guest time)
BARE_LINKS=$(bare_links_seconds "$NLINKS"); log "$NLINKS bare links at once: start -> every one at IP up in ${BARE_LINKS}s"
HOWTO_SCRIPT=$(howto_script_seconds); log "the HOWTO script: start -> exit with every link enslaved in ${HOWTO_SCRIPT}s"
# ----------------------------------------------------------------
write_config
# early-stop (run only when named in SYSTEST_FAULTS): a daemon SIGTERMed once host_B's main slirp of its prelaunched
# links runs, before its actors take the links over, must leave nothing here or on host_B and put the sysctl back
# (docs/benchmarks.md, section 33). Its own log, early-stop.log: product.log's first start stays the measured one.
# "clean", "left" (something stayed), or "late" (clean, but the bundle had started: not the moment this is about).
EARLY_STOP=null
if [[ " ${SYSTEST_FAULTS:-} " == *" early-stop "* ]]; then
  log "=== early-stop: SIGTERM to a daemon once host_B's main slirp runs, before its actors take the links over"
  sysctl -qw net.ipv4.tcp_reordering=3
  # a slirp the baselines left (a loaded guest) would be taken for the daemon's and count as left by it
  kill_remote_slirps 2>/dev/null || pkill -KILL -u hostb -x slirp || true
  wait_for 30 "no slirp of hostb before the early stop" not pgrep -u hostb -x slirp || true
  start_daemon "$SYSTEST_OUT/early-stop.log"
  early=$DAEMON_PID; te=$(now)
  early_left() { pgrep -x pppd || pgrep -u hostb -x slirp || pgrep -x ssh || [ "$(enslaved_count)" != 0 ] \
    || ip -4 route show | grep -q 'dev eql' || [ "$(sysctl_value net.ipv4.tcp_reordering)" != 3 ]; }
  EARLY_STOP='"left"'
  if wait_for 120 "host_B's main slirp of the prelaunched links" pgrep -u hostb -x slirp; then
    log "early-stop: slirp of hostb [$(pids_of -u hostb -x slirp)] $(since "$te")s after the start; SIGTERM"; ts=$(now)
    kill -TERM "$early"
    wait_for 120 "the early daemon's exit" not kill -0 "$early"; wait "$early" 2>/dev/null || true
    if wait_for 30 "nothing left after the early stop" not early_left; then
      if grep -q 'Starting bundle with links' "$SYSTEST_OUT/early-stop.log"; then EARLY_STOP='"late"'; else EARLY_STOP='"clean"'; fi
    fi
    log "early-stop: ${EARLY_STOP} after $(since "$ts")s; left: pppd=[$(pids_of -x pppd)] slirp=[$(pids_of -u hostb -x slirp)] ssh=[$(pids_of -x ssh)] slaves=$(enslaved_count) reordering=$(sysctl_value net.ipv4.tcp_reordering)"
  fi
  kill -KILL "$early" 2>/dev/null || true
  # whatever a failed early stop left must not spoil the measured start
  kill_remote_slirps 2>/dev/null || true
fi
sysctl -qw net.ipv4.tcp_reordering=3          # the kernel default: the product must set 127
log "config: $(tr -d '\n ' <"$CONFIG")"
tb=$(now)
start_daemon
# where the guest's CPU goes during the bring-up (2 vCPUs): every 0.5 s the guest time, /proc/stat's cpu line and the
# daemon's utime + stime (clock ticks), in bringup-cpu.log; summed up once the bundle is up
# (fork-free: bash builtins only, so that the sampler takes as little as possible of the CPU it measures); with it,
# bringup-threads-timeline.log: per sample, the daemon's threads as "name:ticks" (utime + stime), to see which of
# them used the CPU between the control socket serving and the full state
( while kill -0 "$DAEMON_PID" 2>/dev/null; do read -r c </proc/stat; read -r t _ </proc/uptime
    d=""; if read -r s 2>/dev/null <"/proc/$DAEMON_PID/stat"; then read -r -a f <<<"${s##*) }"; d="${f[11]} ${f[12]}"; fi
    echo "$t $c | $d"
    line=$t; for k in /proc/"$DAEMON_PID"/task/*/stat; do read -r s 2>/dev/null <"$k" || continue; n=${s#*(}; n=${n%)*}
      read -r -a f <<<"${s##*) }"; line+=" ${n// /_}:$((f[11] + f[12]))"; done; echo "$line" >>"$SYSTEST_OUT/bringup-threads-timeline.log"
    sleep 0.5; done >"$SYSTEST_OUT/bringup-cpu.log" ) & CPU_SAMPLER=$!
wait_for 300 "bring-up: $NLINKS links enslaved, routes via eql, tcp_reordering=127" stable_full_state \
  || { log "bring-up failed: $(state_line)"; tail -n 40 "$SYSTEST_OUT/product.log" >&2 || true; }
kill "$CPU_SAMPLER" 2>/dev/null; wait "$CPU_SAMPLER" 2>/dev/null || true
# which of the daemon's threads used it (name, utime + stime ticks), busiest first
for t in /proc/"$DAEMON_PID"/task/*; do s=$(cat "$t/stat" 2>/dev/null) || continue; c=${s#*(}; c=${c%)*}; r=${s##*) }
  read -r -a f <<<"$r"; echo "$((f[11] + f[12])) ${c// /_}"; done 2>/dev/null \
  | awk '{ n[$2] += $1; k[$2]++ } END { for (c in n) print n[c], c, k[c] }' | sort -rn >"$SYSTEST_OUT/bringup-threads.log" || true
# guest CPU busy % (both vCPUs) and the daemon's CPU seconds from its start to the full state
BRING_UP_CPU=$(awk -F' [|] ' '{ split($1, a, " "); n = split($2, d, " "); busy = a[3] + a[4] + a[5] + a[8] + a[9]; tot = busy + a[6] + a[7]
  if (NR == 1) { b0 = busy; t0 = tot } b1 = busy; t1 = tot; if (n == 2) dc = (d[1] + d[2]) / 100 }
  END { if (NR < 2 || t1 == t0) print "null"; else printf "{\"guestBusyPercent\":%.0f,\"daemonCpuSeconds\":%.2f}", 100 * (b1 - b0) / (t1 - t0), dc }' \
  "$SYSTEST_OUT/bringup-cpu.log" 2>/dev/null || echo null)
log "during the bring-up: ${BRING_UP_CPU}"
proc_timeline "after the bring-up"
DAEMON_READY=$(daemon_ready_seconds); log "daemon ready (control socket serving) ${DAEMON_READY}s after its start"
if [ -n "$STABLE_SINCE" ]; then
  BRING_UP=$(awk -v a="$tb" -v b="$STABLE_SINCE" 'BEGIN { printf "%.2f", b - a }'); log "bring-up complete after ${BRING_UP}s: $(state_line)"; routes | sed 's/^/     /' >&2
  b=$(counters); dl=$(fetch_check) || TRANSFERS_OK=false
  b2=$(counters); ul=$(upload_check) || TRANSFERS_OK=false
  UPLOAD_SHARES=$(shares "$b2" "$(counters)" tx); DOWNLOAD_SHARES=$(shares "$b" "$b2" rx)
  log "initial transfer: download ${dl:-FAILED}s (rx shares $DOWNLOAD_SHARES), upload ${ul:-FAILED}s (tx shares $UPLOAD_SHARES)"
  traffic "initial" || true
  # throughput (issue 11): each link shaped to 256 kbit/s each way, one verified flow per direction with 3, 2 and 1
  # links. For 2 and 1 the daemon is paused (SIGSTOP) and the pppd of ppp2, then ppp1, killed, so that slirp
  # really has fewer units (it spreads downloads over every unit that is up); then the daemon continues and
  # restarts them, and the shaping goes before the faults.
  if want throughput; then
  log "=== throughput: 3, 2, 1 shaped links"
  tp_shape
  tp_both 3 || TRANSFERS_OK=false
  kill -STOP "$DAEMON_PID"
  for l in 2 1; do
    g=$(unit_slirp "$l" || true); kill_pppd_of "ppp$l" || log "could not kill the pppd of ppp$l"
    wait_for 60 "ppp$l gone and slirp's unit $l released" eval "! link_exists ppp$l && { [ -z '$g' ] || ! kill -0 '$g'; }" \
      || log "ppp$l or its slirp unit still there: $(state_line)"
    tp_both "$l" || TRANSFERS_OK=false
  done
  tp_unshape
  kill -CONT "$DAEMON_PID"
  wait_for "$LIMIT" "full state after the throughput phase" stable_full_state || log "no full state after the throughput phase: $(state_line)"
  fi
  # the stall of a transfer in flight: a 4 MiB upload running while the pppd of ppp1 is killed 3 s into it;
  # the sink's longest gap between received chunks. Then the full state back before the faults.
  STALL=null
  if want stall; then
  log "=== in-flight upload while the pppd of ppp1 is killed"
  gapf=/tmp/stall.$$; rm -f "$gapf"; t0=$(now)
  timeout 300 python3 "$TOPO_GUEST_DIR/netio.py" send "$TOPO_PEER" "$TOPO_UPLOAD_PORT" /srv/www/blob 240 "$gapf" & up=$!
  sleep 3; kill_pppd_of ppp1 || log "could not kill the pppd of ppp1"
  if wait "$up" && [ -s "$gapf" ]; then STALL=$(cat "$gapf"); log "in-flight upload verified in $(since "$t0")s, longest stall ${STALL}s"
  else STALL=null; TRANSFERS_OK=false; log "in-flight upload FAILED"; fi
  wait_for "$LIMIT" "full state after the in-flight pppd kill" stable_full_state || log "no full state after the in-flight kill: $(state_line)"
  fi
  ok=true
  run_fault() { want "$1" || return 0; if $ok; then fault "$@" || ok=false; else FAULT_ORDER+=("$1"); FAULT_STATUS[$1]=skipped; fi; }
  run_fault pppd-kill "SIGTERM to the pppd of ppp1" kill_pppd_of ppp1
  # upload shares right after a link restart (the HOWTO script's priority 1 gave 21.7/56.6/21.7: the re-enslaved
  # slave took the traffic until it caught up)
  if $ok && want pppd-kill; then b=$(counters); ul=$(upload_check) || TRANSFERS_OK=false; RESTART_SHARES=$(shares "$b" "$(counters)" tx)
    log "upload after the ppp1 restart: ${ul:-FAILED}s (tx shares $RESTART_SHARES)"; fi
  # (the targets of these three are found before the fault's clock starts: see signal_pid)
  want slirp-kill && run_fault slirp-kill "SIGTERM to the remote main slirp (unit 0's: every link drops)" signal_pid -TERM "$(main_slirp)"
  want unit-slirp-kill && run_fault unit-slirp-kill "SIGKILL to unit 2's own slirp -l 2 on host_B (ppp2 drops, its unit is re-attached)" signal_pid -KILL "$(unit_slirp_not_main 2)"
  # sshmux: ssh_of is the pty's ssh, a mux client when the link keeps its master: its session ends (host_B's slirp
  # unit hangs up), the master and its connection stay, and the restart opens a session over them
  want ssh-kill && run_fault ssh-kill "SIGTERM to the ssh client of ppp2 (with a kept connection: the mux client; the master stays)" signal_pid -TERM "$(ssh_of ppp2)"
  FAULT_EXPECT[hostb-sshd-down]=connection-refused
  run_fault hostb-sshd-down "host_B's sshd down for 60 s, the ssh of ppp1 killed" hostb_sshd_down 60
  FAULT_EXPECT[failing-slirp]=remote-command
  run_fault failing-slirp "the remote slirp replaced by one that fails for 20 s, the ssh of ppp2 killed" failing_slirp 20
  # issue 10 item 6: the jump host down, a revoked key (parked, then restart-parked), a frozen ssh (LCP echo 1 s x 3)
  FAULT_EXPECT[jump-sshd-down]=connection-refused
  run_fault jump-sshd-down "the jump host's sshd down for 20 s, the ssh of ppp1 killed" jump_sshd_down 20
  FAULT_EXPECT[key-revoked]=auth-refused
  run_fault key-revoked "host_B's authorized_keys removed, the ssh of ppp2 killed; restored and restart-parked once parked" key_revoked
  FAULT_EXPECT[ssh-frozen]=lcp-echo-timeout
  # sshmux: the master carries the data (a stopped mux client freezes nothing); the product must end it (SIGCONT+TERM)
  run_fault ssh-frozen "SIGSTOP to the ssh connection of ppp1 (its master when kept; the path freezes, pppd stays)" kill_connection_of ppp1 STOP
  run_fault link-down "ip link set ppp0 down" ip link set ppp0 down
  run_fault route-delete "ip route del $TOPO_LAN_NET (a managed route)" delete_lan_route
  run_fault eql-down "ip link set eql down (the kernel releases every slave)" ip link set eql down
  # lcp-only (issue 14): ppp1 keeps passing LCP but drops every IP packet it sends; only the health probe can see
  # it. The daemon is restarted with health probes on (it adopts the links), every link's probe must pass first
  # (a probe that cannot pass would restart healthy links), then the fault: the probe must restart ppp1 and only it.
  # detect = when the product took ppp1 down. The base configuration is written back for the next daemon start.
  HEALTH=null
  if ! want lcp-only; then :
  elif $ok; then
    log "=== lcp-only set-up: the daemon (pid $DAEMON_PID) restarted with health probes on"
    write_config "$HEALTH_CONFIG"; kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
    LOG_MARK=$(stat -c %s "$SYSTEST_OUT/product.log"); start_daemon
    if wait_for "$LIMIT" "full state after the restart with health probes" stable_full_state \
       && wait_for "$LIMIT" "every link's end-to-end probe passing" probes_pass; then
      log "every link's end-to-end probe passes: $(log_since | grep -o 'Link [0-9]: end-to-end probe passes.*' | tr '\n' ';')"
      FAULT_EXPECT[lcp-only]=health-probe; FAULT_QUIET[lcp-only]=$LIMIT; FAULT_DETECT_ON[lcp-only]=degraded
      LOG_MARK=$(stat -c %s "$SYSTEST_OUT/product.log")
      run_fault lcp-only "ppp1 drops every IP packet it sends (root qdisc pfifo limit 0), LCP still passes" drop_ip_of ppp1
      restarted=$(probe_restarted); HEALTH=$(health_json); log "lcp-only: links restarted by the probe: [$restarted]; status: $HEALTH"
      if [ "${FAULT_STATUS[lcp-only]}" = recovered ] && [ "$restarted" != "1 " ]; then
        FAULT_STATUS[lcp-only]=wrong-link; ok=false; log "lcp-only: not exactly ppp1 restarted by the probe"; fi
    else FAULT_ORDER+=(lcp-only); FAULT_STATUS[lcp-only]=probe-not-passing; ok=false
      log "probes: $(log_since | grep -i 'probe' | tail -n 6 | tr '\n' ';')"; fi
    write_config
  else FAULT_ORDER+=(lcp-only); FAULT_STATUS[lcp-only]=skipped; fi
  # SIGKILL the daemon: the links must survive and be adopted by the next daemon (same pppd pids)
  if ! want daemon-restart; then :
  elif $ok; then
    FAULT_ORDER+=(daemon-restart); before=$(pppd_pids); t0=$(now)
    log "=== fault daemon-restart: SIGKILL the daemon (pid $DAEMON_PID), start it again; pppd before: [$before]"
    kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
    start_daemon
    # adoption: the full state holds and the pppd pids stay the same for an observation window after the new
    # daemon started (SYSTEST_ADOPT_WINDOW guest seconds, default 45: it must cover the daemon's start-up, 4-18 s in this guest)
    adopted=true; rec=""
    if wait_for "$LIMIT" "full state after the restart" stable_full_state; then
      rec=$(awk -v a="$t0" -v b="$STABLE_SINCE" 'BEGIN { printf "%.2f", b - a }'); else adopted=false; fi
    while $adopted && ! older_than "$t0" "${SYSTEST_ADOPT_WINDOW:-45}"; do
      if [ "$(pppd_pids)" != "$before" ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then adopted=false; break; fi
      sleep 0.5
    done
    if $adopted && wait_for "$LIMIT" "full state after the restart" stable_full_state && traffic "after daemon-restart" \
       && [ "$(pppd_pids)" = "$before" ]; then
      FAULT_STATUS[daemon-restart]=recovered; FAULT_DETECT[daemon-restart]=0; FAULT_RECOVER[daemon-restart]=$rec
      log "daemon-restart: full state ${rec}s after the SIGKILL, same pppd pids [$before] $(since "$t0")s after it; $(state_line)"
    else
      FAULT_STATUS[daemon-restart]=not-adopted; log "after restart: pppd [$(pppd_pids)] (before [$before]); $(state_line)"; ok=false
    fi
  else FAULT_ORDER+=(daemon-restart); FAULT_STATUS[daemon-restart]=skipped; fi
  # the same pppd kill with the stock slirp (link_down() also drops unit 0): restart the remote slirp with it first
  if ! want slirp-kill-to-stock && ! want pppd-kill-stock-slirp; then :
  elif $ok; then
    topo_slirp stock
    run_fault slirp-kill-to-stock "SIGTERM to the remote main slirp, now restarted from the stock build" kill_main_slirp
    # (a unit-slirp kill with the stock build is left out: in the one run that tried it, no `slirp -l 2` process
    # could be found after the stock main slirp had restarted; not yet understood)
    run_fault pppd-kill-stock-slirp "SIGTERM to the pppd of ppp1 with the stock slirp (ppp0 drops too)" kill_pppd_of ppp1
  else FAULT_ORDER+=(slirp-kill-to-stock pppd-kill-stock-slirp)
    FAULT_STATUS[slirp-kill-to-stock]=skipped; FAULT_STATUS[pppd-kill-stock-slirp]=skipped; fi
else
  BRING_UP=null; UPLOAD_SHARES=[]; TRANSFERS_OK=false; STALL=null; HEALTH=null
fi

DAEMON_READY=${DAEMON_READY:-null}
# final SIGTERM: nothing may be left
log "=== final SIGTERM to the daemon (pid $DAEMON_PID)"
ts=$(now); CLEAN=false
if kill -0 "$DAEMON_PID" 2>/dev/null; then
  kill -TERM "$DAEMON_PID"
  if wait_for 120 "daemon exit" not kill -0 "$DAEMON_PID"; then wait "$DAEMON_PID" 2>/dev/null || true; fi
fi
# and the sysctl back as the scenario set it before the first daemon (also after a daemon-restart: the new daemon
# never saw the value before the first one's change)
leftover() { pgrep -x pppd || pgrep -u hostb -x slirp || pgrep -x ssh || [ "$(enslaved_count)" != 0 ] \
  || ip -4 route show | grep -q 'dev eql' || ip -4 route show | grep -q "^$TOPO_LAN_NET" \
  || [ "$(sysctl_value net.ipv4.tcp_reordering)" != 3 ]; }
if wait_for 60 "no pppd, slirp, ssh, slaves or managed routes left" not leftover \
   && not kill -0 "$DAEMON_PID" 2>/dev/null; then CLEAN=true; fi
log "stop took $(since "$ts")s; left: daemon=$(kill -0 "$DAEMON_PID" 2>/dev/null && echo alive || echo gone) pppd=[$(pids_of -x pppd)] slirp=[$(pids_of -u hostb -x slirp)] ssh=[$(pids_of -x ssh)] slaves=$(enslaved_count) eql-routes=[$(ip -4 route show | grep 'dev eql' | tr '\n' ';' || true)] reordering=$(sysctl_value net.ipv4.tcp_reordering)"
kill -KILL "$DAEMON_PID" 2>/dev/null || true

# ---------------------------------------------------------------- summary
max_of() { local m=null v; for v in "$@"; do [ "$m" = null ] && m=$v || m=$(awk -v a="$m" -v b="$v" 'BEGIN { print (b > a ? b : a) }'); done; echo "$m"; }
faults_json="" times_json="" all_recovered=true
for k in "${FAULT_ORDER[@]}"; do
  faults_json+="${faults_json:+,}\"$k\":\"${FAULT_STATUS[$k]:-unknown}\""
  [ "${FAULT_STATUS[$k]:-}" = recovered ] || all_recovered=false
  [ -n "${FAULT_RECOVER[$k]:-}" ] && times_json+="${times_json:+,}\"$k\":{\"detect\":${FAULT_DETECT[$k]},\"recover\":${FAULT_RECOVER[$k]},\"reason\":${FAULT_REASON[$k]:-null}}"
done
detect=$(max_of "${FAULT_DETECT[@]}"); recover=$(max_of "${FAULT_RECOVER[@]}")
log "product scenario done in $(since "$T0")s"
printf '{"linksEnslaved":%d,"transferVerified":%s,"faults":{%s},"daemonReadySeconds":%s,"bringUpSeconds":%s,"detectSeconds":%s,"recoverSeconds":%s,"uploadShares":%s,"uploadSharesAfterRestart":%s,"stallSeconds":%s,"teardownClean":%s,"bareLinkSeconds":%s,"bareLinksAtOnceSeconds":%s,"howtoScriptSeconds":%s,"bringUpCpu":%s,"faultTimes":{%s},"throughput":%s,"throughputCommand":%s,"downloadShares":%s,"throughputShares":%s,"throughputTcp":%s,"throughputCpuBusy":%s,"throughputQdiscDrops":%s,"throughputUploadFlow":%s,"throughputFlowKiB":%d,"health":%s,"earlyStop":%s}\n' \
  "$( [ "$BRING_UP" = null ] && echo 0 || echo "$NLINKS")" "$TRANSFERS_OK" "$faults_json" "$DAEMON_READY" "$BRING_UP" "$detect" "$recover" \
  "$UPLOAD_SHARES" "$RESTART_SHARES" "$STALL" "$CLEAN" "$BARE_LINK" "$BARE_LINKS" "$HOWTO_SCRIPT" "${BRING_UP_CPU:-null}" "$times_json" \
  "$(tp_throughput_json)" "$(tp_command_json)" "${TP_DOWN_SHARES[3]:-[]}" "$(tp_shares_json)" "$(tp_tcp_json)" "$(tp_cpu_json)" "$(tp_drops_json)" "$(tp_flow_json)" "$TP_KIB" "${HEALTH:-null}" "$EARLY_STOP" | tee "$SYSTEST_OUT/summary.json"
[ "$BRING_UP" != null ] && $TRANSFERS_OK && $all_recovered && $CLEAN && [ "$EARLY_STOP" != '"left"' ]

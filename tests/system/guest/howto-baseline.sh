# shellcheck shell=bash
# BRING-UP BASELINES (issue 10), measured in the product scenario's own guest run before the daemon starts, so that
# the product's bring-up is compared side by side with what it replaces (sourced by guest/product.sh, test
# infrastructure only):
#   bare_link_seconds    one plain pppd link the HOWTO's way (pppd ... updetach pty "ssh -t -J ... bin/slirp -l 0",
#                        as guest/fixture-check.sh): from pppd's start to its return at IP up; then torn down fully
#   bare_links_seconds N N plain links like the one above started at once (issue 10's floor: what N links cost this
#                        guest with no daemon at all): from the start to the last pppd's return at IP up. Units 1..N-1
#                        wait on host_B for unit 0's slirp socket before they attach (as the product's wrapper does:
#                        without it they fail "cannot connect to Slirp socket"); torn down fully
#   howto_script_seconds the HOWTO's own script (guest/howto/eql-slirp) `start`, from its start to its exit with
#                        every link enslaved; then its `stop` and a full teardown
# Both leave the guest as they found it: no pppd, ssh, slirp, ppp link, slave, eql address or route of theirs.

BASE_HOWTO=$TOPO_GUEST_DIR/howto/eql-slirp
BASE_HOME=/tmp/howto-home                    # the script's $HOME: its rc file ~/.eql-slirprc (ssh keeps root's ~/.ssh)

# nothing of a baseline left: no pppd, ssh or slirp, no ppp link, eql down without address or routes
base_clean() { [ -z "$(procs_named pppd)$(procs_named ssh)" ] && ! pgrep -u hostb -x slirp >/dev/null && [ -z "$(ppp_links)" ]; }
base_teardown() { local p
  for p in $(procs_named pppd); do kill "$p" 2>/dev/null || true; done
  wait_for 30 "baseline pppd gone" not pgrep -x pppd || true
  kill_remote_slirps || true
  wait_for 30 "baseline links, ssh and slirp gone" base_clean || { log "baseline left: pppd=[$(pids_of -x pppd)] ssh=[$(pids_of -x ssh)] slirp=[$(pids_of -u hostb -x slirp)] links=[$(ppp_links | tr '\n' ' ')]"; return 1; }
  # the script unloads eql on stop and lets ifconfig load it again: the product expects the device as the guest booted
  link_exists eql || modprobe eql || true
  ip -4 addr flush dev eql 2>/dev/null || true
  ip link set eql down 2>/dev/null || true
  ip route del "$TOPO_LAN_NET" 2>/dev/null || true
  sysctl -qw net.ipv4.tcp_reordering=3
}

# bare_link_seconds: prints the seconds (or null); pppd's debug log in $SYSTEST_OUT/pppd0.log (LCP/IPCP timing)
bare_link_seconds() { local t0 s
  t0=$(now)
  if fixture_link_up 0 >&2; then s=$(since "$t0"); else s=null; fi
  base_teardown >&2 || s=null
  echo "$s"
}

# bare_links_seconds N: prints the seconds from the start of N bare links at once to the last one's IP up (or null)
bare_links_seconds() { local n=$1 t0 s l pids=() cmd rc=0
  t0=$(now)
  for ((l = 0; l < n; l++)); do
    topo_ssh_argv "$l"
    # units above 0: the remote command waits (at most 20 s) for unit 0's main slirp to listen
    [ "$l" -eq 0 ] || TOPO_SSH_ARGV=("${TOPO_SSH_ARGV[@]:0:${#TOPO_SSH_ARGV[@]}-3}" \
      "i=0; until [ -S .slirp_socket ] || [ \$i -ge 200 ]; do sleep 0.1; i=\$((i+1)); done; exec bin/slirp -l $l")
    cmd="exec $(shq "${TOPO_SSH_ARGV[@]}")"
    fixture_pppd "$l" "$cmd" >/dev/null 2>&1 & pids+=($!)
  done
  for l in "${pids[@]}"; do wait "$l" || rc=$?; done
  if [ "$rc" -eq 0 ] && [ "$(ppp_links | wc -l)" -eq "$n" ]; then s=$(since "$t0"); else s=null; log "$n bare links at once: not all up (exit $rc, links: $(ppp_links | tr '\n' ' '))"; fi
  base_teardown >&2 || s=null
  echo "$s"
}

# howto_script_seconds: prints the seconds from `eql-slirp start` to its exit with all links enslaved (or null)
howto_script_seconds() { local t0 s rc=0
  mkdir -p "$BASE_HOME"
  # the HOWTO's settings for this guest: host_B behind the jump host with ssh -J (the same path as the bare link,
  # root's default key and known_hosts), the remote LAN; the rest is the script's own defaults
  cat >"$BASE_HOME/.eql-slirprc" <<EOF
REMOTE_ACCOUNT="-J $TOPO_JUMP -p $TOPO_HOSTB_PORT $TOPO_ACCOUNT"
VIA=""
REMOTE_LANS="$TOPO_LAN_NET"
EOF
  t0=$(now)
  HOME=$BASE_HOME timeout 180 "$BASE_HOWTO" start >"$SYSTEST_OUT/howto-start.log" 2>&1 || rc=$?
  s=$(since "$t0")
  log "the HOWTO script's start exited $rc after ${s}s: $(tr '\n' ' ' <"$SYSTEST_OUT/howto-start.log" | cut -c1-300)"
  all_enslaved 3 || { log "the HOWTO script left $(enslaved_count) slaves"; s=null; }
  local ts; ts=$(now)
  HOME=$BASE_HOME timeout 120 "$BASE_HOWTO" stop >"$SYSTEST_OUT/howto-stop.log" 2>&1 || log "the HOWTO script's stop exited $?"
  log "the HOWTO script's stop took $(since "$ts")s"
  base_teardown >&2 || s=null
  echo "$s"
}

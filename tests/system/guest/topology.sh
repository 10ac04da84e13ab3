# shellcheck shell=bash disable=SC2034  # (SC2034: the TOPO_* settings are used by the scenarios that source this)
# The HOWTO's topology inside the system-test guest, as a library for scenario scripts (bash, sourced; the guest
# runs them as root in the chroot that guest/init prepares). Everything here is test infrastructure.
#
#   host_A  = root in the guest: pppd, eql, routes, the product (later).
#   host_B  = user `hostb` (uid 2001, keys only), sshd on 127.0.0.1:2201; ~hostb/bin/slirp (fixed or stock build),
#             ~/.slirprc = socket + mtu/mru 1500 (the HOWTO's unix-socket attach), ~/.slirprc-N = ppp (N = 0..3).
#   jump    = user `fireman` (uid 2002, keys only), sshd on 127.0.0.1:2202 (TCP forwarding for ssh -J).
#   root's client key /root/.ssh/id_ed25519 is accepted by both; /root/.ssh/known_hosts holds both host keys
#   (generated per run): ssh works with StrictHostKeyChecking=yes.
#   HTTP    = busybox httpd as hostb on 127.0.0.1:8080 serving /srv/www/blob (random, TOPO_BLOB_MB MiB). slirp maps
#             10.0.2.2 to host_B's loopback, and the guest has no other interface, so host_A reaches it only as
#             http://10.0.2.2:8080/blob through the PPP links.
#   upload  = netio.py sink as hostb on 127.0.0.1:8081 (answers size + sha256): upload through the bundle, verified.
#   LAN     = the "remote LAN" 192.168.77.0/24 behind host_B: network namespace `lan` with 192.168.77.10 (httpd on
#             :8080 serving /srv/lan/blob), joined by a veth pair to host_B's side (192.168.77.1, veth `lan-b`).
#             host_A and host_B share one kernel, so host_B's route to the LAN lives in routing table 77 that only
#             uid 2001 (hostb, i.e. slirp) uses (`ip rule uidrange 2001-2001 lookup 77`); the main table has no
#             route to it. host_A reaches 192.168.77.10 only through a route via eql (what `routes.remoteLans`
#             must install); slirp, like for any address, connects to it from host_B.
set -euo pipefail

: "${SYSTEST_DIR:=/systest/src}" "${SYSTEST_CACHE:=$SYSTEST_DIR/.cache}" "${SYSTEST_OUT:=/systest/out}"
TOPO_GUEST_DIR=$SYSTEST_DIR/guest
TOPO_HOSTB_PORT=2201
TOPO_FIREMAN_PORT=2202
TOPO_HTTP_PORT=8080
TOPO_UPLOAD_PORT=8081
TOPO_PEER=10.0.2.2                    # slirp's alias for host_B's loopback
TOPO_LOCAL=10.0.2.15                  # host_A's end of every PPP link
TOPO_LAN_NET=192.168.77.0/24
TOPO_LAN_GW=192.168.77.1              # host_B's address on the LAN
TOPO_LAN_HOST=192.168.77.10           # a host on the remote LAN
TOPO_EQL_ADDR=172.16.1.1
TOPO_BLOB_MB=${TOPO_BLOB_MB:-4}
TOPO_SSH_DIR=/root/.ssh
TOPO_SSHD_DIR=/etc/ssh/systest
TOPO_ACCOUNT=hostb@127.0.0.1
TOPO_JUMP=fireman@127.0.0.1:$TOPO_FIREMAN_PORT

# ---------------------------------------------------------------- time, logging, waiting (guest time)
# Fork-free where they are polled: in the busy TCG guest each fork and exec costs tenths of a second, and the polls
# that time the product (its full state, a fault's recovery) must not stamp it late by their own cost.
now() { local u _; read -r u _ </proc/uptime; printf '%s\n' "$u"; }
# nap SECONDS: sleep without a process (a read with a timeout on a pipe nobody writes to)
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
log() { printf '@@ T+%ss %s\n' "$(now)" "$*" >&2; }
fail() { log "FAIL: $*"; return 1; }
not() { ! "$@"; }

# wait_for LIMIT_SECONDS DESCRIPTION CMD [ARGS...]: poll CMD (every 0.2 s; a shell function works too) until it
# succeeds; returns 1 after LIMIT seconds of guest time. `wait_for 30 "x gone" not test -e x` waits for the negation.
wait_for() { local limit=$1 what=$2 t0; shift 2; t0=$(now)
  until "$@" >/dev/null 2>&1; do
    if older_than "$t0" "$limit"; then
      log "TIMEOUT after ${limit}s waiting for: $what"; return 1
    fi
    nap 0.2
  done
}

# older_than T0 SECONDS: more than SECONDS of guest time since T0 (a `now`); in centiseconds with bash arithmetic
# (/proc/uptime has two decimals), awk only for a limit with a fraction
older_than() { local b _; read -r b _ </proc/uptime
  if [[ $1 =~ ^[0-9]+\.[0-9][0-9]$ && $2 =~ ^[0-9]+$ ]]; then (( 10#${b/./} - 10#${1/./} > $2 * 100 )); return; fi
  awk -v a="$1" -v b="$b" -v l="$2" 'BEGIN { exit !(b - a > l) }'; }

# ---------------------------------------------------------------- kernel state helpers
# (fork-free where it matters: these are polled, and every fork costs milliseconds in the TCG guest)
link_exists() { [ -e "/sys/class/net/$1" ]; }
link_flags() { local v; read -r v 2>/dev/null <"/sys/class/net/$1/flags" || v=0; echo $((v)); }
is_up() { local v; read -r v 2>/dev/null <"/sys/class/net/$1/flags" || return 1; (( v & 0x1 )); }
is_slave() { local v; read -r v 2>/dev/null <"/sys/class/net/$1/flags" || return 1; (( v & 0x800 )); }  # IFF_SLAVE (EQL_ENSLAVE)
tx_bytes() { cat "/sys/class/net/$1/statistics/tx_bytes" 2>/dev/null || echo 0; }
rx_bytes() { cat "/sys/class/net/$1/statistics/rx_bytes" 2>/dev/null || echo 0; }
ppp_links() { local d; for d in /sys/class/net/ppp*; do [ -e "$d" ] && echo "${d##*/}"; done; return 0; }
enslaved_count() { local n=0 d; for d in /sys/class/net/ppp*; do is_slave "${d##*/}" && n=$((n + 1)); done; echo "$n"; }
all_enslaved() { local want=$1 n=0 d; is_up eql || return 1
  for d in /sys/class/net/ppp*; do is_slave "${d##*/}" && n=$((n + 1)); done; [ "$n" -ge "$want" ]; }
# pids of processes whose comm is $1 (like pgrep -x, without the fork)
procs_named() { local f c p; for f in /proc/[0-9]*/comm; do read -r c 2>/dev/null <"$f" || continue
  [ "$c" = "$1" ] || continue; p=${f#/proc/}; echo "${p%/comm}"; done; return 0; }
sysctl_value() { local v; read -r v <"/proc/sys/${1//.//}"; echo "$v"; }
routes() { ip -4 route show; }
# route_lookup A.B.C.D: ROUTE_DEV = the device the main table routes a remote address through ("" when none, or a
# reject route), as `ip -4 route get` answers for a non-local address with no policy rules (longest prefix, then the
# lowest metric), read from /proc/net/route without a fork: the full-state poll runs it twice per check, and two `ip`
# processes took tenths of a second each in the busy guest, stamping the product's state late by their cost.
# /proc/net/route holds the addresses in the kernel's byte order (little endian here): 10.0.2.2 is 0202000A.
ROUTE_DEV=""
route_lookup() { local o=(${1//./ }) t best=-1 bestm=0 iface dst gw fl rc use met mask rest len m
  t=$(( o[0] | o[1] << 8 | o[2] << 16 | o[3] << 24 )); ROUTE_DEV=""
  { read -r _
    while read -r iface dst gw fl rc use met mask rest; do
      (( 16#$fl & 0x1 )) && (( (t & 16#$mask) == 16#$dst )) || continue     # RTF_UP, and the prefix matches
      m=$((16#$mask)); len=0; while (( m )); do len=$((len + (m & 1))); m=$((m >> 1)); done
      if (( len > best || (len == best && met < bestm) )); then best=$len bestm=$met
        if (( 16#$fl & 0x200 )); then ROUTE_DEV=""; else ROUTE_DEV=$iface; fi; fi  # RTF_REJECT: unreachable
    done; } </proc/net/route
}
route_dev() { route_lookup "$1"; echo "$ROUTE_DEV"; }
routed_via_eql() { route_lookup "$1"; [ "$ROUTE_DEV" = eql ]; }
# has_addr DEV A.B.C.D PREFIX: DEV holds that address with that prefix, fork-free: the address is a local one
# (/proc/net/fib_trie: "|-- A.B.C.D" then "/32 host LOCAL") and DEV has the connected route of its subnet (no gateway)
has_addr() { local dev=$1 o=(${2//./ }) plen=$3 t nm mask line prev="" local_addr=false iface dst gw fl rc use met m rest
  t=$(( o[0] | o[1] << 8 | o[2] << 16 | o[3] << 24 ))
  nm=$(( plen ? (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF : 0 ))                      # network order, then as the kernel
  mask=$(( (nm >> 24 & 255) | (nm >> 16 & 255) << 8 | (nm >> 8 & 255) << 16 | (nm & 255) << 24 ))
  while read -r line; do [[ $prev == "|-- $2" && $line == "/32 host LOCAL" ]] && { local_addr=true; break; }; prev=$line; done </proc/net/fib_trie
  $local_addr || return 1
  { read -r _
    while read -r iface dst gw fl rc use met m rest; do
      [ "$iface" = "$dev" ] && (( 16#$dst == (t & mask) && 16#$gw == 0 && 16#$m == mask )) && return 0
    done; } </proc/net/route
  return 1
}
# counters of every ppp link, one "name tx rx" per line
counters() { local l; for l in $(ppp_links); do echo "$l $(tx_bytes "$l") $(rx_bytes "$l")"; done; }
# shares BEFORE AFTER tx|rx: per-link percentages of the delta, as a JSON array ordered by link name
shares() { awk -v col="$3" 'BEGIN { c = (col == "tx") ? 2 : 3 }
  NR == FNR { b[$1] = $c; next } { d[$1] = $c - b[$1]; t += d[$1]; n[++k] = $1 }
  END { printf "["; for (i = 1; i <= k; i++) printf "%s%.1f", (i > 1 ? "," : ""), (t > 0 ? 100 * d[n[i]] / t : 0); print "]" }' \
  <(printf '%s\n' "$1") <(printf '%s\n' "$2"); }
pids_of() { pgrep "$@" | tr '\n' ' ' || true; }

# ---------------------------------------------------------------- setup
# topo_users: hostb and fireman, ordinary users with no password ('*': not locked, so sshd with UsePAM no accepts keys)
topo_users() { local spec n id
  for spec in hostb:2001 fireman:2002; do n=${spec%:*}; id=${spec#*:}
    if ! grep -q "^$n:" /etc/passwd; then
      echo "$n:x:$id:$id::/home/$n:/bin/sh" >>/etc/passwd
      echo "$n:x:$id:" >>/etc/group
      echo "$n:*:19000:0:99999:7:::" >>/etc/shadow
    fi
    mkdir -p "/home/$n/.ssh" "/home/$n/bin"
  done
}

# topo_slirp VARIANT (fixed|stock): install that build as ~hostb/bin/slirp (rename, so a running slirp is not hit)
topo_slirp() { local v=${1:-fixed} src
  src=$SYSTEST_CACHE/slirp/slirp-$v
  [ -x "$src" ] || fail "no slirp build $src (run build-guest)"
  cp "$src" /home/hostb/bin/.slirp.new && chown hostb:hostb /home/hostb/bin/.slirp.new
  mv /home/hostb/bin/.slirp.new /home/hostb/bin/slirp
  TOPO_SLIRP_VARIANT=$v
  log "~hostb/bin/slirp = slirp-$v"
}

topo_keys() { local k
  mkdir -p "$TOPO_SSH_DIR" "$TOPO_SSHD_DIR"; chmod 700 "$TOPO_SSH_DIR"
  [ -f "$TOPO_SSH_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C root@host_A -f "$TOPO_SSH_DIR/id_ed25519"
  for k in hostb fireman; do
    [ -f "$TOPO_SSHD_DIR/host_$k" ] || ssh-keygen -q -t ed25519 -N '' -C "$k-host" -f "$TOPO_SSHD_DIR/host_$k"
  done
  {
    echo "[127.0.0.1]:$TOPO_HOSTB_PORT $(cut -d' ' -f1,2 "$TOPO_SSHD_DIR/host_hostb.pub")"
    echo "[127.0.0.1]:$TOPO_FIREMAN_PORT $(cut -d' ' -f1,2 "$TOPO_SSHD_DIR/host_fireman.pub")"
  } >"$TOPO_SSH_DIR/known_hosts"
  for k in hostb fireman; do cp "$TOPO_SSH_DIR/id_ed25519.pub" "/home/$k/.ssh/authorized_keys"; done
}

topo_sshd() { local user=$1 port=$2 conf=$TOPO_SSHD_DIR/sshd_$1.conf
  cat >"$conf" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $TOPO_SSHD_DIR/host_$user
PidFile /run/sshd_$user.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $user
PermitRootLogin no
PrintMotd no
PrintLastLog no
UseDNS no
# curve25519 only, for every client alike (bare link, HOWTO script, product): OpenSSH 9's post-quantum default costs
# ~6x the CPU per handshake, ~0.1 s on a real host but seconds in this ~25x slower guest, where it swamped what the
# bring-up comparison measures
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
AllowTcpForwarding yes
X11Forwarding no
LogLevel VERBOSE
EOC
  /usr/sbin/sshd -t -f "$conf"
  topo_sshd_start "$user"
}
# topo_sshd_start USER: (re)starts USER's sshd from its config, its log timestamped (topo_stamped_log)
topo_sshd_start() { topo_stamped_log "$SYSTEST_OUT/sshd_$1.log" "/run/sshd_$1.log.fifo"
  /usr/sbin/sshd -f "$TOPO_SSHD_DIR/sshd_$1.conf" -E "/run/sshd_$1.log.fifo"; }
# topo_stamped_log FILE FIFO: makes FIFO a fifo whose lines are appended to FILE, each prefixed with the
# guest's wall-clock time (HH:MM:SS.micro, product.log's clock): sshd's -E file has no timestamps, and the link
# path's timeline (each hop's connection, auth, session) is read against product.log. A bash loop without a fork
# per line; it ends when the last writer (the sshd and its children) closes the fifo.
topo_stamped_log() { rm -f "$2"; mkfifo -m 600 "$2"
  ( export TZ=UTC; while IFS= read -r l; do t=$EPOCHREALTIME; printf '%(%H:%M:%S)T.%s %s\n' "${t%.*}" "${t#*.}" "$l"; done \
      <"$2" >>"$1" ) & }

topo_remote_files() { local n
  printf 'socket\nmtu 1500\nmru 1500\n' >/home/hostb/.slirprc    # the HOWTO's form: unix socket ~/.slirp_socket
  for n in 0 1 2 3; do echo ppp >"/home/hostb/.slirprc-$n"; done
  for n in hostb fireman; do chown -R "$n:$n" "/home/$n"; chmod 700 "/home/$n" "/home/$n/.ssh"; chmod 600 "/home/$n/.ssh/"*; done
}

topo_servers() {
  mkdir -p /srv/www /srv/lan
  head -c $((TOPO_BLOB_MB * 1048576)) /dev/urandom >/srv/www/blob
  head -c 1048576 /dev/urandom >/srv/www/small
  head -c 1048576 /dev/urandom >/srv/lan/blob
  chmod 644 /srv/www/blob /srv/www/small /srv/lan/blob
  busybox httpd -p "127.0.0.1:$TOPO_HTTP_PORT" -h /srv/www -u hostb
  setpriv --reuid=hostb --regid=hostb --clear-groups python3 "$TOPO_GUEST_DIR/netio.py" sink 127.0.0.1 "$TOPO_UPLOAD_PORT" \
    >"$SYSTEST_OUT/upload-sink.log" 2>&1 &
  TOPO_SINK_PID=$!
}

topo_lan() {
  ip netns add lan
  ip link add lan-b type veth peer name lan-l
  ip link set lan-l netns lan
  ip addr add "$TOPO_LAN_GW/24" dev lan-b noprefixroute
  ip link set lan-b up
  ip route add "$TOPO_LAN_NET" dev lan-b src "$TOPO_LAN_GW" table 77
  ip rule add pref 100 uidrange 2001-2001 lookup 77
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lan-b.rp_filter=0
  ip netns exec lan ip link set lo up
  ip netns exec lan ip addr add "$TOPO_LAN_HOST/24" dev lan-l
  ip netns exec lan ip link set lan-l up
  ip netns exec lan busybox httpd -p "$TOPO_LAN_HOST:$TOPO_HTTP_PORT" -h /srv/lan
}

# topo_setup [fixed|stock]: the whole topology; idempotent enough for one run of one scenario
topo_setup() { local t0; t0=$(now)
  mkdir -p "$SYSTEST_OUT"
  topo_users
  topo_keys
  topo_slirp "${1:-fixed}"
  topo_remote_files
  mkdir -p /run/sshd; chmod 755 /run/sshd
  topo_sshd hostb "$TOPO_HOSTB_PORT"
  topo_sshd fireman "$TOPO_FIREMAN_PORT"
  topo_servers
  topo_lan
  wait_for 30 "both sshd + httpd + sink listening" topo_listening
  log "topology ready in $(since "$t0")s (slirp-$TOPO_SLIRP_VARIANT, blob ${TOPO_BLOB_MB} MiB)"
}
topo_listening() { local p l; l=$(ss -Htln | awk '{ print $4 }')
  for p in $TOPO_HOSTB_PORT $TOPO_FIREMAN_PORT $TOPO_HTTP_PORT $TOPO_UPLOAD_PORT; do
    grep -qx "127.0.0.1:$p" <<<"$l" || return 1; done; }

# ---------------------------------------------------------------- links without the product (fixture only)
# shell-quote each argument for /bin/sh (pppd runs its pty command with sh -c)
shq() { local a out=""; for a; do out+=" '${a//\'/\'\\\'\'}'"; done; printf '%s' "${out# }"; }
# the argv of one link's ssh, as the HOWTO starts it: through the jump host, a pty, the remote slirp unit N
topo_ssh_argv() { TOPO_SSH_ARGV=(ssh -q -t -o BatchMode=yes -o StrictHostKeyChecking=yes -i "$TOPO_SSH_DIR/id_ed25519"
  -o "UserKnownHostsFile=$TOPO_SSH_DIR/known_hosts" -J "$TOPO_JUMP" -p "$TOPO_HOSTB_PORT" "$TOPO_ACCOUNT" bin/slirp -l "$1"); }
topo_pty_command() { topo_ssh_argv "$1"; printf 'exec %s' "$(shq "${TOPO_SSH_ARGV[@]}")"; }

# fixture_link_up N: pppd for link N (updetach: returns once IPCP is up); pid file /run/ppp-fixtureN.pid
# fixture_pppd N PTY_COMMAND [OPTION...]: one plain pppd link with the HOWTO's options (updetach: returns at IP up),
# for the fixture checks and the baselines, so that every bare link measured is the same link
fixture_pppd() { local n=$1 cmd=$2; shift 2
  timeout 90 pppd unit "$n" linkname "fixture$n" local "$TOPO_LOCAL:$TOPO_PEER" mtu 1500 mru 1500 passive noauth \
    nodeflate nobsdcomp novj novjccomp nodefaultroute idle 0 updetach "$@" pty "$cmd"
}
fixture_link_up() { local n=$1 t0 cmd; t0=$(now); cmd=$(topo_pty_command "$n")
  fixture_pppd "$n" "$cmd" debug logfile "$SYSTEST_OUT/pppd$n.log" || fail "pppd link $n did not come up (exit $?)" || return 1
  log "link $n up as $(sed -n 2p "/run/ppp-fixture$n.pid") after $(since "$t0")s (pppd pid $(head -n 1 "/run/ppp-fixture$n.pid"))"
}

# ---------------------------------------------------------------- traffic checks (through whatever routes exist)
# fetch_check [URL_HOST [FILE]]: download FILE (default /srv/www/blob; /srv/lan/blob on the LAN host) from host_B
# (or the LAN) over HTTP and cmp it with the original; prints the seconds taken
fetch_check() { local host=${1:-$TOPO_PEER} src=${2:-/srv/www/blob} t0 out=/tmp/fetched.$$; t0=$(now)
  rm -f "$out"
  if ! timeout 300 busybox wget -q -O "$out" "http://$host:$TOPO_HTTP_PORT/$(basename "$src")"; then rm -f "$out"; fail "download from $host failed"; return 1; fi
  if ! cmp -s "$src" "$out"; then rm -f "$out"; fail "download from $host differs from $src"; return 1; fi
  rm -f "$out"; since "$t0"
}
# upload_check: send the blob to host_B's sink, verified by size + sha256; prints the seconds taken
upload_check() { local t0; t0=$(now)
  timeout 300 python3 "$TOPO_GUEST_DIR/netio.py" send "$TOPO_PEER" "$TOPO_UPLOAD_PORT" /srv/www/blob 120 || { fail "upload failed"; return 1; }
  since "$t0"
}

# ---------------------------------------------------------------- teardown of the fixture side
# kill every remaining slirp of hostb (by pid) and its socket; used between phases and at the end
# A slirp that outlives its SIGTERM by 10 s is logged with its state and wait channel, then SIGKILLed: a leftover made
# every later baseline wait 50 s and report null (seen twice at host load 5-25, slirp in a state not yet known).
kill_remote_slirps() { local p s w
  for p in $(pgrep -u hostb -x slirp || true); do kill "$p" 2>/dev/null || true; done
  if ! wait_for 10 "remote slirp gone after SIGTERM" not pgrep -u hostb -x slirp; then
    for p in $(pgrep -u hostb -x slirp || true); do
      s=$(cat "/proc/$p/stat" 2>/dev/null); s=${s##*) }; w=$(cat "/proc/$p/wchan" 2>/dev/null || true)
      log "slirp $p outlived its SIGTERM: state ${s%% *}, wchan ${w:-?}; SIGKILL"; kill -KILL "$p" 2>/dev/null || true
    done
    wait_for 20 "remote slirp gone after SIGKILL" not pgrep -u hostb -x slirp || return 1
  fi
  rm -f /home/hostb/.slirp_socket; }

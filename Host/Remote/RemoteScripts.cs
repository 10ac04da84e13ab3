using System.Text;
using EqlActors.Configuration;
using EqlActors.Host.Linux;

namespace EqlActors.Host.Remote;

/// <summary>
/// The small POSIX sh programs run on host_B. Each is sent as <c>sh -c SCRIPT sh ARG...</c>, every word
/// single-quoted for the remote login shell, so configured values arrive as positional parameters and are
/// never parsed as code. Scripts are one line (no newline inside quotes, which csh-like login shells reject).
/// </summary>
public static class RemoteScripts
{
    /// <summary>The command line for host_B's shell: <c>sh -c SCRIPT sh ARGS...</c>, all quoted.</summary>
    public static string Command(string script, params string[] args) => ShellQuote.Join(["sh", "-c", script, "sh", .. args]);

    /// <summary>
    /// The one kill loop of the remote scripts, a shell function: <c>stop_pids PID...</c> sends SIGTERM, waits up
    /// to 3 s (30 x 0.1 s; whole seconds where sleep takes no fraction) for them to be gone, then SIGKILL.
    /// </summary>
    private const string StopPids =
        "stop_pids() { kill \"$@\" 2>/dev/null; i=0; while [ $i -lt 30 ]; do a=; for q in \"$@\"; do kill -0 \"$q\" 2>/dev/null && a=1; done; " +
        "[ -z \"$a\" ] && return 0; sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; kill -9 \"$@\" 2>/dev/null; return 0; }; ";

    /// <summary>
    /// Kills this user's processes whose command line starts with exactly the configured slirp command
    /// (<c>pgrep -f</c> with an anchored, escaped ERE), SIGTERM then SIGKILL after 3 s; prints how many.
    /// </summary>
    public const string KillStale =
        "command -v pgrep >/dev/null 2>&1 || { echo 'pgrep not found on the remote host' >&2; exit 3; }; " + StopPids +
        "pids=$(pgrep -u \"$(id -u)\" -f -- \"$1\"); n=0; for p in $pids; do n=$((n+1)); done; " +
        "if [ \"$n\" -eq 0 ]; then echo 0; exit 0; fi; stop_pids $pids; echo \"$n\"";

    /// <summary>
    /// Finds slirp, checks it is executable, asks units 1..3 (<c>-l N</c> answering "Unit out of range" means
    /// MAX_INTERFACES = N), and runs the main program for up to 2 s with an empty HOME (so it reads no rc file
    /// and touches no socket): stock bookworm slirp exits at once on its select() bug. With $2 = <c>nounits</c> the
    /// units are not asked (asking is an attach attempt: with links attached a stock slirp answers "Unit already
    /// attached" and locks its attach socket for 10 s). Last, the patched build's feature marker, read with grep.
    /// </summary>
    public const string Probe =
        "s=$1; case $s in */*) p=$s ;; *) p=$(command -v -- \"$s\") || p= ;; esac; " +
        "if [ -z \"$p\" ] || [ ! -e \"$p\" ]; then echo absent; exit 0; fi; " +
        "if [ -d \"$p\" ] || [ ! -x \"$p\" ]; then echo notexec; exit 0; fi; " +
        "t=; command -v timeout >/dev/null 2>&1 && t=timeout; units=4; last=; " +
        "if [ \"$2\" = nounits ]; then echo 'units unknown'; else " +
        "for n in 1 2 3; do if [ -n \"$t\" ]; then out=$(timeout 5 \"$p\" -l \"$n\" </dev/null 2>&1); else out=$(\"$p\" -l \"$n\" </dev/null 2>&1); fi; " +
        "last=$out; case $out in *'out of range'*) units=$n; break ;; esac; done; echo \"units $units\"; fi; " +
        "if [ -n \"$t\" ]; then h=$(mktemp -d) || exit 4; out=$(HOME=$h timeout 2 \"$p\" </dev/null 2>&1); rc=$?; rm -rf \"$h\"; " +
        "echo \"main $rc\"; printf '%s\\n' \"$out\" | head -n 3 | sed 's/^/out /'; else echo 'main skipped'; fi; " +
        "printf '%s\\n' \"$last\" | head -n 3 | sed 's/^/unit /'; " +
        "f=$(LC_ALL=C grep -ao 'eqlactors-slirp-features: [a-z,-]*' \"$p\" 2>/dev/null | head -n 1); echo \"features ${f#eqlactors-slirp-features: }\"";

    /// <summary>
    /// host_B's side of one link, run by the link's own <c>ssh -t</c> so that nothing has to prepare host_B
    /// before the links start. Arguments: $1 slirp, $2 the unit, $3 the MTU, $4 the start's generation (empty on a
    /// restart or after adoption), $5 <see cref="AnchoredPattern"/> of slirp, $6 the TCP attach port (empty for the
    /// unix-socket attach). Writes <c>~/.slirprc-N</c> (and for unit 0 in the unix form <c>~/.slirprc</c>) when
    /// they differ, 0600, renamed into place. On a clean start unit 0 ends the account's stale slirp processes (a
    /// unit held by a dead session refuses every attach) and records the generation; any other unit waits until
    /// that generation's main slirp has made <c>~/.slirp_socket</c> (unlinked and bound anew as it reads
    /// <c>socket</c>, so it is newer than the generation file): without the wait a unit that arrives first fails
    /// "cannot connect to Slirp socket". On a restart (no generation) any unit other than 0 waits, just as bounded
    /// (200 x 0.1 s), until some process listens on <c>~/.slirp_socket</c> (a listening entry with that path in
    /// <c>/proc/net/unix</c>; where there is no such file it does not wait): after the main slirp died every link
    /// restarts at once, unit 0's new slirp makes the socket a moment later, and a unit that tried before it
    /// would fail and wait out a longer backoff. A stale socket file left by the dead slirp has no listener.
    /// slirp writes its PPP on fd 0 and its messages on stderr, which goes to
    /// <c>~/.eqlactors/link-N.err</c> (read back by the diagnosis) instead of into the PPP stream. The TCP
    /// password comes from the 0600 file <c>~/.eqlactors/attach-password</c> through SLIRP_PASSWORD, never argv.
    /// No output on stdout: that is the link. No <c>!</c>: csh-like login shells expand it even in quotes.
    /// </summary>
    public const string LinkWrapper =
        "s=$1; n=$2; g=$4; d=$HOME/.eqlactors; k=$HOME/.slirp_socket; umask 077; mkdir -p \"$d\" || exit 1; e=$d/link-$n.err; " +
        "w() { [ \"$(cat \"$1\" 2>/dev/null)\" = \"$2\" ] || { printf '%s\\n' \"$2\" >\"$1.$$\" && mv -f -- \"$1.$$\" \"$1\"; }; }; " +
        "w \"$HOME/.slirprc-$n\" ppp || exit 1; " +
        "if [ \"$n\" = 0 ]; then " +
        "if [ -z \"$6\" ]; then w \"$HOME/.slirprc\" \"$(printf 'socket\\nmtu %s\\nmru %s' \"$3\" \"$3\")\" || exit 1; fi; " +
        "if [ -n \"$g\" ]; then p=$(pgrep -u \"$(id -u)\" -f -- \"$5\" 2>/dev/null); if [ -n \"$p\" ]; then " + StopPids + "stop_pids $p; fi; " +
        "printf '%s\\n' \"$g\" >\"$d/generation\"; fi; " +
        "elif [ -z \"$6\" ]; then i=0; while [ $i -lt 200 ]; do " +
        "if [ -n \"$g\" ]; then [ \"$(cat \"$d/generation\" 2>/dev/null)\" = \"$g\" ] && [ -S \"$k\" ] && [ \"$k\" -nt \"$d/generation\" ] && break; " +
        "else [ -r /proc/net/unix ] || break; grep -F -- \"$k\" /proc/net/unix 2>/dev/null | { while read -r _ _ _ f _ _ _ p; do " +
        "[ \"$f\" = 00010000 ] && [ \"$p\" = \"$k\" ] && exit 0; done; exit 1; } && break; fi; " +
        "sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; fi; " +
        "if [ -n \"$6\" ] && [ \"$n\" != 0 ]; then SLIRP_PASSWORD=$(cat \"$d/attach-password\") || exit 1; export SLIRP_PASSWORD; " +
        "exec \"$s\" -l \"$n,127.0.0.1:$6,-\" 2>\"$e\"; fi; " +
        "exec \"$s\" -l \"$n\" 2>\"$e\"";

    /// <summary>The first lines slirp (or the wrapper's exec) wrote on stderr in unit $1's last attempt.</summary>
    public const string ReadLinkError = "f=$HOME/.eqlactors/link-$1.err; if [ -f \"$f\" ]; then head -n 20 \"$f\"; fi";

    /// <summary>An ERE that matches a command line starting with exactly <paramref name="command"/> as its first word.</summary>
    public static string AnchoredPattern(string command)
    {
        var sb = new StringBuilder("^");
        foreach (var c in command)
        {
            if (".[]()*+?{}|^$\\".Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append("( |$)").ToString();
    }

    /// <summary><c>~/.slirprc</c>: the socket for attaching units, then MTU and MRU, one option a line.</summary>
    public static string SlirpRc(BundleConfig config)
    {
        var r = config.Remote;
        var socket = r.Attach == SlirpAttach.Tcp ? $"socket {r.TcpPort},{r.TcpPassword}" : "socket";
        return $"{socket}\nmtu {config.Ppp.Mtu}\nmru {config.Ppp.Mtu}\n";
    }

    /// <summary>
    /// Writes files given as pairs of arguments (PATH CONTENT ...) relative to the login directory: each into a
    /// 0600 temporary file beside it, then renamed over it, so slirp never reads half a file.
    /// </summary>
    public const string WriteFiles =
        "umask 077; while [ $# -ge 2 ]; do t=\"$1.eqlactors-$$\"; " +
        "if printf '%s' \"$2\" >\"$t\" && mv -f -- \"$t\" \"$1\"; then shift 2; else rm -f -- \"$t\"; exit 1; fi; done";

    /// <summary>
    /// Writes standard input to the file $1 (relative to the login directory; its folder made 0700 if missing),
    /// 0600, renamed into place: for files that hold the TCP attach password, which must not be an argument.
    /// </summary>
    public const string WriteStdinFile =
        "umask 077; case $1 in */*) mkdir -p -- \"${1%/*}\" || exit 1 ;; esac; t=\"$1.eqlactors-$$\"; " +
        "if cat >\"$t\" && mv -f -- \"$t\" \"$1\"; then exit 0; else rm -f -- \"$t\"; exit 1; fi";

    /// <summary>Where the links' remote side reads the TCP attach password from (see <see cref="LinkWrapper"/>).</summary>
    public const string AttachPasswordFile = ".eqlactors/attach-password";

    /// <summary><c>~/.slirprc-N</c>: unit N speaks PPP.</summary>
    public const string UnitRc = "ppp\n";
}

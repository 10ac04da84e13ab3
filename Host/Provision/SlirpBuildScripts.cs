namespace EqlActors.Host.Provision;

/// <summary>
/// The POSIX sh programs <c>provision --build-slirp</c> runs on host_B, one per step. Like
/// <see cref="Remote.RemoteScripts"/>, each goes out as <c>sh -c SCRIPT sh ARG...</c> with every word quoted,
/// so paths and flags arrive as positional parameters and are never parsed as code; each is one line.
/// </summary>
public static class SlirpBuildScripts
{
    /// <summary>Debian's CFLAGS for slirp (debian/rules): config.h supplies MAX_INTERFACES and FULL_BOLT.</summary>
    public const string CFlags = "-g -O2 -I. -DUSE_PPP -DUSE_MS_DNS -fno-strict-aliasing -Wno-unused -std=gnu89";

    /// <summary>$1: the decompressor the archive needs (or <c>none</c>). Prints the compiler's first line.</summary>
    public const string Tools =
        "m=; for t in cc make tar cksum sed grep find mktemp patch \"$1\"; do [ \"$t\" = none ] && continue; " +
        "command -v \"$t\" >/dev/null 2>&1 || m=\"$m $t\"; done; " +
        "if [ -n \"$m\" ]; then echo \"missing on host_B:$m (install a C compiler and make, e.g. build-essential)\" >&2; exit 3; fi; " +
        "cc --version 2>&1 | head -n 1";

    /// <summary>A private directory under $TMPDIR (or /tmp); prints its path.</summary>
    public const string MakeTemp = "mktemp -d \"${TMPDIR:-/tmp}/eqlactors-slirp.XXXXXX\"";

    /// <summary>
    /// $1 temp dir, $2 decompressor. Unpacks <c>source.archive</c> into <c>src/</c> and prints the directory that
    /// holds <c>ppp/auth.c</c> next to <c>config.h.in</c> or <c>config.h</c> (Debian: <c>slirp-1.0.17/src</c>).
    /// </summary>
    public const string Unpack =
        "cd \"$1\" && mkdir src || exit 1; " +
        "if [ \"$2\" = none ]; then (cd src && tar -xf ../source.archive) || exit 1; " +
        "else \"$2\" -dc source.archive | (cd src && tar -xf -) || exit 1; fi; " +
        "f=$(find src -type f -path '*/ppp/auth.c' | sort | head -n 1); " +
        "if [ -z \"$f\" ]; then echo 'no ppp/auth.c in the archive: not a slirp source tree' >&2; exit 4; fi; " +
        "d=${f%/ppp/auth.c}; " +
        "if [ ! -f \"$d/config.h.in\" ] && [ ! -f \"$d/config.h\" ]; then echo \"no config.h.in or config.h in $d: not slirp's source layout\" >&2; exit 4; fi; " +
        "printf '%s\\n' \"$d\"";

    /// <summary>
    /// $1 source dir. In config.h.in and config.h (whichever exist), as the HOWTO says: <c>#define FULL_BOLT yes</c>,
    /// <c>#define MAX_INTERFACES 4</c>, <c>#define MAX_PPP_INTERFACES 4</c>. Prints each file changed; fails when a
    /// header has no MAX_INTERFACES define to change.
    /// </summary>
    public const string Defines =
        "cd \"$1\" || exit 1; n=0; for f in config.h.in config.h; do [ -f \"$f\" ] || continue; n=$((n+1)); " +
        "sed -e 's/^#[[:space:]]*define[[:space:]][[:space:]]*MAX_INTERFACES[[:space:]].*/#define MAX_INTERFACES 4/' " +
        "-e 's/^#[[:space:]]*define[[:space:]][[:space:]]*MAX_PPP_INTERFACES[[:space:]].*/#define MAX_PPP_INTERFACES 4/' " +
        "-e 's/^#[[:space:]]*undef[[:space:]][[:space:]]*FULL_BOLT.*/#define FULL_BOLT yes/' " +
        "-e 's|^/[*][[:space:]]*#[[:space:]]*undef[[:space:]][[:space:]]*FULL_BOLT.*|#define FULL_BOLT yes|' " +
        "-e 's/^#[[:space:]]*define[[:space:]][[:space:]]*FULL_BOLT.*/#define FULL_BOLT yes/' " +
        "\"$f\" > \"$f.eqlactors\" && mv \"$f.eqlactors\" \"$f\" || exit 1; " +
        "grep -q '^#define FULL_BOLT yes$' \"$f\" || printf '%s\\n' '#define FULL_BOLT yes' >> \"$f\"; " +
        "for k in MAX_INTERFACES MAX_PPP_INTERFACES; do grep -q \"^#define $k 4\\$\" \"$f\" || " +
        "{ echo \"$f has no '#define $k': not slirp's config header\" >&2; exit 5; }; done; echo \"$f\"; done; " +
        "[ \"$n\" -gt 0 ] || { echo 'no config.h.in or config.h' >&2; exit 5; }";

    /// <summary>
    /// $1 source dir. slirp's <c>link_down(unit)</c> in <c>ppp/auth.c</c> closes IPCP/CCP of unit 0 whatever unit
    /// went down; within that function only, <c>ipcp_close(0)</c>/<c>ccp_close(0)</c> become <c>(unit)</c>.
    /// Prints <c>applied</c>, <c>already-fixed</c> or <c>not-found</c> (source left as it was).
    /// </summary>
    public const string LinkDownFix =
        "f=\"$1/ppp/auth.c\"; r='/^\\([A-Za-z_][A-Za-z_ ]* \\)\\{0,1\\}link_down[[:space:]]*(/,/^}/'; " +
        "body=$(sed -n \"${r}p\" \"$f\") || exit 1; " +
        "case $body in *'ipcp_close(0)'*|*'ccp_close(0)'*) " +
        "sed \"${r}{s/ipcp_close(0)/ipcp_close(unit)/;s/ccp_close(0)/ccp_close(unit)/;}\" \"$f\" > \"$f.eqlactors\" && mv \"$f.eqlactors\" \"$f\" || exit 1; " +
        "case $(sed -n \"${r}p\" \"$f\") in *'_close(0)'*) echo 'link_down() still closes unit 0 after the edit' >&2; exit 6 ;; esac; echo applied ;; " +
        "*'ipcp_close(unit)'*) echo already-fixed ;; *) echo not-found ;; esac";

    /// <summary>
    /// $1 source dir, $2 directory of the uploaded patches. Applies each <c>*.patch</c> in name order with
    /// <c>patch -p1 -F0</c> (exact context, offsets allowed) after a dry run, so a patch that does not fit this
    /// source is left out whole. Prints <c>applied NAME</c> or <c>skipped NAME: REASON</c> per patch.
    /// </summary>
    public const string ApplyPatches =
        "cd \"$1\" || exit 1; for p in \"$2\"/*.patch; do [ -f \"$p\" ] || continue; n=$(basename \"$p\"); " +
        "if out=$(patch -p1 -F0 --forward --batch --dry-run -i \"$p\" 2>&1); then " +
        "patch -p1 -F0 --forward --batch -s -i \"$p\" || { echo \"$n applied partly after a clean dry run\" >&2; exit 6; }; echo \"applied $n\"; " +
        "else echo \"skipped $n: $(printf '%s' \"$out\" | grep -v '^patching file' | head -n 1)\"; fi; done";

    /// <summary>$1 source dir, $2 the feature list: writes <c>eqlactors-features.h</c>, which the marker patch includes.</summary>
    public const string WriteFeatures =
        "case $2 in *[!a-z,-]*) echo 'bad feature list' >&2; exit 6 ;; esac; " +
        "printf '#define EQLACTORS_SLIRP_FEATURES \"%s\"\\n' \"$2\" > \"$1/eqlactors-features.h\" && echo \"$2\"";

    /// <summary>$1 temp dir, $2 source dir: <c>./configure</c> when there is one (as Debian's build does), log in <c>$1/build.log</c>.</summary>
    public const string Configure =
        "cd \"$2\" || exit 1; if [ -f configure ]; then sh ./configure > \"$1/build.log\" 2>&1; rc=$?; " +
        "if [ $rc -ne 0 ]; then echo \"configure failed (exit $rc); the end of its log:\" >&2; tail -n 30 \"$1/build.log\" >&2; exit 7; fi; echo configured; " +
        "else : > \"$1/build.log\"; echo 'no configure script: the Makefile is used as it is'; fi";

    /// <summary>$1 temp dir, $2 source dir, $3 CFLAGS: <c>make</c>, appending to the log; its tail on failure.</summary>
    public const string Make =
        "cd \"$2\" || exit 1; make CFLAGS=\"$3\" PPPCFLAGS=\"$3\" >> \"$1/build.log\" 2>&1; rc=$?; " +
        "if [ $rc -ne 0 ]; then echo \"make failed (exit $rc); the end of the build log:\" >&2; tail -n 40 \"$1/build.log\" >&2; exit 8; fi; " +
        "if [ ! -f slirp ] || [ ! -x slirp ]; then echo 'make succeeded but left no executable slirp' >&2; exit 8; fi; " +
        "echo \"$(grep -c 'warning:' \"$1/build.log\") compiler warnings\"";

    /// <summary>
    /// $1 source dir, $2 destination (relative to home or absolute), $3 the build record without its checksum.
    /// Copies next to the destination and renames over it (a running slirp keeps its old inode), then writes
    /// the record with the new binary's <c>cksum</c>; prints the checksum.
    /// </summary>
    public const string Install =
        "d=$(dirname -- \"$2\") && mkdir -p -- \"$d\" || exit 1; " +
        "cp \"$1/slirp\" \"$2.eqlactors-new\" && chmod 755 \"$2.eqlactors-new\" && mv -f \"$2.eqlactors-new\" \"$2\" || exit 1; " +
        "c=$(cksum < \"$2\") || exit 1; printf '%sbinary_cksum=%s\\n' \"$3\" \"$c\" > \"$2" + SlirpBuildMarker.Suffix + "\" || exit 1; echo \"$c\"";

    /// <summary>$1 temp dir: removed, but only if it is one of ours.</summary>
    public const string Cleanup =
        "case $1 in */eqlactors-slirp.*) rm -rf -- \"$1\" ;; *) echo \"refusing to remove $1\" >&2; exit 1 ;; esac";
}

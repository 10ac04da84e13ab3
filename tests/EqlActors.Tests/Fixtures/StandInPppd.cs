namespace EqlActors.Tests.Fixtures;

/// <summary>Pieces of the shell scripts that stand in for pppd in tests of the real pppd adapter.</summary>
internal static class StandInPppd
{
    /// <summary>
    /// The script's first lines: the shebang, then <c>rundir</c> (from the test's <c>standin-rundir=DIR</c> word)
    /// and <c>linkname</c> (pppd's own option) read from the argv the adapter built.
    /// </summary>
    public const string ReadArgs = """
        #!/bin/sh
        rundir=; linkname=; prev=
        for a in "$@"; do
          case "$a" in standin-rundir=*) rundir=${a#standin-rundir=} ;; esac
          [ "$prev" = linkname ] && linkname=$a
          prev=$a
        done

        """;
}

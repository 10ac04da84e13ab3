namespace EqlActors.Host.Cli;

/// <summary>
/// The exit codes of every <c>eqlactors</c> verb: the one table, which docs/operations.md's "Exit codes" section
/// must list (a test compares them). A verb's --help names the codes it uses.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NoDaemon = 3;
    public const int PermissionDenied = 4;
    public const int WrongDaemon = 5;
    public const int NotImplemented = 70;

    public static readonly IReadOnlyList<(int Code, string Meaning)> Table =
    [
        (Ok, "success; for `status`: every configured link enslaved (\"EQL up\")"),
        (Failed, "failed; for `status`: a daemon answers but not every link is enslaved (\"EQL down\")"),
        (Usage, "invalid configuration or arguments (an unknown verb or option, a malformed value): nothing was started"),
        (NoDaemon, "no daemon answers on the control socket"),
        (PermissionDenied, "permission denied: run as root"),
        (WrongDaemon, "the daemon that answers is not the one asked for: its socket is served by a user who is neither root nor you, or it is simulated and a real one was asked for (or the reverse)"),
        (NotImplemented, "the verb is not implemented yet"),
    ];
}

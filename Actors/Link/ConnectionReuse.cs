using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>
/// Whether a failed attempt's ssh master connection is kept for the next attempt (<c>remote.reuseConnection</c>;
/// docs/facts.md, "One ssh connection per link"). Kept only when the path is known good: the link was up and what
/// ended it was the remote end (slirp, its unit, the session: pppd's "Modem hangup") or pppd itself (killed, exited);
/// a new session over the kept connection then costs no key exchange and no jump host. Anything that may implicate
/// the path (LCP echo or ssh keepalive timeouts, the end-to-end probe, a refused or lost connection, authentication,
/// a host key, a link that never came up) ends the master: the next attempt connects afresh.
/// </summary>
public static class ConnectionReuse
{
    /// <summary>The classes that say the remote end or pppd ended a working link, not the path.</summary>
    public static readonly IReadOnlySet<string> KeepingClasses = new HashSet<string>
    {
        FailureClass.Hangup,
        FailureClass.PppdExit,
        FailureClass.Signal,
    };

    public static bool Keeps(bool wasUp, string failureClass, bool permanent) =>
        wasUp && !permanent && KeepingClasses.Contains(failureClass);
}

using EqlActors.Messages;

namespace EqlActors.Actors;

/// <summary>What becomes of a failed attempt's ssh master connection.</summary>
public enum ConnectionFate
{
    /// <summary>Ended: the next attempt connects afresh (key exchanges at every hop).</summary>
    End,
    /// <summary>Kept for the next attempt, which opens a session over it.</summary>
    Keep,
    /// <summary>Kept only if the master answers a bounded check (<see cref="ConnectionReuse.CheckTimeout"/>), else ended.</summary>
    KeepIfItAnswers,
}

/// <summary>
/// Whether a failed attempt's ssh master connection is kept for the next attempt (<c>remote.reuseConnection</c>;
/// docs/facts.md, "One ssh connection per link"). Kept only when the path is not implicated: the link was up and what
/// ended it was the remote end (slirp, its unit, the session: pppd's "Modem hangup") or pppd itself (killed, exited);
/// a new session over the kept connection then costs no key exchange and no jump host. Anything that implicates
/// the path (LCP echo or ssh keepalive timeouts, the end-to-end probe, a refused or lost connection, authentication,
/// a host key, a link that never came up) ends the master: the next attempt connects afresh.
/// An interface that went down while pppd kept running (<see cref="FailureClass.InterfaceDown"/>) names no culprit:
/// for an adopted pppd, whose output nobody reads, it is what the remote end's death looks like (slirp killed: pppd's
/// "Modem hangup" unseen); for a pppd of ours it is an interface set down by hand. A frozen path would have said
/// "No response to echo-requests" to a pppd of ours, but not to an adopted one. So the master is kept if it answers
/// a bounded check: a dead or stopped master is ended at once; a live master whose path froze costs at most the next
/// attempt, which then fails before it comes up and ends the connection.
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

    /// <summary>The classes that name no culprit: the master is asked whether it still answers.</summary>
    public static readonly IReadOnlySet<string> CheckingClasses = new HashSet<string>
    {
        FailureClass.InterfaceDown,
    };

    /// <summary>
    /// How long the master has to answer the alive check of <c>ssh -O check</c>: on the critical path of the restart,
    /// so short, but ample for a master that runs (it answers from its own event loop, no round trip to host_B).
    /// </summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    /// <param name="adopted">
    /// The pppd was adopted from an earlier daemon: its words were never read and its exit status is unknown, so even a
    /// keeping class (its exit) is only checked, never taken on trust.
    /// </param>
    public static ConnectionFate Decide(bool wasUp, string failureClass, bool permanent, bool adopted = false)
    {
        if (!wasUp || permanent) return ConnectionFate.End;
        if (KeepingClasses.Contains(failureClass)) return adopted ? ConnectionFate.KeepIfItAnswers : ConnectionFate.Keep;
        return CheckingClasses.Contains(failureClass) ? ConnectionFate.KeepIfItAnswers : ConnectionFate.End;
    }
}

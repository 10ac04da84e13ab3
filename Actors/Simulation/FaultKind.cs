namespace EqlActors.Simulation;

/// <summary>Every fault the simulated world can inject; the runner draws from all of them.</summary>
public enum FaultKind
{
    /// <summary>pppd killed by a signal (exit 5); its ssh survives and keeps the remote unit attached.</summary>
    PppdKilled,
    /// <summary>pppd exits 8 (connect failed), and so does its next start.</summary>
    PppdConnectFailed,
    /// <summary>pppd exits 9 (pty command failed), and so does its next start.</summary>
    PppdPtyFailed,
    /// <summary>pppd exits 10 (negotiation failed), and so does its next start.</summary>
    PppdNegotiationFailed,
    /// <summary>pppd exits 15 (LCP echo timeout); ssh hangs on and keeps the unit.</summary>
    PppdLcpTimeout,
    /// <summary>pppd exits 16 (hangup) because slirp's side of the pty went.</summary>
    PppdHangup,
    /// <summary>The ssh connection of one link drops.</summary>
    SshDropped,
    /// <summary>The remote slirp is killed: every link at once.</summary>
    RemoteSlirpKilled,
    /// <summary>A link's interface goes down while its pppd keeps running.</summary>
    LinkDownPppdAlive,
    /// <summary>Someone deletes one of the managed routes.</summary>
    RouteDeleted,
    /// <summary>The eql master goes down (which releases every slave and flushes its routes).</summary>
    EqlMasterDown,
    /// <summary>rmmod eql: master, slaves and routes gone.</summary>
    EqlModuleUnloaded,
    /// <summary>A slave stays enslaved and up but stops carrying upload (its driver queue counter stuck high).</summary>
    SlaveStalled,
    /// <summary>host_B unreachable for a while: links die of LCP echo timeouts, attaches fail, sessions linger.</summary>
    RemoteUnreachable,
    /// <summary>host_B refuses our key: permanent until the configuration is fixed and the link explicitly restarted.</summary>
    AuthenticationRefused,
}

/// <summary>
/// Conditions only the daemon's <c>simulate-fault</c> request sets, on top of <see cref="FaultKind"/> (the runner
/// never draws them): the operator's fix, and the faults of the health probe and watchdog tests. Applied by
/// <see cref="SimulatedSystem.Apply"/>; the request accepts exactly the names of both enums.
/// </summary>
public enum SimulatedCondition
{
    /// <summary>The operator's fix for <see cref="FaultKind.AuthenticationRefused"/>: host_B takes the key again.</summary>
    AuthenticationAccepted,
    /// <summary>The link keeps passing LCP (pppd sees nothing wrong) but drops everything else.</summary>
    LinkDropsTraffic,
    /// <summary>host_B can no longer reach its LAN (the remote LAN probe fails).</summary>
    RemoteLanUnreachable,
    /// <summary>host_B reaches its LAN again.</summary>
    RemoteLanReachable,
    /// <summary>The eql actor's next kernel query never returns, for good: the watchdog must stop.</summary>
    WedgeActors,
}

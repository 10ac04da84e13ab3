namespace EqlActors.Messages;

// Commands (from the bundle)
public sealed record StartEql;
/// <summary>Stop enslaving and release every slave; the master stays until <see cref="RemoveEqlMaster"/>.</summary>
public sealed record ReleaseSlaves;
public sealed record SlavesReleased(int Count);
public sealed record RemoveEqlMaster;
public sealed record EqlMasterRemoved;

// Events
public sealed record EqlMasterUp(string Bundle, string Device, bool Restored, DateTimeOffset At) : IBundleEvent;
public sealed record EqlMasterLost(string Bundle, string Device, string Reason, DateTimeOffset At) : IBundleEvent;
public sealed record SlaveEnslaved(string Bundle, int Link, string Interface, long Priority, DateTimeOffset At) : IBundleEvent;
public sealed record SlaveReleased(string Bundle, int Link, string Interface, DateTimeOffset At) : IBundleEvent;
/// <summary>Upload shares over the last window strayed from equal by more than the tolerance.</summary>
public sealed record UploadImbalanced(string Bundle, IReadOnlyDictionary<string, double> Shares, DateTimeOffset At) : IBundleEvent;
/// <summary>Every slave was re-enslaved so that the driver's per-slave queues start equal again.</summary>
public sealed record UploadRebalanced(string Bundle, int Slaves, DateTimeOffset At) : IBundleEvent;

/// <summary>What the EQL actor last observed: sent to the bundle after every reconciliation.</summary>
public sealed record EqlObserved(
    bool MasterUp,
    IReadOnlyDictionary<int, string> Enslaved,
    IReadOnlyDictionary<string, long> TxBytes,
    IReadOnlyDictionary<string, double> Shares);

using EqlActors.Configuration;

namespace EqlActors.Host.Doctor;

/// <summary>How one finding affects a start: only <see cref="Failure"/> blocks it.</summary>
public enum CheckStatus
{
    /// <summary>✓ fine.</summary>
    Ok,
    /// <summary>! works, but worth fixing (does not block a start).</summary>
    Warning,
    /// <summary>✗ blocks a start.</summary>
    Failure,
    /// <summary>- not run because an earlier finding makes it meaningless (the earlier one says why).</summary>
    Skipped,
}

/// <summary>One line of the checklist. <see cref="Fix"/> says what to do when the status is not <see cref="CheckStatus.Ok"/>.</summary>
public sealed record CheckResult(string Id, string Title, CheckStatus Status, string Detail, string? Fix = null)
{
    public static CheckResult Ok(string id, string title, string detail) => new(id, title, CheckStatus.Ok, detail);
    public static CheckResult Warn(string id, string title, string detail, string fix) => new(id, title, CheckStatus.Warning, detail, fix);
    public static CheckResult Fail(string id, string title, string detail, string fix) => new(id, title, CheckStatus.Failure, detail, fix);
    public static CheckResult Skip(string id, string title, string detail) => new(id, title, CheckStatus.Skipped, detail);
}

/// <summary>
/// One prerequisite of a real bundle. Checks are small and independent; the few that depend on an earlier
/// one (the remote checks need a working ssh path) read what it left in <see cref="DoctorContext"/>.
/// </summary>
public interface IDoctorCheck
{
    /// <summary>Most checks give one result; the ssh check gives one per hop.</summary>
    Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext context, CancellationToken ct);
}

/// <summary>What the checks see: the configuration, the two OS seams, and findings earlier checks share.</summary>
public sealed class DoctorContext(BundleConfig config, ILocalSystem local, IRemoteInspector remote)
{
    public BundleConfig Config { get; } = config;
    public ILocalSystem Local { get; } = local;
    public IRemoteInspector Remote { get; } = remote;

    /// <summary>Set by the ssh check: every hop and host_B accepted us, so remote checks can run.</summary>
    public bool RemoteReachable { get; set; }

    /// <summary>Why the remote checks are skipped, when they are.</summary>
    public string RemoteSkipReason { get; set; } = "host_B was not reached";

    /// <summary>The MTU and MRU found in host_B's <c>~/.slirprc</c> (null when absent or not read).</summary>
    public int? RemoteRcMtu { get; set; }
    public int? RemoteRcMru { get; set; }
}

/// <summary>All results, in check order.</summary>
public sealed record DoctorReport(IReadOnlyList<CheckResult> Results)
{
    public bool Blocked => Results.Any(r => r.Status == CheckStatus.Failure);
    public int Count(CheckStatus status) => Results.Count(r => r.Status == status);
}

using System.Globalization;

namespace EqlActors.Messages;

/// <summary>
/// The one table of how each bundle event reads: its kind (the control protocol's <c>event.kind</c>, listed in
/// docs/operations.md), the link and interface it concerns, and one human line. The daemon's event lines and the
/// simulate verb's timeline both print from it.
/// </summary>
public static class BundleEventLines
{
    public sealed record Line(string Kind, int? Link, string? Interface, string Text);

    public static Line Of(IBundleEvent e) => e switch
    {
        BundleStarting => new("bundle-starting", null, null, "bundle starting"),
        RemotePrepared x => new("remote-prepared", null, null, $"host_B prepared ({x.StaleKilled} stale slirp killed)"),
        RemotePreparationFailed x => new("remote-preparation-failed", null, null, $"host_B preparation failed{(x.Permanent ? " (permanent)" : "")}: {x.Reason}"),
        LinkAdopted x => new("link-adopted", x.Link, x.Interface, $"link {x.Link} adopted (pppd {x.Pid}{(x.Interface is null ? "" : " on " + x.Interface)})"),
        LinkStarting x => new("link-starting", x.Link, null, $"link {x.Link} starting (pppd {x.Pid})"),
        LinkUp x => new("link-up", x.Link, x.Interface, $"link {x.Link} up on {x.Interface}"),
        LinkDown x => new("link-down", x.Link, null, $"link {x.Link} down{(x.Permanent ? " (permanent)" : "")}: {x.Reason}"),
        LinkDiagnosed x => new("link-diagnosed", x.Link, null, $"link {x.Link}: host_B says ({x.Class}{(x.Permanent ? ", permanent" : "")}): {x.Reason}"),
        LinkParked x => new("link-parked", x.Link, null, $"link {x.Link} parked: {x.Reason}"),
        LinkStopped x => new("link-stopped", x.Link, null, $"link {x.Link} stopped"),
        EqlMasterUp x => new("eql-master-up", null, x.Device, $"{x.Device} master up{(x.Restored ? " (restored)" : "")}"),
        EqlMasterLost x => new("eql-master-lost", null, x.Device, $"{x.Device} master lost: {x.Reason}"),
        SlaveEnslaved x => new("link-enslaved", x.Link, x.Interface, $"link {x.Link} enslaved ({x.Interface}, priority {x.Priority})"),
        SlaveReleased x => new("link-released", x.Link, x.Interface, $"link {x.Link} released ({x.Interface})"),
        UploadImbalanced x => new("upload-imbalanced", null, null,
            "upload imbalanced: " + string.Join(", ", x.Shares.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value.ToString("P0", CultureInfo.InvariantCulture)}"))),
        UploadRebalanced x => new("upload-rebalanced", null, null, $"upload rebalanced over {x.Slaves} slaves"),
        RouteAdded x => new("route-added", null, x.Route.Device, $"route {x.Route} {(x.Restored ? "restored" : "added")}"),
        SysctlSet x => new("sysctl-set", null, null, $"{x.Key} = {x.Value}"),
        BundleReady => new("bundle-ready", null, null, "EQL ready"),
        BundleDegraded x => new("bundle-degraded", null, null, $"EQL degraded: {x.Reason}"),
        BundleRecovered x => new("bundle-recovered", null, null, $"EQL recovered after {x.Took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"),
        LinkProbeFailed x => new("link-probe-failed", x.Link, null, $"link {x.Link} end-to-end probe failed ({x.Failures} in a row): {x.Reason}"),
        RemoteLanUnreachable x => new("remote-lan-unreachable", null, null, $"remote LAN target {x.Target} unreachable from host_B: {x.Reason}"),
        BundleStopped x => new("bundle-stopped", null, null, StoppedMessage(x)),
        _ => new(e.GetType().Name, null, null, e.GetType().Name),
    };

    public static string StoppedMessage(BundleStopped stopped) => stopped.LinksNotStopped.Count == 0
        ? "EQL stopped"
        : $"EQL stopped, but links {string.Join(",", stopped.LinksNotStopped)} did not confirm their stop: their pppd may still run";
}

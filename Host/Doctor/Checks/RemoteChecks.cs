using System.Globalization;
using EqlActors.Configuration;
using EqlActors.Host.Provision;
using EqlActors.Host.Remote;
using EqlActors.Ports;
using Renci.SshNet.Common;

namespace EqlActors.Host.Doctor.Checks;

/// <summary>
/// Each jump host, then host_B: reachable and accepting the key (SSH.NET, host keys checked against known_hosts).
/// One result per hop, in order; the first failure names its hop and the rest are skipped.
/// </summary>
public sealed class SshHopsCheck : IDoctorCheck
{
    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        var r = c.Config.Remote;
        var jumps = r.JumpHosts.IsDefault ? [] : r.JumpHosts;
        var all = jumps.Select((h, i) => (Id: $"ssh.jump{i + 1}", Title: $"jump host {i + 1}/{jumps.Length} {h}", Endpoint: h))
            .Append((Id: "ssh.host_b", Title: $"host_B {r.Account}", Endpoint: r.Account)).ToList();
        var walked = await c.Remote.WalkHopsAsync(ct).ConfigureAwait(false);
        var results = new List<CheckResult>();
        for (var i = 0; i < all.Count; i++)
        {
            var (id, title, endpoint) = all[i];
            if (i < walked.Count && walked[i].Error is null)
                results.Add(CheckResult.Ok(id, title, i == all.Count - 1 ? "reached, key accepted, commands run" : "reached, key accepted"));
            else if (i < walked.Count)
            {
                var failed = walked[i].Error!;
                var previous = i == 0 ? "host_A" : all[i - 1].Endpoint.ToString();
                results.Add(CheckResult.Fail(id, title, $"{Kind(failed)}: {failed.Message}", Fix(failed, endpoint, previous, c.Config.Remote)));
                c.RemoteSkipReason = $"{title} failed";
            }
            else results.Add(CheckResult.Skip(id, title, $"not tried: {c.RemoteSkipReason}"));
        }
        c.RemoteReachable = walked.Count == all.Count && walked.All(w => w.Error is null);
        return results;
    }

    private static string Kind(PortException e) => e.Kind == FailureKind.Permanent ? "permanent" : "transient";

    private static string Fix(PortException e, SshEndpoint hop, string previous, RemoteConfig r)
    {
        var name = KnownHosts.HostName(hop.Host, hop.Port);
        if (e.Message.Contains("host key of", StringComparison.Ordinal))
            return e.Message.Contains("CHANGED", StringComparison.Ordinal)
                ? $"find out why {name}'s key changed; only if it was really re-keyed: ssh-keygen -R '{name}' -f {r.KnownHostsFile} and add the new key"
                : $"verify the fingerprint shown with {name}'s administrator, then add its key to {r.KnownHostsFile} (or set remote.acceptNewHostKeys=true once)";
        if (e.Message.StartsWith("identity file", StringComparison.Ordinal)) return "see the ssh identity file check above";
        if (e.InnerException is SshAuthenticationException)
            return $"append {r.IdentityFile}.pub to ~{hop.User}/.ssh/authorized_keys on {hop.Host} (mode 0600, ~/.ssh 0700, owned by {hop.User})";
        return $"check that {hop.Host} port {hop.Port.ToString(CultureInfo.InvariantCulture)} is reachable from {previous} (name, firewall, sshd running{(previous == "host_A" ? "" : ", AllowTcpForwarding on the previous hop")})";
    }
}

/// <summary>
/// The remote slirp: present, executable, enough units for the configured links (<c>-l N</c> answering "Unit out of
/// range" gives MAX_INTERFACES), and not the stock bookworm build that exits at once on its select() bug.
/// A second result says whether its <c>link_down()</c> is known to be fixed (see <see cref="SlirpBuildMarker"/>), a
/// third which of the patched build's features it has (<see cref="SlirpPatches.Features"/>, as named in the binary)
/// and what it misses.
/// </summary>
public sealed class SlirpCheck : IDoctorCheck
{
    public const string Id = "slirp", BuildId = "slirp.link_down", FeaturesId = "slirp.features";
    private const string FeaturesTitle = "slirp build features";

    public static string ProvisionFix(BundleConfig config) =>
        $"eqlactors provision --build-slirp SOURCE.tar.gz (Debian's slirp source with its patches, see docs/troubleshooting.md) builds a multi-unit slirp into {config.Remote.SlirpCommand}";

    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        var slirp = c.Config.Remote.SlirpCommand;
        var title = $"remote slirp ({slirp})";
        const string buildTitle = "slirp link_down() fix";
        if (!c.RemoteReachable)
            return [CheckResult.Skip(Id, title, $"not tried: {c.RemoteSkipReason}"), CheckResult.Skip(BuildId, buildTitle, $"not tried: {c.RemoteSkipReason}"),
                    CheckResult.Skip(FeaturesId, FeaturesTitle, $"not tried: {c.RemoteSkipReason}")];
        var links = c.Config.EffectiveLinks;
        var needed = links.Max() + 1;
        var fix = ProvisionFix(c.Config);
        var p = await c.Remote.ProbeSlirpAsync(ct).ConfigureAwait(false);
        if (!p.Present) return [CheckResult.Fail(Id, title, $"{slirp} not found on host_B", fix)];
        if (!p.Executable) return [CheckResult.Fail(Id, title, $"{slirp} exists on host_B but is not executable", $"chmod 755 {slirp} on host_B, or {fix}")];
        if (p.Units < needed)
        {
            var what = p.Units == 1
                ? "single-unit build (MAX_INTERFACES=1, like Debian's stock slirp): `slirp -l 1` answers \"Unit out of range\", it cannot bundle; needs MAX_INTERFACES=4"
                : $"{p.Units} units (MAX_INTERFACES={p.Units}); links {string.Join(",", links)} need {needed}";
            return [CheckResult.Fail(Id, title, what, fix), CheckResult.Skip(BuildId, buildTitle, "no multi-unit slirp"), CheckResult.Skip(FeaturesId, FeaturesTitle, "no multi-unit slirp")];
        }
        var results = new List<CheckResult>();
        results.Add(p.SelectBug
            ? CheckResult.Fail(Id, title, p.Detail, fix + (links.Length == 1 ? "; for a single link Debian's slirp-fullbolt also works" : ""))
            : CheckResult.Ok(Id, title, p.Detail));
        var rec = await c.Remote.ReadBuildRecordAsync(ct).ConfigureAwait(false);
        results.Add(links.Length == 1
            ? CheckResult.Ok(BuildId, buildTitle, "single link: slirp's link_down() bug (it closes unit 0) cannot hurt another link")
            : LinkDown(rec, buildTitle, fix));
        results.Add(Features(rec?.Features, fix));
        return results;
    }

    /// <summary>What the binary's own feature marker says it has, and what a build without each feature misses.</summary>
    public static CheckResult Features(IReadOnlyList<string>? has, string fix)
    {
        string Missing(IEnumerable<SlirpFeature> fs) => string.Join("; ", fs.Select(f => $"{f.Word}: {f.StockMisses}"));
        if (has is null)
            return CheckResult.Warn(FeaturesId, FeaturesTitle,
                $"stock build (no \"{SlirpPatches.MarkerPrefix.TrimEnd()}\" marker): bundling works, but it misses {Missing(SlirpPatches.Features)}", fix);
        var missing = SlirpPatches.Features.Where(f => !has.Contains(f.Word)).ToList();
        var present = string.Join(", ", SlirpPatches.Features.Where(f => has.Contains(f.Word)).Select(f => f.Word));
        return missing.Count == 0
            ? CheckResult.Ok(FeaturesId, FeaturesTitle, $"patched build: {present}")
            : CheckResult.Warn(FeaturesId, FeaturesTitle, $"patched build with {(present.Length == 0 ? "no feature" : present)}; it misses {Missing(missing)}", fix);
    }

    private static CheckResult LinkDown(RemoteBuildRecord? rec, string title, string fix)
    {
        const string unfixed = "unfixed, any link going down takes unit 0 (link 0) down with it; the service heals that, at the cost of a restart of link 0";
        if (rec?.Marker is null && rec?.Features is { } f && f.Contains("link-down-fix"))
            return CheckResult.Ok(BuildId, title, "the binary names its patches: link_down() closes its own unit (link-down-fix)");
        if (rec?.Marker is not { } m)
            return CheckResult.Warn(BuildId, title, $"multi-unit slirp of unknown origin (no {SlirpBuildMarker.Suffix} record next to it): the binary cannot show whether link_down() closes its own unit; {unfixed}", fix);
        if (m.BinaryCksum != rec.CurrentCksum)
            return CheckResult.Warn(BuildId, title, $"the binary changed since eqlactors built it on {m.Built:yyyy-MM-dd} (cksum differs from its record): link_down() unknown; {unfixed}", fix);
        return m.LinkDown switch
        {
            LinkDownFix.NotFound => CheckResult.Warn(BuildId, title, $"built by eqlactors on {m.Built:yyyy-MM-dd} from {m.Source}, but link_down() was not in the expected form and was left as it was; {unfixed}",
                "check ppp/auth.c of the source: link_down() should call ipcp_close(unit) and ccp_close(unit)"),
            _ => CheckResult.Ok(BuildId, title, $"built by eqlactors on {m.Built:yyyy-MM-dd} from {m.Source}: MAX_INTERFACES={m.MaxInterfaces}, FULL_BOLT, link_down() closes its own unit ({SlirpBuildMarker.Name(m.LinkDown)})"),
        };
    }
}

/// <summary><c>~/.slirprc</c> (socket, mtu, mru) and <c>~/.slirprc-N</c> (ppp) on host_B, as <c>eqlactors provision</c> writes them.</summary>
public sealed class RcFilesCheck : IDoctorCheck
{
    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "slirp.rc", title = "slirp rc files on host_B";
        if (!c.RemoteReachable) return [CheckResult.Skip(id, title, $"not tried: {c.RemoteSkipReason}")];
        var links = c.Config.EffectiveLinks;
        var names = links.Select(l => $".slirprc-{l.ToString(CultureInfo.InvariantCulture)}").Prepend(".slirprc").ToList();
        var files = await c.Remote.ReadFilesAsync(names, ct).ConfigureAwait(false);
        var problems = new List<string>();

        if (files[".slirprc"] is not { } main) problems.Add("~/.slirprc is missing");
        else
        {
            var lines = Options(main);
            var r = c.Config.Remote;
            var socket = lines.FirstOrDefault(l => l == "socket" || l.StartsWith("socket ", StringComparison.Ordinal));
            // The TCP form carries a password: compare it, never print it.
            var want = r.Attach == SlirpAttach.Tcp ? $"socket {r.TcpPort},{r.TcpPassword}" : "socket";
            if (socket is null) problems.Add("~/.slirprc has no socket line (units cannot attach)");
            else if (socket != want) problems.Add(r.Attach == SlirpAttach.Tcp ? "~/.slirprc's socket line is not the configured port and password" : "~/.slirprc's socket line is not the plain `socket` of the unix attach form");
            c.RemoteRcMtu = Number(lines, "mtu");
            c.RemoteRcMru = Number(lines, "mru");
            if (c.RemoteRcMtu is null) problems.Add("~/.slirprc sets no mtu");
            if (c.RemoteRcMru is null) problems.Add("~/.slirprc sets no mru");
        }
        foreach (var n in names.Skip(1))
        {
            if (files[n] is not { } unit) problems.Add($"~/{n} is missing");
            else if (!Options(unit).Contains("ppp")) problems.Add($"~/{n} does not say ppp");
        }
        IReadOnlyList<CheckResult> result = [problems.Count == 0
            ? CheckResult.Ok(id, title, $"{string.Join(", ", names.Select(n => "~/" + n))} as expected")
            : CheckResult.Warn(id, title, string.Join("; ", problems) + " (the service rewrites them before its first start)",
                "eqlactors provision (writes ~/.slirprc and ~/.slirprc-N now)")];
        return result;
    }

    private static List<string> Options(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').Select(l => string.Join(' ', l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))).ToList();

    private static int? Number(List<string> lines, string option) =>
        lines.Where(l => l.StartsWith(option + " ", StringComparison.Ordinal)).Select(l => int.TryParse(l[(option.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (int?)null).LastOrDefault();
}

/// <summary>ppp.mtu, eql.mtu and slirp's mtu/mru agree: eql_enslave (and the service) refuse a slave whose MTU differs from the master's.</summary>
public sealed class MtuCheck : IDoctorCheck
{
    public Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "mtu", title = "MTU consistency";
        var (ppp, eql) = (c.Config.Ppp.Mtu, c.Config.Eql.Mtu);
        IReadOnlyList<CheckResult> result;
        if (ppp != eql)
            result = [CheckResult.Fail(id, title, $"ppp.mtu is {ppp} but eql.mtu is {eql}: a slave whose MTU differs from the master's is refused",
                $"set both to the same value, e.g. --set eql.mtu={ppp} (or in the configuration file)")];
        else if (c.RemoteRcMtu is { } rm && rm != ppp || c.RemoteRcMru is { } ru && ru != ppp)
            result = [CheckResult.Warn(id, title, $"ppp.mtu = eql.mtu = {ppp}, but host_B's ~/.slirprc says mtu {c.RemoteRcMtu?.ToString(CultureInfo.InvariantCulture) ?? "-"}, mru {c.RemoteRcMru?.ToString(CultureInfo.InvariantCulture) ?? "-"} (the service rewrites it before its first start)",
                "eqlactors provision")];
        else
            result = [CheckResult.Ok(id, title, $"ppp.mtu = eql.mtu = {ppp}" + (c.RemoteRcMtu is null ? "" : " = slirp mtu/mru"))];
        return Task.FromResult(result);
    }
}

using System.Globalization;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Host.Remote;

/// <summary>
/// host_B over SSH.NET through the jump hosts. Each operation opens its own session and closes it: these
/// run seldom (before links start, after a failure), and a fresh session cannot be stale. Secrets (the TCP
/// attach password) are written only into the rc file and never into an exception or log message.
/// </summary>
public sealed class SshRemoteHost(BundleConfig config) : IRemoteHost
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Probe, kill stale slirp and write the rc files over one connection: 2 key exchanges instead of 6.</summary>
    public async Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        return await RemotePreparation.RunAsync(links, killStale,
            c => ProbeAsync(session, c), c => KillStaleAsync(session, c), (l, c) => WriteRcFilesAsync(session, l, c), ct).ConfigureAwait(false);
    }

    /// <summary>The ways to the hops behind jump hosts, kept between a backing-off link's checks (each check of those would otherwise log in to every jump host).</summary>
    private readonly HopPaths _paths = new(config.Remote);

    /// <summary>Ways to hops behind jump hosts open now (tests).</summary>
    internal int OpenHopPaths => _paths.Count;

    internal SshEndpoint Account => config.Remote.Account;

    internal void ReleaseHopPaths() => _paths.Release(config.Remote.Account);

    public async Task<bool> HopAnswersAsync(SshEndpoint hop, TimeSpan timeout, CancellationToken ct = default)
    {
        if (HopPaths.JumpHostsBefore(config.Remote, hop).Length == 0) return await GreetsAsync(hop.Host, hop.Port, timeout, ct).ConfigureAwait(false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var started = System.Diagnostics.Stopwatch.StartNew();
        (string Host, int Port) target;
        try
        {
            // The way is made once and outlives a check's timeout: the next check uses it when it is ready.
            target = await _paths.TargetAsync(hop).WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
        catch (PortException)
        {
            // A jump host before the hop cannot be reached: the hop cannot either; the next check tries a new way.
            return false;
        }
        var left = timeout - started.Elapsed;
        var answers = left > TimeSpan.Zero && await GreetsAsync(target.Host, target.Port, left, ct).ConfigureAwait(false);
        // Answering, the hop is about to be used by a new attempt: its way is not needed any more.
        if (answers) _paths.Release(hop);
        return answers;
    }

    /// <summary>A TCP connection to <paramref name="host"/>:<paramref name="port"/> greeted with <c>SSH-</c> within <paramref name="timeout"/>.</summary>
    private static async Task<bool> GreetsAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(host, port, limit.Token).ConfigureAwait(false);
            // An accepting port is not yet an sshd that serves: its greeting is. (Through a jump host's forward the
            // local connection is always accepted; a hop that refuses closes it unanswered.)
            var greeting = new byte[4];
            var stream = client.GetStream();
            var read = 0;
            while (read < greeting.Length)
            {
                var n = await stream.ReadAsync(greeting.AsMemory(read), limit.Token).ConfigureAwait(false);
                if (n == 0) return false;
                read += n;
            }
            return greeting.AsSpan().SequenceEqual("SSH-"u8);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            if (ct.IsCancellationRequested) throw;
            return false;
        }
    }

    public async Task<int> KillStaleSlirpAsync(CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        return await KillStaleAsync(session, ct).ConfigureAwait(false);
    }

    private async Task<int> KillStaleAsync(SshSession session, CancellationToken ct)
    {
        var pattern = RemoteScripts.AnchoredPattern(config.Remote.SlirpCommand);
        var (status, stdout, stderr) = await session.RunAsync(RemoteScripts.Command(RemoteScripts.KillStale, pattern), CommandTimeout, ct).ConfigureAwait(false);
        if (status != 0 || !int.TryParse(stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw new PortException($"killing stale slirp on {config.Remote.Account} failed ({status}): {stderr.Trim()}");
        return n;
    }

    /// <summary>
    /// Writes <c>~/.slirprc</c> and <c>~/.slirprc-N</c> with one shell command (0600 temporary file, then
    /// <c>mv</c> over the target), not SFTP: host_B is an ordinary shell account, and its sshd need not offer
    /// the sftp subsystem (the system test's does not; "Subsystem 'sftp' could not be executed").
    /// </summary>
    public async Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        await WriteRcFilesAsync(session, links, ct).ConfigureAwait(false);
    }

    private async Task WriteRcFilesAsync(SshSession session, IReadOnlyList<int> links, CancellationToken ct)
    {
        var tcp = config.Remote.Attach == SlirpAttach.Tcp;
        var files = new List<string>();
        if (!tcp) files.AddRange([".slirprc", RemoteScripts.SlirpRc(config)]);
        foreach (var link in links) files.AddRange([$".slirprc-{link.ToString(CultureInfo.InvariantCulture)}", RemoteScripts.UnitRc]);
        var (status, _, stderr) = await session.RunAsync(RemoteScripts.Command(RemoteScripts.WriteFiles, [.. files]), CommandTimeout, ct).ConfigureAwait(false);
        if (status != 0)
            throw new PortException($"writing slirp's rc files on {config.Remote.Account} failed ({status}): {stderr.Trim()}", FailureKind.Transient);
        if (!tcp) return;
        // The TCP form's password: on standard input, never as an argument (host_B's ps would show it).
        foreach (var (path, content) in new[] { (".slirprc", RemoteScripts.SlirpRc(config)), (RemoteScripts.AttachPasswordFile, config.Remote.TcpPassword ?? "") })
        {
            var (st, _, err) = await session.RunAsync(RemoteScripts.Command(RemoteScripts.WriteStdinFile, path), CommandTimeout, ct, stdin: content).ConfigureAwait(false);
            if (st != 0)
                throw new PortException($"writing {path} on {config.Remote.Account} failed ({st}): {err.Trim()}", FailureKind.Transient);
        }
    }

    public async Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        return await ProbeAsync(session, ct).ConfigureAwait(false);
    }

    public async Task<SlirpProbe> ProbeSlirpWithoutAttachingAsync(CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        return await ProbeAsync(session, ct, countUnits: false).ConfigureAwait(false);
    }

    private async Task<SlirpProbe> ProbeAsync(SshSession session, CancellationToken ct, bool countUnits = true)
    {
        var (status, stdout, stderr) = await session.RunAsync(
            RemoteScripts.Command(RemoteScripts.Probe, config.Remote.SlirpCommand, countUnits ? "units" : "nounits"), CommandTimeout, ct).ConfigureAwait(false);
        if (status != 0) throw new PortException($"probing slirp on {config.Remote.Account} failed ({status}): {stderr.Trim()}");
        return ParseProbe(config.Remote.SlirpCommand, stdout);
    }

    public async Task<string?> ReadLinkErrorAsync(int link, CancellationToken ct = default)
    {
        using var session = await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        var (status, stdout, stderr) = await session.RunAsync(
            RemoteScripts.Command(RemoteScripts.ReadLinkError, link.ToString(CultureInfo.InvariantCulture)), CommandTimeout, ct).ConfigureAwait(false);
        if (status != 0) throw new PortException($"reading link {link}'s error file on {config.Remote.Account} failed ({status}): {stderr.Trim()}");
        return stdout.Length == 0 ? null : stdout;
    }

    /// <summary>Reads the probe script's report.</summary>
    public static SlirpProbe ParseProbe(string slirp, string report)
    {
        var lines = report.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Contains("absent")) return new SlirpProbe(false, false, 0, false, $"{slirp} not found on host_B");
        if (lines.Contains("notexec")) return new SlirpProbe(true, false, 0, false, $"{slirp} exists on host_B but is not executable");
        var unitsLine = lines.FirstOrDefault(l => l.StartsWith("units ", StringComparison.Ordinal));
        // Not counted while links are attached (asking is an attach): the links' own attach errors say it if too few.
        var counted = unitsLine is not null && unitsLine != "units unknown";
        var units = counted ? int.Parse(unitsLine![6..], CultureInfo.InvariantCulture) : unitsLine is null ? 0 : 4;
        var main = lines.FirstOrDefault(l => l.StartsWith("main ", StringComparison.Ordinal));
        var mainOut = string.Join(" | ", lines.Where(l => l.StartsWith("out ", StringComparison.Ordinal)).Select(l => l[4..]));
        // Still running after 2 s (timeout's 124) is healthy; exiting at once with a select() complaint is the bookworm bug.
        var selectBug = main is not null && main != "main 124" && main != "main skipped"
            && (mainOut.Contains("select", StringComparison.OrdinalIgnoreCase) || mainOut.Contains("Invalid argument", StringComparison.Ordinal));
        var detail = $"{slirp}: {(!counted && unitsLine is not null ? "units not counted (links attached)" : units >= 4 ? "at least 4 units" : $"{units} unit{(units == 1 ? "" : "s")} (MAX_INTERFACES={units})")}"
            + (selectBug ? $"; exits at once: {mainOut} (stock bookworm slirp's select() bug: use slirp-fullbolt or a rebuilt slirp)" : "")
            + (main == "main skipped" ? "; main program not tried (no timeout(1) on host_B)" : "");
        var features = lines.Where(l => l.StartsWith("features ", StringComparison.Ordinal))
            .SelectMany(l => l[9..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(f => SlirpProbe.AllFeatures.Contains(f)).Distinct().ToList();
        detail += features.Count > 0 ? $"; patched build: {string.Join(",", features)}" : "; stock build (no eqlactors-slirp-features marker)";
        return new SlirpProbe(true, true, units, selectBug, detail) { Features = features };
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using EqlActors.Configuration;
using EqlActors.Host.Remote;
using EqlActors.Ports;
using Serilog;

namespace EqlActors.Host.Provision;

/// <summary>A provisioning step failed; <see cref="Exception.Message"/> says which and why (compiler output included).</summary>
public sealed class ProvisionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// <c>eqlactors provision</c>: writes host_B's slirp rc files, and with a source archive builds a multi-unit slirp
/// there (FULL_BOLT, MAX_INTERFACES=4, MAX_PPP_INTERFACES=4, the patches of <see cref="SlirpPatches"/>: the
/// <c>link_down()</c> fix, fair downloads, big buffers, attach takeover, ...) and installs it at
/// <c>remote.slirpCommand</c> with a build record next to it. One progress line per step; the remote temporary
/// directory is removed whatever happens.
/// </summary>
public sealed partial class Provisioner(BundleConfig config, Action<string> progress, ILogger? log = null)
{
    private static readonly TimeSpan ShortStep = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BuildStep = TimeSpan.FromMinutes(15);
    private int _step;
    private int _steps;

    /// <summary>What the build did, for the caller and the tests.</summary>
    public sealed record BuildOutcome(string SourceDir, LinkDownFix LinkDown, string BinaryCksum, SlirpProbe Probe,
        IReadOnlyList<string> AppliedPatches, IReadOnlyList<string> SkippedPatches, string Features);

    public async Task<BuildOutcome?> RunAsync(FileInfo? slirpSource, CancellationToken ct = default)
    {
        var r = config.Remote;
        string? decompressor = null;
        if (slirpSource is not null)
        {
            decompressor = Decompressor(slirpSource);
            if (!r.SlirpCommand.Contains('/'))
                throw new ProvisionException($"remote.slirpCommand is the bare name \"{r.SlirpCommand}\" (looked up on host_B's PATH): set it to a path such as bin/slirp so the build has a place to go");
        }
        _steps = 1 + (slirpSource is null ? 0 : 11); // rc files; ten build steps and the clean-up
        var jumps = r.JumpHosts.IsDefault ? 0 : r.JumpHosts.Length;
        progress($"provisioning {r.Account}{(jumps == 0 ? "" : $" through {jumps} jump host{(jumps == 1 ? "" : "s")}")}");

        var links = config.Links.OrderBy(l => l).ToArray();
        await Step("write ~/.slirprc and ~/.slirprc-N", async () =>
        {
            await new SshRemoteHost(config).WriteRcFilesAsync(links, ct).ConfigureAwait(false);
            var what = r.Attach == SlirpAttach.Tcp ? "socket PORT,***" : "socket";
            return $"~/.slirprc ({what}, mtu {config.Ppp.Mtu}, mru {config.Ppp.Mtu}), " +
                   string.Join(", ", links.Select(l => $"~/.slirprc-{l.ToString(CultureInfo.InvariantCulture)}")) + " (ppp)";
        }).ConfigureAwait(false);

        if (slirpSource is null) return null;
        return await BuildAsync(slirpSource, decompressor!, ct).ConfigureAwait(false);
    }

    private async Task<BuildOutcome> BuildAsync(FileInfo source, string decompressor, CancellationToken ct)
    {
        using var session = await Connect(ct).ConfigureAwait(false);
        await Step("check the build tools on host_B", () => Run(session, SlirpBuildScripts.Tools, ShortStep, ct, decompressor)).ConfigureAwait(false);
        var tmp = await Step("make a temporary directory on host_B", async () =>
        {
            var path = await Run(session, SlirpBuildScripts.MakeTemp, ShortStep, ct).ConfigureAwait(false);
            if (!TempDirGrammar().IsMatch(path)) throw new ProvisionException($"mktemp on host_B answered an unexpected path: {Printable(path)}");
            return path;
        }).ConfigureAwait(false);
        try
        {
            var patches = SlirpPatches.All;
            await Step($"upload {source.Name} ({source.Length.ToString(CultureInfo.InvariantCulture)} bytes) and {patches.Length} patches over SFTP", async () =>
            {
                var sftp = await session.SftpAsync(ct).ConfigureAwait(false);
                await using (var file = source.OpenRead())
                    await Task.Run(() => sftp.UploadFile(file, $"{tmp}/source.archive"), ct).ConfigureAwait(false);
                await Task.Run(() => sftp.CreateDirectory($"{tmp}/patches"), ct).ConfigureAwait(false);
                foreach (var patch in patches)
                {
                    using var text = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(patch.Text));
                    await Task.Run(() => sftp.UploadFile(text, $"{tmp}/patches/{patch.Name}"), ct).ConfigureAwait(false);
                }
                return $"{tmp}/source.archive, {tmp}/patches/";
            }).ConfigureAwait(false);
            var rel = await Step("unpack and find slirp's source tree", async () =>
            {
                var dir = await Run(session, SlirpBuildScripts.Unpack, ShortStep, ct, tmp, decompressor).ConfigureAwait(false);
                if (!dir.StartsWith("src/", StringComparison.Ordinal) || dir.Any(char.IsControl) || dir.Contains("/../", StringComparison.Ordinal))
                    throw new ProvisionException($"unexpected source directory in the archive: {Printable(dir)}");
                return dir;
            }).ConfigureAwait(false);
            var src = $"{tmp}/{rel}";
            await Step("set FULL_BOLT, MAX_INTERFACES=4, MAX_PPP_INTERFACES=4 in config.h.in/config.h",
                async () => string.Join(", ", (await Run(session, SlirpBuildScripts.Defines, ShortStep, ct, src).ConfigureAwait(false)).Split('\n'))).ConfigureAwait(false);
            var applied = new List<SlirpPatch>();
            var skipped = new List<string>();
            var fix = LinkDownFix.NotFound;
            var features = "";
            await Step($"apply the {patches.Length} slirp patches (link_down() fix, fair downloads, attach takeover, ...)", async () =>
            {
                var said = await Run(session, SlirpBuildScripts.ApplyPatches, ShortStep, ct, src, $"{tmp}/patches").ConfigureAwait(false);
                foreach (var line in said.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line.StartsWith("applied ", StringComparison.Ordinal) && patches.FirstOrDefault(p => p.Name == line[8..]) is { } p) applied.Add(p);
                    else if (line.StartsWith("skipped ", StringComparison.Ordinal)) skipped.Add(line[8..]);
                }
                if (applied.Any(p => p.Feature == "link-down-fix")) fix = LinkDownFix.Applied;
                else
                {
                    // not Debian's 1.0.17 text: the one-line fix by pattern, as before the patch files
                    fix = await Run(session, SlirpBuildScripts.LinkDownFix, ShortStep, ct, src).ConfigureAwait(false) switch
                    {
                        "applied" => LinkDownFix.Applied, "already-fixed" => LinkDownFix.AlreadyFixed, _ => LinkDownFix.NotFound,
                    };
                }
                var list = SlirpPatches.FeatureList(applied);
                if (fix != LinkDownFix.NotFound && !list.Split(',').Contains("link-down-fix")) list = list.Length == 0 ? "link-down-fix" : "link-down-fix," + list;
                await Run(session, SlirpBuildScripts.WriteFeatures, ShortStep, ct, src, list).ConfigureAwait(false);
                features = list;
                return $"{applied.Count} of {patches.Length} applied" + (skipped.Count == 0 ? "" : $", {skipped.Count} skipped") +
                       $"; features: {(list.Length == 0 ? "none" : list)}; link_down(): {SlirpBuildMarker.Name(fix)}";
            }).ConfigureAwait(false);
            foreach (var s in skipped)
                progress($"    warning: patch {s} (does not fit this source; doctor will say what the build misses)");
            if (fix == LinkDownFix.NotFound)
                progress("    warning: link_down() was not in the expected form; left as it was (doctor will say so)");
            await Step("configure", async () =>
            {
                var said = await Run(session, SlirpBuildScripts.Configure, ShortStep, ct, tmp, src).ConfigureAwait(false);
                await Run(session, SlirpBuildScripts.Defines, ShortStep, ct, src).ConfigureAwait(false); // configure may have written config.h afresh
                return said;
            }).ConfigureAwait(false);
            await Step($"make (CFLAGS {SlirpBuildScripts.CFlags})", () => Run(session, SlirpBuildScripts.Make, BuildStep, ct, tmp, src, SlirpBuildScripts.CFlags)).ConfigureAwait(false);
            var marker = new SlirpBuildMarker(DateTimeOffset.UtcNow, SafeName(source.Name), 4, 4, true, fix, "", features);
            var record = marker.Render();
            record = record[..(record.IndexOf("binary_cksum=", StringComparison.Ordinal))];
            var cksum = await Step($"install as {config.Remote.SlirpCommand} with its build record",
                () => Run(session, SlirpBuildScripts.Install, ShortStep, ct, src, config.Remote.SlirpCommand, record)).ConfigureAwait(false);
            var probe = await Step("probe the installed slirp", async () =>
            {
                var p = await new SshRemoteHost(config).ProbeSlirpAsync(ct).ConfigureAwait(false);
                if (!p.Present || !p.Executable || p.Units < 4) throw new ProvisionException($"the installed slirp does not serve 4 units: {p.Detail}");
                if (p.SelectBug) throw new ProvisionException($"the installed slirp exits at once: {p.Detail}");
                return p.Detail;
            }).ConfigureAwait(false);
            return new BuildOutcome(rel, fix, cksum, await new SshRemoteHost(config).ProbeSlirpAsync(ct).ConfigureAwait(false),
                [.. applied.Select(p => p.Name)], skipped, features);
        }
        finally
        {
            try
            {
                await Run(session, SlirpBuildScripts.Cleanup, ShortStep, CancellationToken.None, tmp).ConfigureAwait(false);
                progress($"[{_steps}/{_steps}] removed {tmp} on host_B");
            }
            catch (Exception e) when (e is ProvisionException or PortException)
            {
                progress($"[{_steps}/{_steps}] could not remove {tmp} on host_B: {e.Message}");
                log?.Warning("Removing {TempDir} on host_B failed: {Reason}", tmp, e.Message);
            }
        }
    }

    private async Task<SshSession> Connect(CancellationToken ct)
    {
        try
        {
            return await SshSession.ConnectAsync(config.Remote, ct).ConfigureAwait(false);
        }
        catch (PortException e)
        {
            throw new ProvisionException($"cannot reach host_B: {e.Message}", e);
        }
    }

    /// <summary>One numbered progress line per step; a failure names the step.</summary>
    private async Task<string> Step(string what, Func<Task<string>> body)
    {
        var n = ++_step;
        log?.Debug("Provision step {Step}/{Steps}: {What}", n, _steps, what);
        string result;
        try
        {
            result = await body().ConfigureAwait(false);
        }
        catch (Exception e) when (e is ProvisionException or PortException or Renci.SshNet.Common.SshException or IOException)
        {
            progress($"[{n}/{_steps}] {what}: FAILED");
            throw new ProvisionException($"{what} failed: {e.Message}", e);
        }
        progress($"[{n}/{_steps}] {what}: {FirstLine(result)}");
        return result;
    }

    private static async Task<string> Run(SshSession session, string script, TimeSpan timeout, CancellationToken ct, params string[] args)
    {
        var (status, stdout, stderr) = await session.RunAsync(RemoteScripts.Command(script, args), timeout, ct).ConfigureAwait(false);
        if (status != 0) throw new ProvisionException($"exit {status}" + (stderr.Trim().Length > 0 ? ":\n" + stderr.TrimEnd() : ""));
        return stdout.Trim();
    }

    /// <summary>The decompressor for the archive, from its first bytes (not its name).</summary>
    public static string Decompressor(FileInfo archive)
    {
        if (!archive.Exists) throw new ProvisionException($"{archive.FullName} does not exist");
        var head = new byte[262];
        int read;
        using (var s = archive.OpenRead()) read = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read >= 2 && head[0] == 0x1f && head[1] == 0x8b) return "gzip";
        if (read >= 6 && head[0] == 0xfd && head[1] == (byte)'7' && head[2] == (byte)'z' && head[3] == (byte)'X' && head[4] == (byte)'Z') return "xz";
        if (read >= 3 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h') return "bzip2";
        if (read >= 262 && System.Text.Encoding.ASCII.GetString(head, 257, 5) == "ustar") return "none";
        throw new ProvisionException($"{archive.Name} is not a tar archive (plain, gzip, xz or bzip2)");
    }

    private static string FirstLine(string s) => s.Split('\n')[0];
    private static string SafeName(string name) => SafeNameGrammar().Replace(name, "_");
    private static string Printable(string s) => new(s.Select(ch => char.IsControl(ch) ? '?' : ch).ToArray());

    [GeneratedRegex(@"^/[A-Za-z0-9._/-]+/eqlactors-slirp\.[A-Za-z0-9]+$")]
    private static partial Regex TempDirGrammar();

    [GeneratedRegex(@"[^A-Za-z0-9._+-]")]
    private static partial Regex SafeNameGrammar();
}

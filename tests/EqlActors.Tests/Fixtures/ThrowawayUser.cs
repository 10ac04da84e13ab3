using System.Runtime.Versioning;
using EqlActors.Host.Linux;

namespace EqlActors.Tests.Fixtures;

/// <summary>
/// A second local user for tests that play a hostile neighbour: unique name, no home, no login; its processes are
/// killed and the user removed on dispose (or by the janitor if the test host dies first).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ThrowawayUser : IDisposable
{
    private readonly string _claim;

    public ThrowawayUser()
    {
        Name = Prefix + $"{Guid.NewGuid():N}"[..12];
        _claim = Janitor.Claim(Janitor.Kind.User, Name);
        Fixtures.Run.Checked("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", Name);
        var entry = Fixtures.Run.Checked("getent", "passwd", Name).Trim().Split(':');
        Uid = int.Parse(entry[2], System.Globalization.CultureInfo.InvariantCulture);
        Gid = int.Parse(entry[3], System.Globalization.CultureInfo.InvariantCulture);
    }

    public const string Prefix = "eqla-nb-";

    public string Name { get; }
    public int Uid { get; }
    public int Gid { get; }

    /// <summary>The argv prefix that runs a command as this user (setpriv, no supplementary groups).</summary>
    public string[] As => ["setpriv", $"--reuid={Uid}", $"--regid={Gid}", "--clear-groups"];

    public (int Code, string Stdout, string Stderr) Run(params string[] argv) => Fixtures.Run.Argv([.. As, .. argv]);

    public void Dispose()
    {
        var pids = ProcessTree.All().Where(p => Owner(p.Pid) == Uid).Select(p => p.Pid).ToList();
        foreach (var pid in pids) Native.kill(pid, Native.SIGKILL);
        Sshd.ReapWhenGone(pids);
        Fixtures.Run.Argv(["userdel", "--force", Name]);
        Janitor.Release(_claim);
    }

    private static int? Owner(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line is null ? null : int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

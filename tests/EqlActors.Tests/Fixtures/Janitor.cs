using System.Runtime.Versioning;
using EqlActors.Host.Linux;

namespace EqlActors.Tests.Fixtures;

/// <summary>
/// Cleans up after test hosts that died without disposing their fixtures (a crash or a kill skips Dispose).
/// Every system-wide resource a fixture creates (a namespace, a user, an sshd, a directory) is claimed in
/// <c>/tmp/eqla-owners/</c> with the owning process's pid and start time; the first fixture of a test host
/// removes whatever belongs to a process that no longer exists. Resources of live test hosts (another
/// worktree's run, CI) are never touched.
/// </summary>
[SupportedOSPlatform("linux")]
public static class Janitor
{
    private const string Owners = "/tmp/eqla-owners";
    private static readonly Lazy<bool> Swept = new(SweepDead);

    public enum Kind { Netns, User, Sshd, Dir, Daemon }

    /// <summary>Sweeps once per test host, then records the resource as this process's.</summary>
    public static string Claim(Kind kind, string name)
    {
        _ = Swept.Value;
        var me = ProcessTree.Stat(Environment.ProcessId)!;
        var marker = Path.Combine(Owners, $"{kind}-{Guid.NewGuid():N}");
        for (var attempt = 0; ; attempt++)
        {
            Directory.CreateDirectory(Owners);
            try
            {
                File.WriteAllText(marker, $"{me.Pid} {me.StartTime}\n{kind}\n{name}\n");
                return marker;
            }
            catch (DirectoryNotFoundException) when (attempt < 10)
            {
                // another test host released its last claim and removed the directory in between: make it again
            }
        }
    }

    /// <summary>Drops the claim; the last one gone takes the directory with it, so that a test run leaves nothing in /tmp.</summary>
    public static void Release(string? marker)
    {
        if (marker is null) return;
        File.Delete(marker);
        try { Directory.Delete(Owners); } // only when empty: another test host's claims keep it
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static bool SweepDead()
    {
        if (!Directory.Exists(Owners)) return true;
        // Processes (sshd, eqlactors daemons) first, then users and directories, then namespaces.
        var markers = Directory.GetFiles(Owners).Select(Read).Where(m => m is not null).Select(m => m!).OrderBy(m => m.Kind).ToList();
        foreach (var m in markers.OrderBy(m => m.Kind is Kind.Sshd or Kind.Daemon ? 0 : m.Kind == Kind.User ? 1 : 2))
        {
            var alive = ProcessTree.Stat(m.Pid) is { IsZombie: false } s && s.StartTime == m.StartTime;
            if (alive) continue;
            switch (m.Kind)
            {
                case Kind.Sshd: // name: the config file, unique to that fixture
                    foreach (var p in ProcessTree.All())
                    {
                        // sshd rewrites its argv into one title: "sshd: /usr/sbin/sshd -D -e -f CONFIG [listener] ..."
                        if (ProcessTree.CommandLine(p.Pid) is { } argv && string.Join(' ', argv) is var title
                            && title.StartsWith("sshd", StringComparison.Ordinal) && title.Contains($" -f {m.Name}", StringComparison.Ordinal))
                            Native.kill(p.Pid, Native.SIGKILL);
                    }
                    break;
                case Kind.Daemon: // name: the control socket path, unique to that test; daemons get it via --set
                    foreach (var p in ProcessTree.All())
                    {
                        // `start` hands its --set values to the daemon in its environment, not its argv.
                        if (ProcessTree.CommandLine(p.Pid) is { } argv && argv.Contains($"control.socketPath={m.Name}") || Environ(p.Pid).Contains($"control.socketPath={m.Name}", StringComparison.Ordinal))
                            Native.kill(p.Pid, Native.SIGKILL);
                    }
                    break;
                case Kind.User when m.Name.StartsWith("eqla-hostb-", StringComparison.Ordinal) || m.Name.StartsWith(ThrowawayUser.Prefix, StringComparison.Ordinal):
                    Run.Argv(["pkill", "-KILL", "-u", m.Name]);
                    Run.Argv(["userdel", "--remove", "--force", m.Name]);
                    break;
                case Kind.Dir when m.Name.StartsWith("/tmp/eqla-", StringComparison.Ordinal):
                    try { Directory.Delete(m.Name, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                    break;
                case Kind.Netns when m.Name.StartsWith("eqla-test-", StringComparison.Ordinal):
                    Run.Argv(["ip", "netns", "del", m.Name]);
                    break;
            }
            File.Delete(m.File);
        }
        return true;
    }

    private static string Environ(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/environ"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private sealed record Marker(string File, int Pid, ulong StartTime, Kind Kind, string Name);

    private static Marker? Read(string file)
    {
        try
        {
            var l = File.ReadAllLines(file);
            var owner = l[0].Split(' ');
            return new Marker(file, int.Parse(owner[0]), ulong.Parse(owner[1]), Enum.Parse<Kind>(l[1]), l[2]);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }
}

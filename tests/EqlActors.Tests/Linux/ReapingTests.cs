using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

/// <summary>
/// A stand-in pppd that, like the real one, starts its <c>ip-down</c> script (in a session of its own) when it
/// is told to terminate and exits without waiting for it: the script is orphaned, reparented to this process
/// (a child subreaper) and exits later, when the test creates the file it waits for. Its output goes to
/// /dev/null, as pppd's run_program does for its scripts.
/// </summary>
internal static class IpDownStandIn
{
    public const string Script = StandInPppd.ReadArgs + """
        ip_down() {
          setsid sh -c 'echo $$ > "$0/ip-down.pid"; while [ ! -e "$0/release" ]; do sleep 0.05; done' "$rundir" </dev/null >/dev/null 2>&1 &
          while [ ! -s "$rundir/ip-down.pid" ]; do sleep 0.01; done
          exit 5
        }
        trap ip_down TERM
        echo "Using interface ppp3"
        printf '%s\nppp3\n' $$ > "$rundir/ppp-$linkname.pid"
        sleep 300 &
        wait
        """;

    public static PppLaunch Launch(string pppd, string dir) => new(0, new BundleConfig
    {
        Ppp = new PppConfig { PppdPath = pppd, LinkNamePrefix = "eqlareap", ExtraOptions = [$"standin-rundir={dir}"] },
    });
}

// Alone too: the reap it waits for is driven by SIGCHLD, whose handler runs on the thread pool, and an actor test
// blocking pool threads in parallel (TestKit's ExpectMsg) once held it past the 8 s limit (under the full suite).
[Collection("fd-count")]
[SupportedOSPlatform("linux")]
public sealed class ReapingTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-reap-");

    public void Dispose()
    {
        File.WriteAllText(_dir.File("release"), ""); // lets a leftover ip-down end if an assertion failed first
        _dir.Dispose();
    }

    [Fact]
    public async Task An_orphaned_ip_down_script_that_exits_after_its_pppd_is_reaped()
    {
        Assert.True(ChildReaper.Exact, "the reaper must tell the runtime's own children apart on this runtime");
        var pppd = _dir.WriteScript("pppd", IpDownStandIn.Script);
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var p = await ppp.StartAsync(IpDownStandIn.Launch(pppd, _dir.Path), events);
        // Generous limits where nothing is measured: a loaded host (load 17, the full suite) once took over 10 s here.
        await Wait.UntilAsync(() => !events.Interfaces.IsEmpty, TimeSpan.FromSeconds(60), "the stand-in to come up");

        await ppp.StopAsync(p, TimeSpan.FromSeconds(5));
        var ipDown = int.Parse(File.ReadAllText(_dir.File("ip-down.pid")).Trim());
        // pppd is gone, its script still runs and is now a child of this process.
        await Wait.UntilAsync(() => ProcessTree.Stat(ipDown)?.ParentPid == Environment.ProcessId, TimeSpan.FromSeconds(60), "ip-down to be adopted");
        Assert.False(ProcessTree.Stat(ipDown)!.IsZombie);

        File.WriteAllText(_dir.File("release"), "");
        // Nothing else calls into the adapter: the reaper acts on SIGCHLD alone (its timer is 10 s).
        await Wait.UntilAsync(() => ProcessTree.Stat(ipDown) is null, TimeSpan.FromSeconds(8), "the orphaned ip-down to be reaped, not left a zombie");
        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(60), "the exit to be reported");
        Assert.Equal(5, Assert.Single(events.Exits).ExitCode);
    }

    [Fact]
    public void Children_the_runtime_started_are_left_to_the_runtime()
    {
        // A reaper that took this child's status would make the runtime fail fast; WaitForExit would not see the code.
        using var child = System.Diagnostics.Process.Start("sh", ["-c", "sleep 0.3; exit 7"])!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!child.HasExited && DateTime.UtcNow < deadline) ChildReaper.Shared.Sweep(); // races the runtime on purpose
        child.WaitForExit();
        Assert.Equal(7, child.ExitCode);
    }
}

/// <summary>
/// Tests that run alone: counting this process's open descriptors (other tests' pipes and sockets would blur it), or
/// timing what a signal drives.
/// </summary>
[CollectionDefinition("fd-count", DisableParallelization = true)]
public sealed class FdCountCollection;

[Collection("fd-count")]
[SupportedOSPlatform("linux")]
public sealed class ChainResourceTests : IDisposable
{
    private readonly TempDir _dir = new("eqla-fds-");

    public void Dispose()
    {
        File.WriteAllText(_dir.File("release"), "");
        _dir.Dispose();
    }

    private static Dictionary<string, int> OpenFds() =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(f => { try { return f.LinkTarget ?? "?"; } catch (IOException) { return "gone"; } })
            .GroupBy(t => t.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : t.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : t.StartsWith("anon_inode:", StringComparison.Ordinal) ? "anon" : "file")
            .ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task Start_stop_cycles_leave_no_descriptors_or_zombies_behind()
    {
        var pppd = _dir.WriteScript("pppd", IpDownStandIn.Script);
        using var ppp = new LinuxPppProcesses(_dir.Path);

        async Task CycleAsync()
        {
            File.Delete(_dir.File("ip-down.pid"));
            File.Delete(_dir.File("release"));
            var events = new RecordingPppEvents();
            var p = await ppp.StartAsync(IpDownStandIn.Launch(pppd, _dir.Path), events);
            await Wait.UntilAsync(() => !events.Interfaces.IsEmpty, TimeSpan.FromSeconds(60), "the stand-in to come up");
            await ppp.StopAsync(p, TimeSpan.FromSeconds(5));
            await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(60), "the exit to be reported");
            var ipDown = int.Parse(File.ReadAllText(_dir.File("ip-down.pid")).Trim());
            File.WriteAllText(_dir.File("release"), "");
            await Wait.UntilAsync(() => ProcessTree.Stat(ipDown) is null, TimeSpan.FromSeconds(15), "ip-down to be reaped");
        }

        await CycleAsync(); // first use: the reaper's signal registration, thread-pool growth
        var before = OpenFds();
        for (var i = 0; i < 12; i++) await CycleAsync();
        // Process objects are released when their chain ends, not when the GC gets round to them: no collection here.
        var after = OpenFds();

        foreach (var kind in before.Keys.Union(after.Keys))
        {
            var grew = after.GetValueOrDefault(kind) - before.GetValueOrDefault(kind);
            Assert.True(grew <= 2, $"{kind} descriptors grew by {grew} over 12 cycles ({string.Join(", ", before)} -> {string.Join(", ", after)})");
        }
        var self = Environment.ProcessId;
        Assert.DoesNotContain(ProcessTree.All(), s => s.IsZombie && s.ParentPid == self && IsChainCommand(s.Pid));
    }

    private static bool IsChainCommand(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim() is "sh" or "pppd" or "sleep" or "setsid"; }
        catch (IOException) { return false; }
    }
}

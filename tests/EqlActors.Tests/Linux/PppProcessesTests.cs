using System.Collections.Concurrent;
using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

/// <summary>Records what a pppd chain reports.</summary>
public sealed class RecordingPppEvents : IPppEvents
{
    public ConcurrentQueue<PppExit> Exits { get; } = new();
    public ConcurrentQueue<(int Link, int Pid, string Ifname)> Interfaces { get; } = new();
    public ConcurrentQueue<(int Link, int Pid, string Line)> Lines { get; } = new();

    public void Exited(PppExit exit) => Exits.Enqueue(exit);
    public void InterfaceAssigned(int link, int pid, string ifname) => Interfaces.Enqueue((link, pid, ifname));
    public void Output(int link, int pid, string line) => Lines.Enqueue((link, pid, line));
}

/// <summary>
/// LinuxPppProcesses against a stand-in pppd (this kernel has no PPP): a script that prints what pppd prints,
/// writes pppd's linkname pidfile, spawns a child and a grandchild as the ssh chain would, then exits with
/// the code it is told or waits to be killed.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PppProcessesTests : IDisposable
{
    private const string StandIn = """
        #!/bin/sh
        # Stand-in for pppd: options come as pppd words; standin-* words steer it.
        code=hang; rundir=; linkname=; prev=; quiet=
        for a in "$@"; do
          case "$a" in
            standin-exit=*) code=${a#standin-exit=} ;;
            standin-rundir=*) rundir=${a#standin-rundir=} ;;
            standin-quiet) quiet=1 ;;
          esac
          [ "$prev" = linkname ] && linkname=$a
          prev=$a
        done
        [ -z "$quiet" ] && echo "Using interface ppp7"
        echo "Connect: ppp7 <--> /dev/pts/9" >&2
        sh -c 'sleep 300 & echo $! > "$0.grandchild"; wait' "$rundir/chain" &
        echo $! > "$rundir/chain.child"
        printf '%s\nppp7\n' $$ > "$rundir/ppp-$linkname.pid"
        if [ "$code" = hang ]; then wait; exit 0; fi
        exit "$code"
        """;

    private readonly TempDir _dir = new("eqla-ppp-");
    private readonly string _pppd;

    public PppProcessesTests()
    {
        _pppd = _dir.WriteScript("pppd", StandIn);
    }

    public void Dispose()
    {
        foreach (var f in new[] { "chain.child", "chain.grandchild" })
        {
            if (File.Exists(_dir.File(f)) && int.TryParse(File.ReadAllText(_dir.File(f)).Trim(), out var pid) && ProcessTree.Stat(pid) is { IsZombie: false })
                Native.kill(pid, Native.SIGKILL);
        }
        _dir.Dispose();
    }

    private PppLaunch Launch(int link, string exit = "hang") => new(link, new BundleConfig
    {
        Ppp = new PppConfig { PppdPath = _pppd, LinkNamePrefix = "eqlatest", ExtraOptions = [$"standin-exit={exit}", $"standin-rundir={_dir.Path}"] },
    });

    private int ReadPid(string file) => int.Parse(File.ReadAllText(_dir.File(file)).Trim());

    [Theory]
    [InlineData("8", 8, FailureKind.Transient)]
    [InlineData("16", 16, FailureKind.Transient)]
    [InlineData("19", 19, FailureKind.Permanent)]
    [InlineData("2", 2, FailureKind.Permanent)]
    public async Task Exit_code_output_and_interface_are_reported(string exit, int code, FailureKind kind)
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var p = await ppp.StartAsync(Launch(1, exit), events);

        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(10), "pppd exit");
        var e = Assert.Single(events.Exits);
        Assert.Equal((1, p.Pid, code, kind), (e.Link, e.Pid, e.ExitCode, e.Kind));
        Assert.Equal(EqlActors.Messages.PppExitCodes.Describe(code), e.Reason);
        Assert.Contains(events.Lines, l => l == (1, p.Pid, "Using interface ppp7"));
        Assert.Contains(events.Lines, l => l == (1, p.Pid, "Connect: ppp7 <--> /dev/pts/9"));
        Assert.Contains(events.Interfaces, i => i == (1, p.Pid, "ppp7"));
    }

    [Fact]
    public void A_stop_looks_for_the_chain_s_members_less_and_less_often_up_to_a_cap()
    {
        var polls = new List<double>();
        var p = LinuxPppProcesses.MinStopPoll;
        for (var i = 0; i < 6; i++) { polls.Add(p.TotalMilliseconds); p = LinuxPppProcesses.NextStopPoll(p); }

        Assert.Equal([20, 40, 80, 160, 160, 160], polls);
    }

    [Fact]
    public async Task The_interface_is_learned_from_the_pidfile_when_pppd_does_not_log_it()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path, pollInterval: TimeSpan.FromMilliseconds(50));
        var events = new RecordingPppEvents();
        var launch = Launch(1);
        launch = launch with { Config = launch.Config with { Ppp = launch.Config.Ppp with { ExtraOptions = [.. launch.Config.Ppp.ExtraOptions, "standin-quiet"] } } };
        var p = await ppp.StartAsync(launch, events);
        try
        {
            await Wait.UntilAsync(() => !events.Interfaces.IsEmpty, TimeSpan.FromSeconds(10), "the interface from the pidfile");
            Assert.Equal((1, p.Pid, "ppp7"), Assert.Single(events.Interfaces));
            Assert.DoesNotContain(events.Lines, l => l.Line.Contains("Using interface", StringComparison.Ordinal));
        }
        finally
        {
            await ppp.StopAsync(p, TimeSpan.FromSeconds(2));
        }
    }

    [Fact]
    public async Task Pppd_runs_in_a_session_of_its_own()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var p = await ppp.StartAsync(Launch(0), new RecordingPppEvents());
        try
        {
            // setsid execs pppd: until then the pid still runs setsid.
            await Wait.UntilAsync(() => LinuxPppProcesses.IsOurPppd(ProcessTree.CommandLine(p.Pid), Launch(0)), TimeSpan.FromSeconds(10), "pppd to be exec'd");
            var s = ProcessTree.Stat(p.Pid)!;
            Assert.Equal((p.Pid, p.Pid), (s.ProcessGroup, s.Session));
        }
        finally
        {
            await ppp.StopAsync(p, TimeSpan.FromSeconds(2));
        }
    }

    [Fact]
    public async Task Stop_kills_the_whole_chain_and_leaves_no_zombie()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var p = await ppp.StartAsync(Launch(2), events);
        await Wait.UntilAsync(() => File.Exists(_dir.File("chain.grandchild")) && File.ReadAllText(_dir.File("chain.grandchild")).Trim().Length > 0,
            TimeSpan.FromSeconds(10), "the stand-in's grandchild");
        var child = ReadPid("chain.child");
        var grandchild = ReadPid("chain.grandchild");
        Assert.NotNull(ProcessTree.Stat(grandchild));

        await ppp.StopAsync(p, TimeSpan.FromSeconds(3));

        foreach (var pid in new[] { p.Pid, child, grandchild })
        {
            // Gone entirely: not alive, and not left behind as a zombie (reaped by this process as subreaper).
            await Wait.UntilAsync(() => ProcessTree.Stat(pid) is null, TimeSpan.FromSeconds(5), $"pid {pid} to be reaped");
        }
        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(5), "the exit event");
        Assert.Equal(128 + Native.SIGTERM, Assert.Single(events.Exits).ExitCode); // the stand-in sh dies of SIGTERM; real pppd exits 5
    }

    [Fact]
    public async Task A_member_that_outlives_pppd_is_waited_for_as_an_event_and_looked_for_once_after_it()
    {
        // pppd ends at once; its child (the chain's ssh, say) takes a moment after the SIGTERM, then exits.
        var slow = _dir.WriteScript("pppd-slow-member", $$"""
            #!/bin/sh
            echo "Using interface ppp4"
            sh -c 'trap "sleep 0.6; exit 0" TERM; sleep 300 & wait' &
            echo $! > "{{_dir.File("slow.child")}}"
            wait
            """);
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var p = await ppp.StartAsync(new PppLaunch(4, new BundleConfig { Ppp = new PppConfig { PppdPath = slow } }), events);
        await Wait.UntilAsync(() => !events.Interfaces.IsEmpty && File.Exists(_dir.File("slow.child")), TimeSpan.FromSeconds(10), "the stand-in to start");
        var child = ReadPid("slow.child");
        await Wait.UntilAsync(() => ProcessTree.Chain(p.Pid).Count >= 3, TimeSpan.FromSeconds(10), "the child's sleep");

        await ppp.StopAsync(p, TimeSpan.FromSeconds(5));

        // The child outlived pppd by its trap's 0.6 s: polled, that is several looks at the processes; as an event, one.
        Assert.Equal(1, ppp.LastStopLooks);
        Assert.True(ProcessTree.Stat(child) is null or { IsZombie: true }, $"the member {child} still runs");
        await Wait.UntilAsync(() => ProcessTree.Stat(child) is null, TimeSpan.FromSeconds(5), "the member to be reaped");
    }

    [Fact]
    public async Task Stop_escalates_to_sigkill_after_the_grace()
    {
        var stubborn = _dir.WriteScript("pppd-stubborn", "#!/bin/sh\ntrap '' TERM\necho \"Using interface ppp3\"\nwhile :; do sleep 1; done\n");
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var launch = new PppLaunch(3, new BundleConfig { Ppp = new PppConfig { PppdPath = stubborn } });
        var p = await ppp.StartAsync(launch, events);
        await Wait.UntilAsync(() => !events.Interfaces.IsEmpty, TimeSpan.FromSeconds(10), "the stand-in to start");

        var sw = System.Diagnostics.Stopwatch.StartNew();
        await ppp.StopAsync(p, TimeSpan.FromMilliseconds(300));
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        await Wait.UntilAsync(() => ProcessTree.Stat(p.Pid) is null, TimeSpan.FromSeconds(5), "the stubborn pppd to be reaped");
    }

    [Fact]
    public async Task A_restarted_service_adopts_its_pppd_from_the_linkname_pidfile()
    {
        using var first = new LinuxPppProcesses(_dir.Path);
        var p = await first.StartAsync(Launch(1), new RecordingPppEvents());
        var pidFile = _dir.File("ppp-eqlatest-1.pid");
        await Wait.UntilAsync(() => File.Exists(pidFile) && File.ReadAllLines(pidFile).Length == 2, TimeSpan.FromSeconds(10), "the pidfile");

        using var second = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var adopted = await second.AdoptAsync(Launch(1), events);

        Assert.Equal(new PppProcess(1, p.Pid, "ppp7"), adopted);
        Assert.Contains(events.Interfaces, i => i == (1, p.Pid, "ppp7"));
        Assert.Null(await second.AdoptAsync(Launch(2), new RecordingPppEvents())); // no pidfile for link 2

        await second.StopAsync(adopted!, TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(5), "the adopted pppd's exit to be seen");
        Assert.Equal((1, p.Pid, -1, FailureKind.Transient), (events.Exits.Single().Link, events.Exits.Single().Pid, events.Exits.Single().ExitCode, events.Exits.Single().Kind));
    }

    [Fact]
    public async Task Adopting_a_pppd_this_instance_started_moves_its_events_to_the_new_subscriber()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var old = new RecordingPppEvents();
        var p = await ppp.StartAsync(Launch(1), old);
        var pidFile = _dir.File("ppp-eqlatest-1.pid");
        await Wait.UntilAsync(() => File.Exists(pidFile) && File.ReadAllLines(pidFile).Length == 2, TimeSpan.FromSeconds(10), "the pidfile");

        var events = new RecordingPppEvents();
        Assert.Equal(new PppProcess(1, p.Pid, "ppp7"), await ppp.AdoptAsync(Launch(1), events));
        await ppp.StopAsync(p, TimeSpan.FromSeconds(2));

        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(5), "the exit");
        Assert.Equal(128 + Native.SIGTERM, Assert.Single(events.Exits).ExitCode); // the real status: still our child
        Assert.Empty(old.Exits);
    }

    [Fact]
    public async Task A_pidfile_naming_a_dead_or_foreign_process_is_not_adopted()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var pidFile = _dir.File("ppp-eqlatest-0.pid");

        File.WriteAllText(pidFile, $"{Environment.ProcessId}\nppp0\n"); // alive, but not pppd
        Assert.Null(await ppp.AdoptAsync(Launch(0), new RecordingPppEvents()));

        using var sleeper = System.Diagnostics.Process.Start("sleep", "0")!;
        sleeper.WaitForExit();
        File.WriteAllText(pidFile, $"{sleeper.Id}\nppp0\n"); // dead
        Assert.Null(await ppp.AdoptAsync(Launch(0), new RecordingPppEvents()));

        File.WriteAllText(pidFile, "garbage\n");
        Assert.Null(await ppp.AdoptAsync(Launch(0), new RecordingPppEvents()));
    }

    [Fact]
    public async Task A_missing_pppd_binary_is_reported_as_an_exit_not_a_hang()
    {
        using var ppp = new LinuxPppProcesses(_dir.Path);
        var events = new RecordingPppEvents();
        var launch = new PppLaunch(0, new BundleConfig { Ppp = new PppConfig { PppdPath = _dir.File("no-such-pppd") } });
        await ppp.StartAsync(launch, events);
        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(10), "setsid to fail");
        Assert.Equal(127, events.Exits.Single().ExitCode); // setsid: exec failed
        Assert.Contains(events.Lines, l => l.Line.Contains("no-such-pppd", StringComparison.Ordinal));
    }
}

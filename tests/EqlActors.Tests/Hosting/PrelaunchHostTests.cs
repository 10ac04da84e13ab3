using System.Collections.Concurrent;
using System.Runtime.Versioning;
using EqlActors.Configuration;
using EqlActors.Host.Hosting;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;
using EqlActors.Tests.Linux;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace EqlActors.Tests.Hosting;

/// <summary>
/// The host's side of the prelaunch on the real Linux pppd adapter, with a stand-in pppd: when it launches (a clean
/// start of a unix-socket attach), when it must not (a pppd to adopt, the TCP attach), and that chains never taken
/// over are ended.
/// </summary>
[Collection("fd-count")]
[SupportedOSPlatform("linux")]
public sealed class PrelaunchHostTests : IDisposable
{
    // pppd's pidfile with the interface, "Using interface", then it waits; SIGTERM ends it (and its sleep, by group).
    private const string StandIn = StandInPppd.ReadArgs + """
        trap 'exit 5' TERM
        printf '%s\nppp-%s\n' $$ "$linkname" > "$rundir/ppp-$linkname.pid"
        echo "Using interface ppp-$linkname"
        sleep 300 &
        wait
        """;

    private readonly TempDir _dir = new("eqla-pre-");
    private readonly LinuxPppProcesses _linux;
    private readonly BundleConfig _config;
    private readonly Logs _logs = new();
    private readonly Logger _log;

    public PrelaunchHostTests()
    {
        var pppd = _dir.WriteScript("pppd", StandIn);
        _linux = new LinuxPppProcesses(_dir.Path);
        _config = new BundleConfig
        {
            Ppp = new PppConfig { PppdPath = pppd, LinkNamePrefix = "eqlapre", ExtraOptions = [$"standin-rundir={_dir.Path}"] },
            Control = new BundleConfig().Control with { SocketPath = _dir.File("control.sock") },
            Supervision = new BundleConfig().Supervision with { StopGrace = TimeSpan.FromSeconds(5) },
        };
        _log = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(_logs).CreateLogger();
    }

    public void Dispose()
    {
        // Whatever a failed assertion left running.
        foreach (var link in _config.EffectiveLinks)
            if (_linux.FindRunning(new PppLaunch(link, _config)) is { } running) Native.kill(running.Pid, Native.SIGKILL);
        _linux.Dispose();
        _log.Dispose();
        _dir.Dispose();
    }

    private PppLaunch Launch(int link) => new(link, _config);

    [Fact]
    public async Task A_clean_start_launches_every_link_in_one_generation_and_a_daemon_stopped_before_the_take_over_ends_them()
    {
        var ppp = await Prelaunch.RunAsync(_config, _linux, _log);

        Assert.NotNull(ppp.Generation);
        Assert.All(_config.EffectiveLinks, l => Assert.True(ppp.IsPending(l)));
        await Wait.UntilAsync(() => _config.EffectiveLinks.All(l => _linux.FindRunning(Launch(l)) is not null), TimeSpan.FromSeconds(60), "every stand-in's pidfile");
        var pids = _config.EffectiveLinks.Select(l => _linux.FindRunning(Launch(l))!.Value.Pid).ToList();
        Assert.Contains(_logs.Messages, m => m.StartsWith($"Prelaunched links \"0,1,2\" (generation \"{ppp.Generation}\")", StringComparison.Ordinal));

        await Prelaunch.EndUnclaimedAsync(ppp, _config, _log);

        Assert.All(pids, pid => Assert.True(ProcessTree.Stat(pid) is null or { IsZombie: true }, $"pppd {pid} still runs"));
        Assert.Contains(_logs.Messages, m => m == "Ended prelaunched links \"0,1,2\", never taken over");
        Assert.All(_config.EffectiveLinks, l => Assert.False(ppp.IsPending(l)));
    }

    [Fact]
    public async Task A_link_actor_takes_a_prelaunched_chain_over_with_its_lines_and_the_rest_are_still_ended()
    {
        var ppp = await Prelaunch.RunAsync(_config, _linux, _log);
        await Wait.UntilAsync(() => _linux.FindRunning(Launch(1)) is not null, TimeSpan.FromSeconds(60), "link 1's stand-in");
        var events = new RecordingPppEvents();

        var taken = await ppp.StartAsync(Launch(1) with { Generation = "the bundle's" }, events);
        await Wait.UntilAsync(() => !events.Interfaces.IsEmpty, TimeSpan.FromSeconds(60), "the replayed interface");
        Assert.Equal("ppp-eqlapre-1", events.Interfaces.Single().Ifname);
        Assert.Null(await ppp.AdoptAsync(Launch(0), new RecordingPppEvents()));

        await Prelaunch.EndUnclaimedAsync(ppp, _config, _log);
        Assert.Contains(_logs.Messages, m => m == "Ended prelaunched links \"0,2\", never taken over");
        Assert.NotNull(ProcessTree.Stat(taken.Pid));
        await ppp.StopAsync(taken, TimeSpan.FromSeconds(5));
        await Wait.UntilAsync(() => !events.Exits.IsEmpty, TimeSpan.FromSeconds(60), "the taken-over chain's exit");
    }

    [Fact]
    public async Task A_daemon_that_finds_a_pppd_to_adopt_prelaunches_nothing()
    {
        var left = await _linux.StartAsync(Launch(2), new RecordingPppEvents());
        await Wait.UntilAsync(() => _linux.FindRunning(Launch(2)) is not null, TimeSpan.FromSeconds(60), "the earlier daemon's pppd");

        var ppp = await Prelaunch.RunAsync(_config, _linux, _log);

        Assert.Null(ppp.Generation);
        Assert.All(_config.EffectiveLinks, l => Assert.False(ppp.IsPending(l)));
        Assert.Null(_linux.FindRunning(Launch(0)));
        Assert.Contains(_logs.Messages, m => m == "Links not prelaunched: links \"2\" have a running pppd to adopt");
        await _linux.StopAsync(left, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_TCP_attach_prelaunches_nothing()
    {
        var tcp = _config with { Remote = _config.Remote with { Attach = SlirpAttach.Tcp } };

        var ppp = await Prelaunch.RunAsync(tcp, _linux, _log);

        Assert.Null(ppp.Generation);
        Assert.Null(_linux.FindRunning(Launch(0)));
        Assert.Contains(_logs.Messages, m => m.StartsWith("Links not prelaunched: the TCP attach", StringComparison.Ordinal));
    }

    private sealed class Logs : ILogEventSink
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public void Emit(LogEvent logEvent) => _messages.Enqueue(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
    }
}

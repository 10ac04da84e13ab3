using EqlActors.Host.Linux;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using EqlActors.Host.Hosting;
using EqlActors.Configuration;
using EqlActors.Messages;
using Microsoft.Extensions.Logging;

namespace EqlActors.Tests.Hosting;

public sealed class MemoryTrimmerTests : TestKit
{
    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add($"{logLevel} {formatter(state, exception)}");
        }
        public string[] Snapshot() { lock (Lines) return [.. Lines]; }
    }

    [Fact]
    public void Trims_once_after_the_bundle_is_ready_however_many_ready_events_come_before()
    {
        var log = new RecordingLogger();
        var trimmer = Sys.ActorOf(Props.Create(() => new MemoryTrimmer(log, ProcessMemory.Trim)));
        trimmer.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>(); // PreStart (the subscription) has run
        for (var i = 0; i < 3; i++) Sys.EventStream.Publish(new BundleReady("b", DateTimeOffset.UtcNow));
        AwaitCondition(() => log.Snapshot().Any(l => l.Contains("Memory trimmed after a recovery")), MemoryTrimmer.SettleDelay + TimeSpan.FromSeconds(30));
        trimmer.Tell(new Identify(2));
        ExpectMsg<ActorIdentity>();
        Assert.Single(log.Snapshot(), l => l.Contains("Memory trimmed after a recovery"));
        Assert.DoesNotContain(log.Snapshot(), l => l.StartsWith("Warning", StringComparison.Ordinal));
    }

    [Fact]
    public void A_route_restored_while_the_bundle_stayed_ready_is_followed_by_a_trim()
    {
        // The route-delete fault of the soak: the reconcile puts the route back within one pass, so the bundle
        // never leaves ready and no BundleReady comes; without a trim the next sample held ~6 MiB more.
        var log = new RecordingLogger();
        var trims = 0;
        Func<Trimmed> trim = () => { Interlocked.Increment(ref trims); return new Trimmed(2, 1, 1, 1); };
        var trimmer = Sys.ActorOf(Props.Create(() => new MemoryTrimmer(log, trim, null)));
        trimmer.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>();
        var lan = new Route(new Cidr(System.Net.IPAddress.Parse("192.168.77.0"), 24), "eql");
        Sys.EventStream.Publish(new RouteAdded("b", lan, Restored: true, DateTimeOffset.UtcNow));
        AwaitCondition(() => Volatile.Read(ref trims) == 1, MemoryTrimmer.SettleDelay + TimeSpan.FromSeconds(30));
        Assert.Contains(log.Snapshot(), l => l.Contains("Memory trimmed after a recovery"));
    }

    [Fact]
    public void The_first_trim_loads_the_recovery_code_first_and_says_the_daemon_is_at_rest()
    {
        var log = new RecordingLogger();
        var order = new List<string>();
        Func<Trimmed> trim = () => { lock (order) order.Add("trim"); return new Trimmed(2, 1, 1, 1); };
        Func<int> warmUp = () => { lock (order) order.Add("warm-up"); return 7; };
        var trimmer = Sys.ActorOf(Props.Create(() => new MemoryTrimmer(log, trim, warmUp)));
        trimmer.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>();
        Sys.EventStream.Publish(new BundleReady("b", DateTimeOffset.UtcNow));
        AwaitCondition(() => log.Snapshot().Any(l => l.Contains(MemoryTrimmer.AtRestLine)), MemoryTrimmer.SettleDelay + TimeSpan.FromSeconds(30));
        lock (order) Assert.Equal(["warm-up", "trim"], order);
        Assert.Contains(log.Snapshot(), l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains("(7 types)"));
    }

    [Fact]
    public void The_recovery_code_loads_without_touching_the_network()
    {
        // what the real daemon runs before its first trim: type loads and static constructors only
        Assert.True(RecoveryWarmUp.Run() >= RecoveryWarmUp.Types.Length);
        // the symbol reader holds the pdbs it opened: the host's and the actors' are open from now on, not at a fault
        var open = Directory.GetFiles("/proc/self/fd").Select(f => { try { return new FileInfo(f).LinkTarget; } catch (IOException) { return null; } }).ToList();
        Assert.Contains(open, t => t?.EndsWith("/eqlactors.pdb", StringComparison.Ordinal) == true);
        Assert.Contains(open, t => t?.EndsWith("/EqlActors.Actors.pdb", StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("bundle-ready", true)]
    [InlineData("link-up", true)]
    [InlineData("link-enslaved", true)]
    [InlineData("route-restored", true)]
    [InlineData("route-added", false)]
    [InlineData("master-restored", true)]
    [InlineData("master-up", false)]
    [InlineData("remote-prepared", true)]
    [InlineData("link-diagnosed", true)]
    [InlineData("link-down", false)]
    [InlineData("bundle-degraded", false)]
    public void Every_recovery_the_daemon_makes_asks_for_a_trim(string kind, bool recovery)
    {
        var at = DateTimeOffset.UtcNow;
        var lan = new Route(new Cidr(System.Net.IPAddress.Parse("192.168.77.0"), 24), "eql");
        IBundleEvent e = kind switch
        {
            "bundle-ready" => new BundleReady("b", at),
            "link-up" => new LinkUp("b", 1, 42, "ppp1", at),
            "link-enslaved" => new SlaveEnslaved("b", 1, "ppp1", 10, at),
            "route-restored" => new RouteAdded("b", lan, true, at),
            "route-added" => new RouteAdded("b", lan, false, at),
            "master-restored" => new EqlMasterUp("b", "eql", true, at),
            "master-up" => new EqlMasterUp("b", "eql", false, at),
            "remote-prepared" => new RemotePrepared("b", 0, at),
            "link-diagnosed" => new LinkDiagnosed("b", 1, "slirp: cannot connect", false, FailureClass.SlirpAttach, at),
            "link-down" => new LinkDown("b", 1, "gone", false, at),
            _ => new BundleDegraded("b", "links 1 not enslaved", at),
        };
        Assert.Equal(recovery, MemoryTrimmer.IsRecovery(e));
    }

    [Fact]
    public void A_trim_gives_freed_native_memory_back_to_the_system()
    {
        // 24 MiB of small native blocks, all freed but the last (which pins the arena's top, so free() alone
        // cannot shrink it): only malloc_trim returns those pages.
        var blocks = new IntPtr[24 * 1024 * 1024 / 512];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(512);
            Marshal.WriteByte(blocks[i], 1);
        }
        for (var i = 0; i < blocks.Length - 1; i++) Marshal.FreeHGlobal(blocks[i]);
        try
        {
            var before = ProcessMemory.RssAnonKiB();
            var trimmed = ProcessMemory.Trim();
            Assert.True(before - trimmed.AnonAfterKiB >= 12 * 1024, $"anonymous memory {before} -> {trimmed.AnonAfterKiB} KiB");
        }
        finally
        {
            Marshal.FreeHGlobal(blocks[^1]);
        }
    }

    [Fact]
    public void Transparent_huge_pages_are_off_for_the_process_after_asking()
    {
        // what the real daemon does at its start (ServiceHost); /proc shows the flag since Linux 5.0
        ProcessMemory.DisableTransparentHugePages();
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("THP_enabled:", StringComparison.Ordinal));
        Assert.Equal("0", line["THP_enabled:".Length..].Trim());
    }
}

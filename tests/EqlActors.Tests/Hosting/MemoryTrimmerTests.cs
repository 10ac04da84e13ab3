using EqlActors.Host.Linux;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using EqlActors.Host.Hosting;
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
        AwaitCondition(() => log.Snapshot().Any(l => l.Contains("Memory trimmed after ready")), MemoryTrimmer.SettleDelay + TimeSpan.FromSeconds(30));
        trimmer.Tell(new Identify(2));
        ExpectMsg<ActorIdentity>();
        Assert.Single(log.Snapshot(), l => l.Contains("Memory trimmed after ready"));
        Assert.DoesNotContain(log.Snapshot(), l => l.StartsWith("Warning", StringComparison.Ordinal));
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

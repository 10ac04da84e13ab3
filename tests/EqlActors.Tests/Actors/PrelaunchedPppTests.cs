using System.Collections.Concurrent;
using EqlActors.Configuration;
using EqlActors.Ports;

namespace EqlActors.Tests.Actors;

/// <summary>
/// <see cref="PrelaunchedPpp"/> alone, over a recording fake: what it buffers, replays and forwards, in which order,
/// and which calls of a link actor's clean start it answers itself until the take-over.
/// </summary>
public class PrelaunchedPppTests
{
    private static readonly BundleConfig Config = new();

    [Fact]
    public async Task A_prelaunched_chain_s_events_wait_for_the_take_over_are_replayed_in_order_and_later_ones_forwarded()
    {
        var inner = new FakePpp();
        var ppp = new PrelaunchedPpp(inner);
        var outcomes = await ppp.LaunchAsync(Config, [0, 1, 2], "g1");
        var pid = outcomes.Single(o => o.Link == 1).Process!.Pid;

        inner.Events[1].Output(1, pid, "Using interface ppp1");
        inner.Events[1].InterfaceAssigned(1, pid, "ppp1");
        inner.Events[1].Output(1, pid, "Connect: ppp1 <--> /dev/pts/1");
        var actor = new RecordingEvents();
        Assert.Empty(actor.Seen);

        var taken = await ppp.StartAsync(new PppLaunch(1, Config, "bundle's own"), actor);

        Assert.Equal(new PppProcess(1, pid, "ppp1"), taken);
        Assert.Equal(["out Using interface ppp1", "if ppp1", "out Connect: ppp1 <--> /dev/pts/1"], actor.Seen);
        inner.Events[1].Exited(new PppExit(1, pid, 16, "modem hangup", FailureKind.Transient));
        Assert.Equal("exit 16", actor.Seen.Last());
        // The chain was started once, by the prelaunch, with its one generation.
        Assert.Equal(["start 0 g1", "start 1 g1", "start 2 g1"], inner.Calls.Where(c => c.StartsWith("start", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_exit_before_the_take_over_is_replayed_after_the_lines_that_came_before_it()
    {
        var inner = new FakePpp();
        var ppp = new PrelaunchedPpp(inner);
        var pid = (await ppp.LaunchAsync(Config, [0], "g1")).Single().Process!.Pid;
        inner.Events[0].Output(0, pid, "Modem hangup");
        inner.Events[0].Exited(new PppExit(0, pid, 16, "modem hangup", FailureKind.Transient));

        var actor = new RecordingEvents();
        var taken = await ppp.StartAsync(new PppLaunch(0, Config, "x"), actor);

        Assert.Equal(pid, taken.Pid);
        Assert.Equal(["out Modem hangup", "exit 16"], actor.Seen);
    }

    [Fact]
    public async Task Until_the_take_over_a_prelaunched_chain_is_not_adopted_and_its_ssh_master_not_ended()
    {
        var inner = new FakePpp();
        var ppp = new PrelaunchedPpp(inner);
        await ppp.LaunchAsync(Config, [0], "g1");
        inner.Calls.Clear();

        Assert.Null(await ppp.AdoptAsync(new PppLaunch(0, Config), new RecordingEvents()));
        await ppp.EndConnectionAsync(new PppLaunch(0, Config));
        Assert.Empty(inner.Calls);

        var taken = await ppp.StartAsync(new PppLaunch(0, Config, "x"), new RecordingEvents());
        await ppp.EndConnectionAsync(new PppLaunch(0, Config));
        await ppp.AdoptAsync(new PppLaunch(0, Config), new RecordingEvents());
        await ppp.StopAsync(taken, TimeSpan.FromSeconds(1));
        Assert.Equal(["end 0", "adopt 0", $"stop {taken.Pid}"], inner.Calls);
    }

    [Fact]
    public async Task The_prelaunch_ends_every_link_s_stale_ssh_master_before_it_starts_the_chains_unit_0_first()
    {
        var inner = new FakePpp();
        var ppp = new PrelaunchedPpp(inner);

        await ppp.LaunchAsync(Config, [2, 0, 1], "g7");

        Assert.Equal(["end 0", "end 1", "end 2"], inner.Calls.Take(3).Order());
        Assert.Equal(["start 0 g7", "start 1 g7", "start 2 g7"], inner.Calls.Skip(3));
        Assert.Equal("g7", ppp.Generation);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ppp.LaunchAsync(Config, [0], "again"));
    }

    [Fact]
    public async Task A_link_whose_prelaunch_threw_is_started_normally_on_a_clean_start_with_the_prelaunch_s_generation()
    {
        var inner = new FakePpp { Refuse = link => link == 1 };
        var ppp = new PrelaunchedPpp(inner);
        var outcomes = await ppp.LaunchAsync(Config, [0, 1, 2], "g1");
        Assert.IsType<PortException>(outcomes.Single(o => o.Link == 1).Error);
        Assert.Null(outcomes.Single(o => o.Link == 1).Process);
        inner.Refuse = _ => false;
        inner.Calls.Clear();

        // Nothing of its own to hide: its clean start goes to the inner port, in the prelaunched units' generation.
        await ppp.AdoptAsync(new PppLaunch(1, Config), new RecordingEvents());
        await ppp.EndConnectionAsync(new PppLaunch(1, Config));
        var first = await ppp.StartAsync(new PppLaunch(1, Config, "bundle's own"), new RecordingEvents());
        // Later starts are the link's own retries: untouched.
        await ppp.StartAsync(new PppLaunch(1, Config), new RecordingEvents());
        await ppp.StartAsync(new PppLaunch(1, Config, "next start"), new RecordingEvents());

        Assert.Equal(["adopt 1", "end 1", "start 1 g1", "start 1 -", "start 1 next start"], inner.Calls);
        Assert.Equal(1, first.Link);
    }

    [Fact]
    public async Task A_retry_without_a_generation_of_a_link_whose_prelaunch_threw_stays_without_one()
    {
        var inner = new FakePpp { Refuse = link => link == 0 };
        var ppp = new PrelaunchedPpp(inner);
        await ppp.LaunchAsync(Config, [0], "g1");
        inner.Refuse = _ => false;
        inner.Calls.Clear();

        await ppp.StartAsync(new PppLaunch(0, Config), new RecordingEvents());

        Assert.Equal(["start 0 -"], inner.Calls);
    }

    [Fact]
    public async Task Chains_never_taken_over_are_ended_with_their_ssh_masters_and_only_those()
    {
        var inner = new FakePpp();
        var ppp = new PrelaunchedPpp(inner);
        var outcomes = await ppp.LaunchAsync(Config, [0, 1, 2], "g1");
        await ppp.StartAsync(new PppLaunch(0, Config, "x"), new RecordingEvents());
        inner.Calls.Clear();

        var ended = await ppp.EndUnclaimedAsync(TimeSpan.FromSeconds(3));

        Assert.Equal([1, 2], ended);
        var pids = outcomes.ToDictionary(o => o.Link, o => o.Process!.Pid);
        Assert.Equal(new[] { $"stop {pids[1]}", "end 1", $"stop {pids[2]}", "end 2" }.Order(), inner.Calls.Order());
        Assert.Empty(await ppp.EndUnclaimedAsync(TimeSpan.FromSeconds(3)));
        // Ended, so no longer pending: a later start of link 1 is a start of its own.
        inner.Calls.Clear();
        await ppp.StartAsync(new PppLaunch(1, Config), new RecordingEvents());
        Assert.Equal(["start 1 -"], inner.Calls);
    }

    [Fact]
    public async Task Only_the_newest_lines_wait_for_the_take_over_with_the_interface_and_the_exit_and_the_dropped_ones_are_counted()
    {
        var inner = new FakePpp();
        var told = new List<(int Link, int Count)>();
        var ppp = new PrelaunchedPpp(inner, (link, count) => told.Add((link, count)));
        var pid = (await ppp.LaunchAsync(Config, [0], "g1")).Single().Process!.Pid;
        const int lines = PrelaunchedPpp.MaxBufferedLines * 50;
        var events = inner.Events[0];
        events.Output(0, pid, "Using interface ppp0");
        events.InterfaceAssigned(0, pid, "ppp0");
        for (var n = 0; n < lines; n++) events.Output(0, pid, $"line {n}");
        events.Output(0, pid, "Modem hangup");
        events.Exited(new PppExit(0, pid, 16, "modem hangup", FailureKind.Transient));

        var actor = new RecordingEvents();
        var taken = await ppp.StartAsync(new PppLaunch(0, Config, "x"), actor);

        Assert.Equal("ppp0", taken.Interface);
        var newest = Enumerable.Range(lines - PrelaunchedPpp.MaxBufferedLines + 1, PrelaunchedPpp.MaxBufferedLines - 1).Select(n => $"out line {n}");
        Assert.Equal(["if ppp0", .. newest, "out Modem hangup", "exit 16"], actor.Seen);
        Assert.Equal([(0, lines + 2 - PrelaunchedPpp.MaxBufferedLines)], told);
    }

    [Fact]
    public async Task Events_from_several_threads_during_the_take_over_are_neither_duplicated_nor_reordered_and_only_old_ones_are_dropped()
    {
        const int threads = 4, perThread = 3000;
        var inner = new FakePpp();
        var dropped = 0;
        var ppp = new PrelaunchedPpp(inner, (_, count) => dropped += count);
        var pid = (await ppp.LaunchAsync(Config, [0], "g1")).Single().Process!.Pid;
        var events = inner.Events[0];
        using var go = new ManualResetEventSlim();
        var halfway = new CountdownEvent(threads);
        var writers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            go.Wait();
            for (var n = 0; n < perThread; n++)
            {
                if (n == perThread / 2) halfway.Signal();
                events.Output(0, pid, $"{t} {n}");
            }
        })).ToList();
        foreach (var w in writers) w.Start();
        go.Set();
        // The take-over lands while every writer is in the middle of its lines.
        Assert.True(halfway.Wait(TimeSpan.FromSeconds(30)));
        var actor = new RecordingEvents();
        await ppp.StartAsync(new PppLaunch(0, Config, "x"), actor);
        foreach (var w in writers) Assert.True(w.Join(TimeSpan.FromSeconds(30)));

        var seen = actor.Seen;
        // Half of each writer's lines came before the take-over: far more than the buffer keeps.
        Assert.True(dropped > 0);
        Assert.Equal(threads * perThread, seen.Count + dropped);
        for (var t = 0; t < threads; t++)
        {
            var mine = seen.Select(s => s.Split(' ')).Where(p => p[1] == t.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Select(p => int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            // What a writer lost is its oldest lines (all of them, if it finished before the take-over and the others
            // wrote on): the rest arrive once each, in order, up to its last.
            var first = mine.Count == 0 ? perThread : mine[0];
            Assert.Equal(Enumerable.Range(first, perThread - first), mine);
        }
    }

    /// <summary>What a link actor's <see cref="IPppEvents"/> received, as short strings, thread-safe.</summary>
    private sealed class RecordingEvents : IPppEvents
    {
        private readonly ConcurrentQueue<string> _seen = new();

        public List<string> Seen => [.. _seen];

        public void Exited(PppExit exit) => _seen.Enqueue($"exit {exit.ExitCode}");
        public void InterfaceAssigned(int link, int pid, string ifname) => _seen.Enqueue($"if {ifname}");
        public void Output(int link, int pid, string line) => _seen.Enqueue($"out {line}");
    }

    /// <summary>Records every call; a start hands out a new pid and keeps the events it was given.</summary>
    private sealed class FakePpp : IPppProcesses
    {
        private int _pid = 100;

        public List<string> Calls { get; } = [];
        public Dictionary<int, IPppEvents> Events { get; } = [];
        public Func<int, bool> Refuse { get; set; } = _ => false;

        public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
        {
            Calls.Add($"start {launch.Link} {launch.Generation ?? "-"}");
            if (Refuse(launch.Link)) throw new PortException($"link {launch.Link}: cannot start pppd");
            Events[launch.Link] = events;
            return Task.FromResult(new PppProcess(launch.Link, ++_pid, null));
        }

        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default)
        {
            Calls.Add($"adopt {launch.Link}");
            return Task.FromResult<PppProcess?>(null);
        }

        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default)
        {
            lock (Calls) Calls.Add($"stop {process.Pid}");
            return Task.CompletedTask;
        }

        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default)
        {
            lock (Calls) Calls.Add($"end {launch.Link}");
            return Task.CompletedTask;
        }

        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default)
        {
            lock (Calls) Calls.Add($"check {launch.Link}");
            return Task.FromResult(true);
        }
    }
}

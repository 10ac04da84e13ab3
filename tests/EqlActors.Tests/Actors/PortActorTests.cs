using Akka.Actor;
using EqlActors.Actors;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>One effect at a time, but never forever: timeouts, cancellation, late results and coalesced ticks.</summary>
public class PortActorTests : BundleSpec
{
    private sealed class Effects : PortActor
    {
        public sealed record Go(TimeSpan Timeout);
        public sealed record Tick : ICoalesced;
        public sealed record Other(int N);

        public Effects(IActorRef probe, TaskCompletionSource<int> result)
        {
            Receive<Go>(m => RunPort(ct =>
            {
                ct.Register(() => probe.Tell("cancelled"));
                return result.Task;
            }, r => probe.Tell($"completed {r}"), ex => probe.Tell(ex), m.Timeout));
            Receive<Tick>(_ => probe.Tell("tick"));
            Receive<Other>(m => probe.Tell(m));
        }
    }

    private (IActorRef Actor, Akka.TestKit.TestProbe Probe, TaskCompletionSource<int> Result) Create(string name)
    {
        CreateWorld();
        var probe = CreateTestProbe();
        var result = new TaskCompletionSource<int>();
        var actor = Root.CreateChild(Props.Create(() => new Effects(probe.Ref, result)).WithDispatcher(SimulationHosting.Dispatcher), name);
        return (actor, probe, result);
    }

    /// <summary>
    /// As the simulated world completes its calls: without the test runner's SynchronizationContext, so that the
    /// result comes back inline on this thread (with one, .NET would post it to the pool, outside virtual time).
    /// </summary>
    private static void Complete(TaskCompletionSource<int> result, int value)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            result.SetResult(value);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>An actor with one read and one effect, each answered by its own task.</summary>
    private sealed class Reads : PortActor
    {
        public sealed record Read(TimeSpan Timeout);
        public sealed record Effect;

        public Reads(IActorRef probe, TaskCompletionSource<int> read, TaskCompletionSource<int> effect)
        {
            Receive<Read>(m => RunRead(ct =>
            {
                ct.Register(() => probe.Tell("read cancelled"));
                return read.Task;
            }, r => probe.Tell($"read {r}"), ex => probe.Tell(ex), m.Timeout));
            Receive<Effect>(_ => RunPort(() => effect.Task, r => probe.Tell($"effect {r}"), ex => probe.Tell(ex)));
            Receive<Effects.Other>(m => probe.Tell(m));
        }
    }

    [Fact]
    public void A_read_holds_no_message_back_and_its_answer_waits_only_for_an_effect_in_flight()
    {
        CreateWorld();
        var probe = CreateTestProbe();
        var (read, effect) = (new TaskCompletionSource<int>(), new TaskCompletionSource<int>());
        var actor = Root.CreateChild(Props.Create(() => new Reads(probe.Ref, read, effect)).WithDispatcher(SimulationHosting.Dispatcher), "reads");

        actor.Tell(new Reads.Read(TimeSpan.FromSeconds(30)));
        actor.Tell(new Effects.Other(1));
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal([new Effects.Other(1)], Drain(probe));

        // The read answers while an effect is in flight: its answer comes after the effect's, never inside it.
        actor.Tell(new Reads.Effect());
        Advance(TimeSpan.FromMilliseconds(100));
        Complete(read, 1);
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(Drain(probe));
        Complete(effect, 2);
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(["effect 2", "read 1"], Drain(probe));
    }

    [Fact]
    public void A_read_that_never_answers_is_cancelled_at_its_timeout()
    {
        CreateWorld();
        var probe = CreateTestProbe();
        var actor = Root.CreateChild(Props.Create(() => new Reads(probe.Ref, new TaskCompletionSource<int>(), new TaskCompletionSource<int>())).WithDispatcher(SimulationHosting.Dispatcher), "hung-read");

        actor.Tell(new Reads.Read(TimeSpan.FromSeconds(5)));
        Advance(TimeSpan.FromSeconds(4));
        actor.Tell(new Effects.Other(3));
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal([new Effects.Other(3)], Drain(probe));

        Advance(TimeSpan.FromSeconds(1.5));
        var seen = Drain(probe);
        Assert.Equal("read cancelled", seen[0]);
        Assert.IsType<TimeoutException>(Assert.Single(seen.Skip(1)));
    }

    [Fact]
    public void A_hung_effect_is_cancelled_at_its_timeout_and_the_ticks_that_piled_up_meanwhile_run_once()
    {
        var (actor, probe, result) = Create("hung");

        actor.Tell(new Effects.Go(TimeSpan.FromSeconds(5)));
        for (var i = 0; i < 50; i++) actor.Tell(new Effects.Tick());
        actor.Tell(new Effects.Other(1));
        actor.Tell(new Effects.Other(2));
        Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(Drain(probe));

        Advance(TimeSpan.FromSeconds(2));
        var seen = Drain(probe);
        Assert.Equal("cancelled", seen[0]);
        Assert.IsType<TimeoutException>(seen[1]);
        Assert.Equal(["tick", new Effects.Other(1), new Effects.Other(2)], seen.Skip(2));

        // The result that comes after all is not taken for anything.
        Complete(result, 7);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(Drain(probe));
    }

    [Fact]
    public void An_effect_that_answers_in_time_is_neither_cancelled_nor_timed_out_later()
    {
        var (actor, probe, result) = Create("prompt");

        actor.Tell(new Effects.Go(TimeSpan.FromSeconds(5)));
        actor.Tell(new Effects.Other(1));
        Advance(TimeSpan.FromSeconds(1));
        Complete(result, 3);
        Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(["completed 3", new Effects.Other(1)], Drain(probe));
    }
}

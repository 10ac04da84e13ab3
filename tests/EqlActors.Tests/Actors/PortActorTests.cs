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

using Akka.Actor;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>StopBundle always answers, whatever state the links are in, and leaves nothing behind.</summary>
public class StopTests : BundleSpec
{
    private static readonly SimulationOptions Lingering = new() { StopLinger = TimeSpan.FromSeconds(3) };

    [Fact]
    public void A_stop_that_reaches_a_link_while_it_is_ending_its_failed_chain_still_completes()
    {
        var events = SubscribeEvents();
        CreateBundle(options: Lingering);
        AdvanceUntilHealthy();
        Drain(events);

        // Link 1 fails; ending its old chain takes 3 s, during which the stop request arrives and waits in its stash.
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntil(() => Drain(events).OfType<LinkDown>().Any(d => d.Link == 1), TimeSpan.FromSeconds(5), "link 1 down");

        var stopped = StopBundle();

        Assert.Equal("bundle", stopped.Bundle);
        Assert.Empty(stopped.LinksNotStopped);
        // No link actor or backoff supervisor outlives the stop, so none can start a chain behind it.
        foreach (var link in Config.EffectiveLinks) Assert.False(Exists($"{Bundle.Path}/links/link-{link}"), $"link-{link} still exists");
        Advance(TimeSpan.FromMinutes(1));
        AssertNoLeaks();
        Assert.DoesNotContain(Sim.PppStarts, s => s.At > stopped.At);

        // And the bundle starts again under the same names.
        Bundle.Tell(new StartBundle());
        AdvanceUntilHealthy();
        AssertInvariants();
    }

    [Fact]
    public void A_stop_that_links_cannot_confirm_is_bounded_and_names_them()
    {
        // Ending a chain hangs far longer than any stop may take (a pppd that ignores SIGTERM and a stuck SIGKILL).
        CreateBundle(options: new SimulationOptions { StopLinger = TimeSpan.FromMinutes(10) });
        AdvanceUntilHealthy();
        var from = Clock.Now;

        var stopped = StopBundle();

        Assert.True(stopped.At - from < TimeSpan.FromSeconds(30), $"stop took {stopped.At - from}");
        Assert.Equal(Config.EffectiveLinks, stopped.LinksNotStopped);
        foreach (var link in Config.EffectiveLinks) Assert.False(Exists($"{Bundle.Path}/links/link-{link}"), $"link-{link} still exists");
        Assert.Empty(Sim.Slaves);
        Assert.Equal([SimulatedSystem.ForeignRoute], Sim.Routes);
        // The chains end when their stop finally does: the actors were not waiting for them any longer.
        Advance(TimeSpan.FromMinutes(11));
        AssertNoLeaks();
    }

    private bool Exists(string path)
    {
        var identity = Sys.ActorSelection(path).Ask<ActorIdentity>(new Identify(null), Timeout.InfiniteTimeSpan);
        Assert.True(identity.Wait(TimeSpan.FromSeconds(10)), "no identity reply");
        return identity.Result.Subject is not null;
    }

    [Fact]
    public void A_stop_while_a_link_waits_out_its_backoff_completes_and_nothing_restarts_it()
    {
        var events = SubscribeEvents();
        var supervision = new SupervisionConfig { MinBackoff = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromSeconds(30) };
        CreateBundle(new BundleConfig { Supervision = supervision }, Lingering);
        AdvanceUntilHealthy();
        Drain(events);

        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        // Past the 3 s of ending the old chain: the link actor is gone and its supervisor waits out the backoff.
        Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(LinkPhase.BackingOff, Status().Links.Single(l => l.Link == 1).Phase);
        var starts = Sim.PppStarts.Count;

        var stopped = StopBundle();

        Advance(TimeSpan.FromMinutes(1));
        AssertNoLeaks();
        Assert.Equal(starts, Sim.PppStarts.Count);
        Assert.Equal(stopped.Bundle, Assert.Single(Drain(events).OfType<BundleStopped>()).Bundle);
    }
}

using Akka.Actor;
using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>
/// A child of the bundle that throws is restarted and comes back active: it goes on healing what it owns.
/// <c>Kill</c> makes the child throw (<c>ActorKilledException</c>), which Akka's default strategy would answer with a
/// stop; the bundle's own strategy restarts it like any other failure.
/// </summary>
public class BundleSupervisionTests : BundleSpec
{
    private void Throw(string child)
    {
        Sys.ActorSelection(Bundle.Path / child).Tell(Kill.Instance);
        Advance(TimeSpan.FromSeconds(1));
    }

    private IActorRef? Resolve(string child)
    {
        var found = Sys.ActorSelection(Bundle.Path / child).Ask<ActorIdentity>(new Identify(null), Timeout.InfiniteTimeSpan);
        Assert.True(found.Wait(TimeSpan.FromSeconds(10)), "no identity reply");
        return found.Result.Subject;
    }

    [Fact]
    public void A_restarted_eql_actor_brings_the_master_back_and_re_enslaves_every_link()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        var before = Resolve("eql");

        Throw("eql");
        Assert.Equal(before, Resolve("eql"));
        Sim.TakeEqlMasterDown();

        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        AssertInvariants();
        Assert.True(Status().Ready);
    }

    [Fact]
    public void A_restarted_route_actor_restores_a_deleted_route()
    {
        CreateBundle();
        AdvanceUntilHealthy();

        Throw("routes");
        Assert.True(Sim.DeleteRoute(DesiredRoutesOfConfig[^1]));

        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        AssertInvariants();
    }

    [Fact]
    public void A_restarted_link_supervisor_adopts_the_running_chains_and_heals_the_next_failure()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        var starts = Sim.PppStarts.Count;

        Throw("links");
        Advance(TimeSpan.FromSeconds(30));
        // Adopted, not restarted: the chains were healthy.
        Assert.Equal(starts, Sim.PppStarts.Count);
        AssertInvariants();

        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntilHealthy(TimeSpan.FromMinutes(1));
        AssertInvariants();
        Assert.True(Status().Ready);
    }

    [Fact]
    public void A_restarted_remote_actor_still_cleans_host_b_at_stop()
    {
        CreateBundle();
        AdvanceUntilHealthy();

        Throw("remote");
        Sim.KillRemoteSlirp();
        AdvanceUntilHealthy(TimeSpan.FromMinutes(2));
        AssertInvariants();

        var stopped = StopBundle();
        Assert.Empty(stopped.LinksNotStopped);
        Advance(TimeSpan.FromSeconds(5));
        AssertNoLeaks();
    }

    [Fact]
    public void A_child_that_fails_while_it_owes_the_stop_a_reply_gets_the_request_again_and_the_stop_completes()
    {
        CreateBundle(options: new EqlActors.Simulation.SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        AdvanceUntilHealthy();

        var stopping = Bundle.Ask<BundleStopped>(new StopBundle(), Timeout.InfiniteTimeSpan);
        // The chains take 3 s to end: the link supervisor is waiting for them when it fails, and its old instance
        // takes the pending stop with it. Without the bundle asking the new instance again, no answer would come.
        Advance(TimeSpan.FromSeconds(1));
        Assert.False(stopping.IsCompleted);
        Throw("links");
        for (var i = 0; i < 100 && !stopping.IsCompleted; i++) Clock.Advance(Step);

        Assert.True(stopping.IsCompletedSuccessfully, "the stop never completed");
        Advance(TimeSpan.FromSeconds(5));
        AssertNoLeaks();
    }
}

using Akka.Actor;
using Akka.TestKit;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// The link supervisor's stop protocol, with a probe for the bundle: <see cref="LinksStopped"/> comes only after
/// every link's supervisor terminated, which each does only once its chain is gone.
/// </summary>
public class LinkSupervisorTests : BundleSpec
{
    private TestProbe _bundle = null!;
    private IActorRef _links = null!;

    private void Start(BundleConfig? config = null, SimulationOptions? options = null, bool startLinks = true)
    {
        CreateWorld(config, (options ?? new SimulationOptions()) with { StaleRemoteSlirp = false, RcFilesPresent = true });
        _bundle = CreateTestProbe();
        _bundle.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is LinkReadyToStart r) sender.Tell(new StartLink(r.Link));
            return AutoPilot.KeepRunning;
        }));
        var ctx = new BundleContext("bundle", Config, Sim.Ports, _bundle.Ref, SimulationHosting.Dispatcher, new Random(1));
        _links = Root.CreateChild(LinkSupervisor.Props(ctx), "links");
        if (!startLinks) return;
        _links.Tell(new StartLinks());
        AdvanceUntil(() => Config.EffectiveLinks.All(l => Sim.InterfaceOf(l) is { } i && Sim.Interface(i).IsUp), TimeSpan.FromMinutes(1), "every link up");
    }

    private int LocalProcesses => Sim.Processes.Count(p => !p.OnRemote);

    /// <summary>Asks for the stop and advances until the answer; returns it and how much virtual time it took.</summary>
    private (LinksStopped Answer, TimeSpan Took) Stop(TestProbe requester)
    {
        var from = Clock.Now;
        _links.Tell(new StopLinks(), requester.Ref);
        for (var i = 0; i < 600 && !requester.HasMessages; i++) Clock.Advance(Step);
        return (requester.ExpectMsg<LinksStopped>(TimeSpan.Zero), Clock.Now - from);
    }

    private bool Exists(string name) => !Sys.ActorSelection(_links.Path / name).ResolveOne(TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsFaulted).Result;

    [Fact]
    public void Stopped_is_answered_once_every_chain_is_gone_and_every_link_supervisor_terminated()
    {
        Start(options: new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        var requester = CreateTestProbe();

        var (stopped, took) = Stop(requester);

        // Ending a chain takes 3 s here: an answer before that would be a lie.
        Assert.True(took >= TimeSpan.FromSeconds(3), $"answered after {took}");
        Assert.Empty(stopped.NotStopped);
        Assert.Equal(0, LocalProcesses);
        Assert.All(Config.EffectiveLinks, l => Assert.False(Exists($"link-{l}"), $"link-{l} still exists"));
        Assert.Equal(Config.EffectiveLinks.Length, Drain(_bundle).OfType<LinkStopped>().Count());
    }

    [Fact]
    public void Every_requester_gets_the_answer_and_an_idle_supervisor_answers_at_once()
    {
        Start(startLinks: false);
        var first = CreateTestProbe();
        Assert.Empty(Stop(first).Answer.NotStopped);

        _links.Tell(new StartLinks());
        AdvanceUntil(() => Sim.InterfaceOf(2) is { } i && Sim.Interface(i).IsUp, TimeSpan.FromMinutes(1), "link 2 up");
        var second = CreateTestProbe();
        _links.Tell(new StopLinks(), first.Ref);
        var (answer, _) = Stop(second);
        Assert.Empty(answer.NotStopped);
        Assert.Empty(first.ExpectMsg<LinksStopped>(TimeSpan.FromSeconds(1)).NotStopped);
        Assert.Equal(0, LocalProcesses);
    }

    [Fact]
    public void A_link_between_two_attempts_stops_at_once_and_is_never_started_again()
    {
        Start(new BundleConfig { Supervision = new SupervisionConfig { MinBackoff = TimeSpan.FromSeconds(30), MaxBackoff = TimeSpan.FromSeconds(30) } });
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        Advance(TimeSpan.FromSeconds(2));
        var starts = Sim.PppStarts.Count;

        var (stopped, took) = Stop(CreateTestProbe());

        Assert.Empty(stopped.NotStopped);
        Assert.True(took < TimeSpan.FromSeconds(2), $"took {took}");
        Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(starts, Sim.PppStarts.Count);
        Assert.Equal(0, LocalProcesses);
    }

    [Fact]
    public void A_chain_that_never_ends_bounds_the_stop_names_its_link_and_the_links_start_again_afterwards()
    {
        Start(options: new SimulationOptions { StopLinger = TimeSpan.FromMinutes(10) });

        var (stopped, took) = Stop(CreateTestProbe());

        var bound = Config.Supervision.StopGrace * 2 + TimeSpan.FromSeconds(10);
        Assert.True(took >= bound && took < bound + TimeSpan.FromSeconds(1), $"took {took}, bound {bound}");
        Assert.Equal(Config.EffectiveLinks, stopped.NotStopped);

        // The abandoned supervisors may still hold their names: new ones start anyway.
        Advance(TimeSpan.FromMinutes(11));
        _links.Tell(new StartLinks());
        AdvanceUntil(() => Config.EffectiveLinks.All(l => Sim.InterfaceOf(l) is { } i && Sim.Interface(i).IsUp), TimeSpan.FromMinutes(1), "every link up again");
    }
}

using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// After host_B's main slirp died every link drops and restarts at once. Only unit 0 starts a new main slirp; a unit
/// that reaches host_B before its socket is served fails "cannot connect to Slirp socket" and waits out a longer
/// backoff, unless the link wrapper waits for the socket (RemoteScripts.LinkWrapper, modelled by the simulation).
/// </summary>
public class MainSlirpRestartTests : BundleSpec
{
    private (List<LinkDown> Downs, int Starts) KillMainSlirpAndHeal(bool unitsWait, int seed)
    {
        CreateBundle(options: new SimulationOptions { UnitsWaitForMainSlirp = unitsWait, Seed = seed });
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        var events = SubscribeEvents();
        var starts = Sim.PppStarts.Count;

        Sim.KillRemoteSlirp();
        Assert.NotNull(Sim.Unhealthy(DesiredRoutesOfConfig));
        AdvanceUntilHealthy(TimeSpan.FromMinutes(3));
        AssertInvariants();
        return (Drain(events).OfType<LinkDown>().ToList(), Sim.PppStarts.Count - starts);
    }

    // Seeds whose attach orders differ: in 3 and 7 a unit other than 0 reaches host_B first (the next test), in 42 unit 0 does.
    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(42)]
    public void Every_link_is_back_in_one_attempt_when_the_other_units_wait_for_the_new_main_slirp(int seed)
    {
        var (downs, starts) = KillMainSlirpAndHeal(unitsWait: true, seed);

        Assert.DoesNotContain(downs, d => d.Class == FailureClass.SlirpAttach);
        Assert.Equal(Config.EffectiveLinks.Length, starts);
        Assert.Equal(Config.EffectiveLinks.Length, downs.Count);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    public void Without_the_wait_a_unit_that_arrives_first_fails_to_attach_and_needs_another_attempt(int seed)
    {
        var (downs, starts) = KillMainSlirpAndHeal(unitsWait: false, seed);

        Assert.Contains(downs, d => d.Class == FailureClass.SlirpAttach && d.Link != 0);
        Assert.True(starts > Config.EffectiveLinks.Length, $"{starts} starts for {Config.EffectiveLinks.Length} links");
    }

    /// <summary>
    /// remote.reuseConnection: every link was up and hung up (class hangup), so each keeps its own ssh master and the
    /// three restarts open sessions over them, skipping the jump host's cost; the bundle's own start made none.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(42)]
    public void After_the_main_slirp_died_every_link_restarts_over_its_own_kept_connection(int seed)
    {
        var before = 0;
        CreateBundle(options: new SimulationOptions { Seed = seed });
        AdvanceUntilHealthy();
        Assert.DoesNotContain(Sim.PppStarts, s => s.ReusedConnection);
        Assert.Equal(Config.EffectiveLinks.ToHashSet(), Sim.KeptConnections.ToHashSet());
        before = Sim.PppStarts.Count;
        var endRequests = Sim.ConnectionEndRequests;

        Sim.KillRemoteSlirp();
        AdvanceUntilHealthy(TimeSpan.FromMinutes(3));

        var restarts = Sim.PppStarts.Skip(before).ToList();
        Assert.Equal(Config.EffectiveLinks.Order(), restarts.Select(s => s.Link).Order());
        Assert.All(restarts, s => Assert.True(s.ReusedConnection, $"link {s.Link} connected afresh"));
        Assert.Equal(endRequests, Sim.ConnectionEndRequests);
    }
}

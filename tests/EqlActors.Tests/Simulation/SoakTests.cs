using EqlActors.Simulation;

namespace EqlActors.Tests.Simulation;

public class SoakTests
{
    [Fact]
    public void Thousands_of_random_faults_over_two_simulated_days_all_heal_and_nothing_leaks()
    {
        // 200 ms steps: half the resolution of the other tests. How long it takes is measured by bench/, not here.
        var run = new SimulationRun { Faults = 2000, Duration = TimeSpan.FromDays(2), Seed = 7, Step = TimeSpan.FromMilliseconds(200) };
        var report = new SimulationRunner(run).Run();

        Assert.Empty(report.Unrecovered);
        Assert.Equal(2000, report.FaultsInjected);
        Assert.Equal(2000, report.FaultsRecovered);
        Assert.All(Enum.GetNames<FaultKind>(), k => Assert.True(report.FaultKinds[k] > 100, $"{k}: {report.FaultKinds[k]}"));
        Assert.True(report.SimulatedSeconds >= TimeSpan.FromDays(2).TotalSeconds);
        Assert.Equal(new SimulationLeaks(0, 0, 0), report.Leaks);
        Assert.True(report.MaxRecoverySeconds < 180, $"max recovery {report.MaxRecoverySeconds} s");
    }

    [Fact]
    public void Stock_slirp_several_bundles_and_priority_1_heal_too()
    {
        var report = new SimulationRunner(new SimulationRun { Faults = 300, Bundles = 3, StockSlirp = true, Priority = 1, Duration = TimeSpan.FromHours(6), Seed = 3 }).Run();

        Assert.Empty(report.Unrecovered);
        Assert.Equal(300, report.FaultsRecovered);
        Assert.Equal(new SimulationLeaks(0, 0, 0), report.Leaks);
        // Priority 1 never decays: every link restart leaves the restarted slave ahead, and the actor rebalances.
        Assert.True(report.ImbalancesHealed > 20, $"{report.ImbalancesHealed} rebalances");
    }
}

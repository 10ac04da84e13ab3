using System.Net;
using Akka.TestKit.Xunit2;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Simulation;

/// <summary>The simulated world on its own: the driver's and slirp's rules that the actors must cope with.</summary>
public class SimulatedSystemTests() : TestKit(SimulationHosting.Config)
{
    private sealed class RecordingEvents : IPppEvents
    {
        public List<PppExit> Exits { get; } = [];
        public List<string> Interfaces { get; } = [];
        public void Exited(PppExit exit) => Exits.Add(exit);
        public void InterfaceAssigned(int link, int pid, string ifname) => Interfaces.Add(ifname);
        public void Output(int link, int pid, string line) { }
    }

    private readonly BundleConfig _config = new();
    // pppd start to interface up: 1.5-2.8 s, plus 1.2 s for the default configuration's jump host.
    private static readonly TimeSpan AttachTime = TimeSpan.FromSeconds(4.5);
    private Akka.TestKit.TestScheduler Clock => (Akka.TestKit.TestScheduler)Sys.Scheduler;

    private void Advance(TimeSpan span)
    {
        for (var t = TimeSpan.Zero; t < span; t += TimeSpan.FromMilliseconds(100)) Clock.Advance(TimeSpan.FromMilliseconds(100));
    }

    private (SimulatedSystem Sim, SystemPorts Ports) World(SimulationOptions? options = null)
    {
        var sim = new SimulatedSystem(Clock, _config, options ?? new SimulationOptions { StaleRemoteSlirp = false, RcFilesPresent = true });
        return (sim, sim.Ports);
    }

    private static EqlMasterSpec Spec(int mtu = 1500) => new("eql", IPAddress.Parse("172.16.1.1"), IPAddress.Parse("255.255.255.0"), mtu);

    private static async Task<PortException> Refused(Func<Task> call) => await Assert.ThrowsAsync<PortException>(call);

    [Fact]
    public async Task Eql_enforces_the_drivers_rules()
    {
        var (sim, ports) = World();
        Assert.Contains("ENODEV", (await Refused(() => ports.Eql.EnslaveAsync("eql", "ppp0", 1))).Message);
        await ports.Eql.EnsureMasterAsync(Spec());
        Assert.Contains("ENODEV", (await Refused(() => ports.Eql.EnslaveAsync("eql", "ppp9", 1))).Message);

        var events = new RecordingEvents();
        foreach (var link in new[] { 0, 1, 2, 3 }) await ports.Ppp.StartAsync(new PppLaunch(link, _config), events);
        Advance(AttachTime);
        Assert.Equal(4, events.Interfaces.Count);

        foreach (var i in events.Interfaces) await ports.Eql.EnslaveAsync("eql", i, 10_000_000);
        Assert.Contains("EINVAL", (await Refused(() => ports.Eql.EnslaveAsync("eql", "ppp0", 1))).Message);
        await ports.Eql.EmancipateAsync("eql", "ppp3");
        await ports.Eql.EnsureMasterAsync(Spec(1400));
        Assert.Contains("MTU", (await Refused(() => ports.Eql.EnslaveAsync("eql", "ppp3", 1))).Message);
        await ports.Eql.EnsureMasterAsync(Spec());

        sim.TakeEqlMasterDown();
        Assert.Empty(sim.Slaves);
        Assert.Contains("EINVAL", (await Refused(() => ports.Eql.EnslaveAsync("eql", "ppp0", 1))).Message);
    }

    [Fact]
    public async Task Eql_takes_at_most_four_slaves()
    {
        var (sim, ports) = World();
        await ports.Eql.EnsureMasterAsync(Spec());
        var events = new RecordingEvents();
        foreach (var link in new[] { 0, 1, 2, 3 }) await ports.Ppp.StartAsync(new PppLaunch(link, _config), events);
        // A fifth pppd for link 0 gets whatever pppK is free, but slirp refuses a second attach to unit 0.
        Advance(AttachTime);
        foreach (var i in events.Interfaces) await ports.Eql.EnslaveAsync("eql", i, 1);
        Assert.Equal(4, sim.Slaves.Count);
        Assert.Equal(SimulatedSystem.MaxSlaves, (await ports.Eql.GetMasterAsync("eql")).MaxSlaves);
    }

    [Fact]
    public async Task A_dead_slave_is_buried_by_the_one_second_timer()
    {
        var (sim, ports) = World();
        await ports.Eql.EnsureMasterAsync(Spec());
        var events = new RecordingEvents();
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        Advance(AttachTime);
        await ports.Eql.EnslaveAsync("eql", "ppp0", 1);

        sim.TakeLinkDown(0);
        Assert.Single(sim.Slaves);
        Advance(TimeSpan.FromSeconds(1.1));

        Assert.Empty(sim.Slaves);
    }

    /// <summary>The daemon's simulate-fault accepts every condition's name: each must do something on a running link.</summary>
    [Fact]
    public async Task Every_simulated_condition_applies_to_a_world_with_a_link_up()
    {
        var (sim, ports) = World();
        // link 0: its unit makes the main slirp that the other units wait for
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), new RecordingEvents());
        Advance(AttachTime);

        foreach (var condition in Enum.GetValues<SimulatedCondition>())
            Assert.True(sim.Apply(condition, 0) is not null, $"{condition} was not applied");
    }

    [Fact]
    public async Task A_unit_still_held_by_an_old_ssh_refuses_the_next_attach_and_locks_out_for_ten_seconds()
    {
        var (sim, ports) = World();
        var events = new RecordingEvents();
        // Unit 0's chain runs the main slirp that serves the other units' attaches.
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        Advance(AttachTime);
        var first = await ports.Ppp.StartAsync(new PppLaunch(1, _config), events);
        Advance(AttachTime);
        sim.InjectPppdExit(1, PppExitCodes.Signal);

        // Not stopping the old chain: its ssh still holds unit 1.
        await ports.Ppp.StartAsync(new PppLaunch(1, _config), events);
        Advance(AttachTime);
        Assert.Equal(PppExitCodes.Hangup, events.Exits[^1].ExitCode);
        Assert.Contains("still attached", events.Exits[^1].Reason);

        // Now the chain goes, but the refused attach locked the unit for ~10 s.
        await ports.Ppp.StopAsync(first, TimeSpan.FromSeconds(3));
        await ports.Ppp.StartAsync(new PppLaunch(1, _config), events);
        Advance(AttachTime);
        Assert.Contains("refuses attaches", events.Exits[^1].Reason);

        Advance(TimeSpan.FromSeconds(8));
        var exits = events.Exits.Count;
        await ports.Ppp.StartAsync(new PppLaunch(1, _config), events);
        Advance(AttachTime);
        Assert.Equal(exits, events.Exits.Count);
        Assert.True(sim.Interface("ppp1").IsUp);
    }

    [Fact]
    public async Task Stock_slirp_drops_unit_0_whenever_another_unit_goes_down_and_the_main_slirp_outlives_unit_0()
    {
        var (sim, ports) = World(new SimulationOptions { Slirp = SlirpBuild.Stock, StaleRemoteSlirp = false, RcFilesPresent = true });
        var events = new RecordingEvents();
        var zero = await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        await ports.Ppp.StartAsync(new PppLaunch(1, _config), events);
        Advance(AttachTime);

        sim.InjectPppdExit(1, PppExitCodes.Hangup);

        Assert.False(sim.Interface("ppp0").IsUp);
        Assert.Contains(sim.Processes, p => p.Pid == zero.Pid);

        await ports.Ppp.StopAsync(zero, TimeSpan.FromSeconds(3));
        Assert.Contains(sim.Processes, p => p is { Kind: SimProcessKind.Slirp, Link: -1 });
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        Advance(AttachTime);
        Assert.True(sim.Interface("ppp0").IsUp);
    }

    [Fact]
    public async Task Download_comes_back_over_one_unit_only()
    {
        var (sim, ports) = World();
        await ports.Eql.EnsureMasterAsync(Spec());
        var events = new RecordingEvents();
        foreach (var link in new[] { 0, 1, 2 }) await ports.Ppp.StartAsync(new PppLaunch(link, _config), events);
        Advance(AttachTime);
        foreach (var i in events.Interfaces) await ports.Eql.EnslaveAsync("eql", i, 10_000_000);

        var rx = new[] { "ppp0", "ppp1", "ppp2" }.ToDictionary(i => i, i => sim.Interface(i).RxBytes);
        Advance(TimeSpan.FromSeconds(30));

        Assert.True(sim.Interface("ppp0").RxBytes > rx["ppp0"]);
        Assert.Equal(rx["ppp1"], sim.Interface("ppp1").RxBytes);
        Assert.Equal(rx["ppp2"], sim.Interface("ppp2").RxBytes);
        Assert.All(new[] { "ppp0", "ppp1", "ppp2" }, i => Assert.True(sim.Interface(i).TxBytes > 0));
    }

    [Fact]
    public async Task Routes_through_a_device_vanish_with_it()
    {
        var (sim, ports) = World();
        await ports.Eql.EnsureMasterAsync(Spec());
        var route = new Route(new Cidr(IPAddress.Parse("192.168.1.0"), 24), "eql");
        await ports.Routes.AddAsync(route);
        Assert.Contains(route, sim.Routes);

        sim.UnloadEqlModule();

        Assert.DoesNotContain(route, sim.Routes);
        Assert.Contains(SimulatedSystem.ForeignRoute, sim.Routes);
        await Refused(() => ports.Routes.AddAsync(route));
    }

    [Fact]
    public async Task Authentication_refused_is_a_permanent_failure_and_unreachable_a_transient_one()
    {
        var (sim, ports) = World();
        var events = new RecordingEvents();
        sim.RefuseAuthentication();
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        Advance(AttachTime);
        Assert.Equal(FailureKind.Permanent, events.Exits[^1].Kind);
        Assert.Equal(FailureKind.Permanent, (await Refused(() => ports.Remote.KillStaleSlirpAsync())).Kind);

        sim.AcceptAuthentication();
        sim.MakeRemoteUnreachable(TimeSpan.FromSeconds(30));
        await ports.Ppp.StartAsync(new PppLaunch(0, _config), events);
        Advance(AttachTime);
        Assert.Equal(FailureKind.Transient, events.Exits[^1].Kind);
        Assert.Equal(FailureKind.Transient, (await Refused(() => ports.Remote.WriteRcFilesAsync([0]))).Kind);
    }
}

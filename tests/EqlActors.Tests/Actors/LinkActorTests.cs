using Akka.Actor;
using Akka.TestKit;
using EqlActors.Actors;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>One <see cref="LinkActor"/> alone: probes stand for the bundle and for its backoff supervisor.</summary>
public class LinkActorTests : BundleSpec
{
    private TestProbe _bundle = null!;
    private TestProbe _parent = null!;
    private IActorRef _host = null!;

    /// <summary>The bundle's part: every link that asks gets the go-ahead at once.</summary>
    private void Start(SimulationOptions? options = null, Action? before = null, string? generation = null, bool reuse = true, Func<SystemPorts, SystemPorts>? ports = null)
    {
        CreateWorld(new EqlActors.Configuration.BundleConfig { Remote = new EqlActors.Configuration.RemoteConfig { ReuseConnection = reuse } },
            (options ?? new SimulationOptions()) with { StaleRemoteSlirp = false, RcFilesPresent = true });
        before?.Invoke();
        _bundle = CreateTestProbe();
        _bundle.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is LinkReadyToStart r) sender.Tell(new StartLink(r.Link, generation));
            return AutoPilot.KeepRunning;
        }));
        _parent = CreateTestProbe();
        var ctx = new BundleContext("bundle", Config, ports?.Invoke(Sim.Ports) ?? Sim.Ports, _bundle.Ref, SimulationHosting.Dispatcher, new Random(1));
        _host = Root.CreateChild(Props.Create(() => new ProbeParent(LinkActor.Props(ctx, 0), "pppd", _parent.Ref)).WithDispatcher(SimulationHosting.Dispatcher), "host");
    }

    /// <summary>Link 0 up, with stops that take 3 s of virtual time to end the chain; what it told so far is drained.</summary>
    private void StartUpWithLingeringStops()
    {
        Start(new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);
        Drain(_parent);
    }

    private bool IsUp() => Sim.InterfaceOf(0) is { } ifname && Sim.Interface(ifname) is { Exists: true, IsUp: true };

    private List<SimProcess> LocalChain() => [.. Sim.Processes.Where(p => !p.OnRemote && p.Link == 0)];

    [Fact]
    public void It_asks_for_the_go_ahead_starts_pppd_and_reports_up_to_the_bundle_and_a_reset_to_its_supervisor()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Advance(TimeSpan.FromSeconds(1));

        var toBundle = Drain(_bundle);
        Assert.IsType<LinkReadyToStart>(toBundle[0]);
        Assert.Equal(0, Assert.Single(toBundle.OfType<LinkStarting>()).Link);
        Assert.Equal(Sim.InterfaceOf(0), Assert.Single(toBundle.OfType<LinkUp>()).Interface);
        Assert.IsType<ResetBackoff>(Assert.Single(Drain(_parent)));
    }

    [Fact]
    public void A_failed_attempt_ends_the_chain_reports_the_reason_and_stops_the_actor_without_throwing()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);
        Drain(_parent);

        Sim.InjectPppdExit(0, PppExitCodes.LcpEchoTimeout);
        Advance(TimeSpan.FromSeconds(2));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.False(down.Permanent);
        var toParent = Drain(_parent);
        var failed = Assert.IsType<LinkAttemptFailed>(toParent[0]);
        Assert.Contains("exit 15", failed.Reason);
        Assert.IsType<ProbeParent.ChildTerminated>(toParent[1]);
        Assert.DoesNotContain(toParent, m => m is ProbeParent.ChildFailed);
        // The ssh an LCP timeout leaves behind is gone too: the actor ended the whole chain before it went.
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void What_pppd_said_before_the_link_came_up_does_not_name_a_later_failure()
    {
        Start();
        AdvanceUntil(() => LocalChain().Any(p => p.Kind == SimProcessKind.Pppd), TimeSpan.FromSeconds(30), "pppd started");
        // A slow ssh: pppd's ten Configure-Requests went unanswered, then (passive) it waited and came up anyway.
        Assert.True(Sim.InjectPppdOutput(0, "LCP: timeout sending Config-Requests"));
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);

        Sim.InjectPppdExit(0, PppExitCodes.Hangup);
        Advance(TimeSpan.FromSeconds(2));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(FailureClass.Hangup, down.Class);
        Assert.DoesNotContain("never spoke PPP", down.Reason);
    }

    [Fact]
    public void Before_the_link_is_up_pppd_s_own_words_still_explain_its_failure()
    {
        Start();
        AdvanceUntil(() => LocalChain().Any(p => p.Kind == SimProcessKind.Pppd), TimeSpan.FromSeconds(30), "pppd started");
        Assert.True(Sim.InjectPppdOutput(0, "LCP: timeout sending Config-Requests"));
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(IsUp());
        Drain(_bundle);

        Sim.InjectPppdExit(0, PppExitCodes.Hangup);
        Advance(TimeSpan.FromSeconds(2));

        Assert.Contains("never spoke PPP", Assert.Single(Drain(_bundle).OfType<LinkDown>()).Reason);
    }

    [Fact]
    public void Pppd_saying_modem_hangup_fails_the_link_at_once_without_waiting_for_its_exit_or_the_interface()
    {
        StartUpWithLingeringStops();

        // The remote end closed the line: pppd says so, then runs ip-down and waits for its children before it exits
        // (seconds in the guest). Here it never exits by itself and its interface stays as it is.
        Assert.True(Sim.InjectPppdOutput(0, LinkActor.ModemHangup));
        Advance(TimeSpan.FromMilliseconds(200));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(FailureClass.Hangup, down.Class);
        Assert.Contains("modem hangup: the pty command", down.Reason);
        Assert.Contains("\"Modem hangup\"", down.Reason);
        Assert.False(down.Permanent);
        // The chain is still ended before the actor goes (the stop lingers 3 s), and the backoff learns when it failed.
        Assert.Empty(Drain(_parent));
        Advance(TimeSpan.FromSeconds(4));
        var toParent = Drain(_parent);
        var failed = Assert.IsType<LinkAttemptFailed>(toParent[0]);
        Assert.Equal(down.At, failed.FailedAt);
        Assert.Equal(FailureClass.Hangup, failed.Class);
        Assert.IsType<ProbeParent.ChildTerminated>(toParent[1]);
        Assert.Empty(LocalChain());
    }

    [Theory]
    // ssh's stderr reaches pppd's log descriptor before the hangup it causes: the hop's words still name the cause
    [InlineData("Timeout, server 127.0.0.1 not responding.", FailureClass.ConnectionLost)]
    // pppd-kill: a SIGTERM from outside, after which the ssh it ends hangs up the line
    [InlineData("Terminating on signal 15", FailureClass.PppdExit)]
    public void Lines_before_the_hangup_still_name_its_cause(string before, string cls)
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);

        Assert.True(Sim.InjectPppdOutput(0, before));
        Assert.True(Sim.InjectPppdOutput(0, LinkActor.ModemHangup));
        Advance(TimeSpan.FromMilliseconds(200));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(cls, down.Class);
        Assert.Contains(before, down.Reason);
    }

    [Fact]
    public void A_hangup_before_the_link_is_up_fails_at_once_with_ssh_s_reason()
    {
        Start();
        AdvanceUntil(() => LocalChain().Any(p => p.Kind == SimProcessKind.Pppd), TimeSpan.FromSeconds(30), "pppd started");
        Drain(_bundle);

        Assert.True(Sim.InjectPppdOutput(0, "ssh: connect to host 127.0.0.1 port 2202: Connection refused"));
        Assert.True(Sim.InjectPppdOutput(0, LinkActor.ModemHangup));
        Advance(TimeSpan.FromMilliseconds(200));

        Assert.False(IsUp());
        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(FailureClass.ConnectionRefused, down.Class);
    }

    [Fact]
    public void A_hangup_fails_the_link_at_once_while_a_slow_read_of_its_interface_is_in_flight()
    {
        // The interface read takes 3 s, as RTM_GETLINK did in the guest while every pppN went down at once (issue 11).
        var slow = false;
        Start(new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) }, ports: p => p with { Links = new SlowReads(p.Links, Clock, () => slow, TimeSpan.FromSeconds(3)) });
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        AdvanceUntil(() => Drain(_bundle).OfType<LinkUp>().Any(), TimeSpan.FromSeconds(10), "LinkUp");
        slow = true;

        // The remote end died: the interface goes down (its event starts a read), then pppd says "Modem hangup".
        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(Sim.InjectPppdOutput(0, LinkActor.ModemHangup));
        Advance(TimeSpan.FromMilliseconds(200));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(FailureClass.Hangup, down.Class);
        // The read's late answer changes nothing: one failure, one attempt ended.
        Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(Drain(_bundle).OfType<LinkDown>());
        Assert.Single(Drain(_parent).OfType<LinkAttemptFailed>());
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void An_exit_during_the_grace_s_slow_confirming_read_gives_the_exit_s_reason_once()
    {
        var slow = false;
        Start(ports: p => p with { Links = new SlowReads(p.Links, Clock, () => slow, TimeSpan.FromSeconds(3)) });
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        AdvanceUntil(() => Drain(_bundle).OfType<LinkUp>().Any(), TimeSpan.FromSeconds(10), "LinkUp");

        // Down without a word from pppd: after the exit grace the actor reads the interface again (slowly), and pppd
        // exits while that read is in flight.
        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromMilliseconds(300));
        slow = true;
        Advance(TimeSpan.FromSeconds(1.2));
        Assert.Empty(Drain(_bundle).OfType<LinkDown>());
        Assert.True(Sim.InjectPppdExit(0, PppExitCodes.LcpEchoTimeout));
        Advance(TimeSpan.FromMilliseconds(300));

        var down = Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Contains("exit 15", down.Reason);
        Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(Drain(_bundle).OfType<LinkDown>());
        Assert.Single(Drain(_parent).OfType<LinkAttemptFailed>());
    }

    /// <summary>The simulated interfaces, each read answering <paramref name="delay"/> of virtual time later while <paramref name="slow"/>.</summary>
    private sealed class SlowReads(INetworkLinks inner, Akka.TestKit.TestScheduler clock, Func<bool> slow, TimeSpan delay) : INetworkLinks
    {
        public IDisposable Subscribe(Action<LinkChanged> onChange) => inner.Subscribe(onChange);

        public async Task<LinkState> GetAsync(string name, CancellationToken ct = default)
        {
            if (slow())
            {
                var later = new TaskCompletionSource();
                Fixtures.VirtualTime.Schedule(clock, delay, () => later.SetResult());
                await later.Task.ConfigureAwait(false);
            }
            return await inner.GetAsync(name, ct).ConfigureAwait(false);
        }
    }

    [Fact]
    public void An_interface_that_goes_down_without_a_hangup_still_waits_for_pppd_s_exit_first()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);

        // link-down: the interface set down by hand while pppd runs on and says nothing
        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromMilliseconds(500));
        Assert.Empty(Drain(_bundle).OfType<LinkDown>());
        Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(FailureClass.InterfaceDown, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
    }

    [Fact]
    public void A_stop_ends_the_chain_and_then_the_actor()
    {
        Start(new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_parent);

        _host.Tell(new ProbeParent.ToChild(new StopLink(0)));
        Advance(TimeSpan.FromSeconds(1));
        // Still ending its chain: not terminated yet, and the chain still there.
        Assert.Empty(Drain(_parent));
        Assert.NotEmpty(LocalChain());

        Advance(TimeSpan.FromSeconds(3));
        Assert.IsType<ProbeParent.ChildTerminated>(Assert.Single(Drain(_parent)));
        Assert.Empty(LocalChain());
        Assert.Single(Drain(_bundle).OfType<LinkStopped>());
    }

    [Fact]
    public void A_stop_that_arrives_while_a_failed_chain_is_ending_ends_with_the_actor_and_starts_nothing()
    {
        Start(new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_parent);
        Sim.InjectPppdExit(0, PppExitCodes.Hangup);
        AdvanceUntil(() => Drain(_bundle).OfType<LinkDown>().Any(), TimeSpan.FromSeconds(3), "link 0 down");
        var starts = Sim.PppStarts.Count;

        _host.Tell(new ProbeParent.ToChild(new StopLink(0)));
        Advance(TimeSpan.FromSeconds(5));

        var toParent = Drain(_parent);
        Assert.IsType<LinkAttemptFailed>(toParent[0]);
        Assert.IsType<ProbeParent.ChildTerminated>(toParent[1]);
        Assert.Empty(LocalChain());
        Assert.Equal(starts, Sim.PppStarts.Count);
    }

    [Fact]
    public void A_permanent_failure_parks_the_link_alive_until_it_is_restarted()
    {
        Start(before: () => Sim.RefuseAuthentication());
        Advance(TimeSpan.FromSeconds(30));

        var parked = Assert.Single(Drain(_bundle).OfType<LinkParked>());
        // parked, its periodic reconcile has nothing to look at: not an unhandled message every interval
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled.Ref, typeof(Akka.Event.UnhandledMessage));
        Advance(Config.Supervision.ReconcileInterval * 3);
        Assert.Empty(Drain(unhandled).OfType<Akka.Event.UnhandledMessage>().Select(u => u.Message.GetType().Name));
        Assert.False(IsUp());
        Assert.Empty(Drain(_parent));
        Assert.Empty(LocalChain());

        Sim.AcceptAuthentication();
        _host.Tell(new ProbeParent.ToChild(new RestartLink(0)));
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up again");
        Assert.Single(Drain(_bundle).OfType<LinkUp>());
    }

    // --- the link's kept ssh connection (remote.reuseConnection; ConnectionReuse)

    [Theory]
    [InlineData(PppExitCodes.Hangup, true)]       // the remote end ended the session (slirp, its unit, the mux client)
    [InlineData(PppExitCodes.Signal, true)]       // pppd killed
    [InlineData(PppExitCodes.LcpEchoTimeout, false)] // the path froze: connect afresh
    public void A_link_that_was_up_keeps_its_ssh_connection_only_when_the_path_is_not_implicated(int exitCode, bool kept)
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Assert.Contains(0, Sim.KeptConnections);
        Assert.Equal(0, Sim.ConnectionEndRequests);

        Sim.InjectPppdExit(0, exitCode);
        Advance(TimeSpan.FromSeconds(2));

        Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(kept ? 0 : 1, Sim.ConnectionEndRequests);
        Assert.Equal(kept, Sim.KeptConnections.Contains(0));
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void The_end_to_end_probe_s_restart_ends_the_connection()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");

        _host.Tell(new ProbeParent.ToChild(new RecycleLink(0, FailureClass.HealthProbeReasonPrefix + ": no answer")));
        Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(FailureClass.HealthProbe, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
    }

    [Fact]
    public void An_attempt_that_fails_before_the_link_came_up_ends_the_connection_it_may_have_used()
    {
        Start();
        AdvanceUntil(() => LocalChain().Any(p => p.Kind == SimProcessKind.Pppd), TimeSpan.FromSeconds(30), "pppd started");

        Sim.InjectPppdExit(0, PppExitCodes.Hangup);
        Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(FailureClass.Hangup, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
        Assert.Equal(1, Sim.ConnectionEndRequests);
    }

    [Fact]
    public void A_stop_for_good_ends_the_connection_after_the_chain()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");

        _host.Tell(new ProbeParent.ToChild(new StopLink(0)));
        Advance(TimeSpan.FromSeconds(2));

        Assert.Single(Drain(_bundle).OfType<LinkStopped>());
        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void A_clean_start_ends_a_connection_an_earlier_daemon_left_before_pppd_starts()
    {
        Start(generation: "g1");
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");

        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.False(Assert.Single(Sim.PppStarts).ReusedConnection);
    }

    [Theory]
    [InlineData(true, FailureClass.Hangup, false, false, ConnectionFate.Keep)]
    [InlineData(true, FailureClass.Signal, false, false, ConnectionFate.Keep)]
    [InlineData(true, FailureClass.PppdExit, false, false, ConnectionFate.Keep)]
    [InlineData(true, FailureClass.InterfaceDown, false, false, ConnectionFate.KeepIfItAnswers)]
    [InlineData(true, FailureClass.InterfaceDown, false, true, ConnectionFate.KeepIfItAnswers)]
    [InlineData(true, FailureClass.PppdExit, false, true, ConnectionFate.KeepIfItAnswers)] // an adopted pppd's exit status is unknown
    [InlineData(true, FailureClass.LcpEchoTimeout, false, false, ConnectionFate.End)]
    [InlineData(true, FailureClass.LcpEchoTimeout, false, true, ConnectionFate.End)]
    [InlineData(true, FailureClass.HealthProbe, false, false, ConnectionFate.End)]
    [InlineData(true, FailureClass.ConnectionLost, false, false, ConnectionFate.End)]
    [InlineData(false, FailureClass.Hangup, false, false, ConnectionFate.End)]
    [InlineData(false, FailureClass.InterfaceDown, false, false, ConnectionFate.End)]
    [InlineData(true, FailureClass.Hangup, true, false, ConnectionFate.End)]
    public void The_fate_of_the_connection_follows_what_the_failure_says_about_the_path(bool wasUp, string cls, bool permanent, bool adopted, ConnectionFate fate) =>
        Assert.Equal(fate, ConnectionReuse.Decide(wasUp, cls, permanent, adopted));

    [Fact]
    public void An_interface_set_down_under_a_running_pppd_keeps_the_connection_when_its_master_answers()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);

        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(FailureClass.InterfaceDown, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(0, Sim.ConnectionEndRequests);
        Assert.Contains(0, Sim.KeptConnections);
        Assert.IsType<LinkAttemptFailed>(Assert.Single(Drain(_parent).OfType<LinkAttemptFailed>()));
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void The_kept_connection_is_asked_while_the_chain_stops_not_after_it()
    {
        StartUpWithLingeringStops();

        // (the link fails 1 s later, when pppd has not exited meanwhile)
        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromMilliseconds(1500));

        // The chain's stop lingers 3 s: the master has already been asked, and the attempt is not over yet.
        Assert.Equal(FailureClass.InterfaceDown, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.NotEmpty(LocalChain());
        Assert.Empty(Drain(_parent));

        Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(0, Sim.ConnectionEndRequests);
        Assert.Contains(0, Sim.KeptConnections);
        Assert.IsType<LinkAttemptFailed>(Drain(_parent)[0]);
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void A_frozen_master_found_while_the_chain_stops_is_ended_only_after_the_chain_is_gone()
    {
        StartUpWithLingeringStops();
        Assert.True(Sim.FreezeConnection(0));

        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(0, Sim.ConnectionEndRequests);
        Assert.NotEmpty(LocalChain());

        Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
        Assert.IsType<LinkAttemptFailed>(Drain(_parent)[0]);
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void An_interface_down_with_a_frozen_master_ends_the_connection_so_the_next_attempt_connects_afresh()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Drain(_bundle);
        Assert.True(Sim.FreezeConnection(0));

        Assert.True(Sim.TakeLinkDown(0));
        Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(FailureClass.InterfaceDown, Assert.Single(Drain(_bundle).OfType<LinkDown>()).Class);
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
        Assert.Empty(LocalChain());
    }

    [Fact]
    public void An_adopted_link_whose_interface_went_down_fails_at_once_and_keeps_a_master_that_answers()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        var pppd = Assert.Single(LocalChain(), p => p.Kind == SimProcessKind.Pppd).Pid;
        Readopt();

        Assert.True(Sim.TakeLinkDown(0));
        // Not the exit grace (1 s): an adopted pppd's exit would say nothing more.
        AdvanceUntil(() => Drain(_bundle).OfType<LinkDown>().Any(d => d.Class == FailureClass.InterfaceDown), TimeSpan.FromMilliseconds(500), "the adopted link down");
        Advance(TimeSpan.FromSeconds(1));

        Assert.DoesNotContain(LocalChain(), p => p.Pid == pppd);
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(0, Sim.ConnectionEndRequests);
        Assert.Contains(0, Sim.KeptConnections);
    }

    [Fact]
    public void An_adopted_link_fails_on_its_own_interface_s_down_event_without_waiting_for_a_slow_read()
    {
        // As in the guest after the main slirp died: every pppN goes down at once and RTM_GETLINK waits seconds.
        var slow = false;
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Readopt(p => p with { Links = new SlowReads(p.Links, Clock, () => slow, TimeSpan.FromSeconds(3)) });
        slow = true;

        Assert.True(Sim.TakeLinkDown(0));
        AdvanceUntil(() => Drain(_bundle).OfType<LinkDown>().Any(d => d.Class == FailureClass.InterfaceDown), TimeSpan.FromMilliseconds(300),
            "the adopted link down on its interface's event, not after the 3 s read");
    }

    [Fact]
    public void A_down_event_about_an_earlier_interface_of_the_same_name_fails_no_healthy_link()
    {
        EventsByHand? links = null;
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        var ifname = Sim.InterfaceOf(0)!;
        var index = Sim.Interface(ifname).Index;
        Readopt(p => p with { Links = links = new EventsByHand(p.Links) });

        // A previous chain's interface of the same name had another index; an event may also carry none. Both are
        // judged by a read of the interface as it is now (up), never as they say: an adopted link would fail at once.
        links!.Emit(new LinkChanged(ifname, false, false) { Index = index + 1000 });
        links.Emit(new LinkChanged(ifname, true, false));
        Advance(TimeSpan.FromSeconds(3));

        Assert.Empty(Drain(_bundle).OfType<LinkDown>());
        Assert.True(IsUp());
    }

    /// <summary>The simulated interfaces, with events that the test sends as well as the simulated kernel's.</summary>
    private sealed class EventsByHand(INetworkLinks inner) : INetworkLinks
    {
        private readonly List<Action<LinkChanged>> _subscribers = [];

        public IDisposable Subscribe(Action<LinkChanged> onChange)
        {
            lock (_subscribers) _subscribers.Add(onChange);
            return inner.Subscribe(onChange);
        }

        public Task<LinkState> GetAsync(string name, CancellationToken ct = default) => inner.GetAsync(name, ct);

        public void Emit(LinkChanged change)
        {
            Action<LinkChanged>[] all;
            lock (_subscribers) all = [.. _subscribers];
            foreach (var s in all) s(change);
        }
    }

    [Fact]
    public void An_adopted_pppd_s_exit_keeps_the_connection_only_when_its_master_answers()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        Readopt();
        Assert.True(Sim.FreezeConnection(0));

        Sim.InjectPppdExit(0, PppExitCodes.Signal);
        Advance(TimeSpan.FromSeconds(2));

        Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(1, Sim.ConnectionChecks);
        Assert.Equal(1, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
    }

    [Fact]
    public void What_the_stopped_chain_reports_after_the_link_actor_ended_is_no_dead_letter()
    {
        Start();
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");
        var dead = CreateTestProbe();
        Sys.EventStream.Subscribe(dead.Ref, typeof(Akka.Event.DeadLetter));

        // pppd keeps running: the link's stop ends it, and its last line and its exit come as the actor ends.
        Assert.True(Sim.TakeLinkDown(0));
        AdvanceUntil(() => Drain(_parent).OfType<ProbeParent.ChildTerminated>().Any(), TimeSpan.FromSeconds(10), "the link actor to end");
        Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(Drain(dead).OfType<Akka.Event.DeadLetter>().Select(d => d.Message.GetType().Name));
        Assert.Empty(LocalChain());
    }

    /// <summary>The link actor ends without a stop (a daemon killed): a new one adopts the chain left running.</summary>
    private void Readopt(Func<SystemPorts, SystemPorts>? ports = null)
    {
        var gone = CreateTestProbe();
        gone.Watch(_host);
        Sys.Stop(_host);
        gone.ExpectTerminated(_host);
        _bundle = CreateTestProbe();
        _parent = CreateTestProbe();
        var ctx = new BundleContext("bundle", Config, ports?.Invoke(Sim.Ports) ?? Sim.Ports, _bundle.Ref, SimulationHosting.Dispatcher, new Random(1));
        _host = Root.CreateChild(Props.Create(() => new ProbeParent(LinkActor.Props(ctx, 0), "pppd", _parent.Ref)).WithDispatcher(SimulationHosting.Dispatcher), "host-2");
        var seen = new List<object>();
        AdvanceUntil(() =>
        {
            seen.AddRange(Drain(_bundle));
            return seen.OfType<LinkUp>().Any();
        }, TimeSpan.FromSeconds(10), "the adopted link up");
        Assert.Single(seen.OfType<LinkAdopted>());
        Assert.Empty(seen.OfType<LinkStarting>());
    }

    [Fact]
    public void With_reuse_off_a_failure_never_asks_to_end_a_connection_and_none_is_kept()
    {
        Start(reuse: false);
        AdvanceUntil(IsUp, TimeSpan.FromSeconds(30), "link 0 up");

        Sim.InjectPppdExit(0, PppExitCodes.LcpEchoTimeout);
        Advance(TimeSpan.FromSeconds(2));

        Assert.Single(Drain(_bundle).OfType<LinkDown>());
        Assert.Equal(0, Sim.ConnectionEndRequests);
        Assert.Empty(Sim.KeptConnections);
    }
}

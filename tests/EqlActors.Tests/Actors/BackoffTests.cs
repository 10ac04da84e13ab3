using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

public class BackoffTests : BundleSpec
{
    [Fact]
    public void Restarts_of_a_failing_link_are_spaced_by_the_configured_exponential_backoff()
    {
        var supervision = new SupervisionConfig { MinBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromSeconds(20), RandomFactor = 0.2 };
        CreateBundle(new BundleConfig { Supervision = supervision });
        AdvanceUntilHealthy();
        var from = Sim.PppStarts.Count;

        // host_B gone for ten minutes: every attempt fails, and the attempts must thin out, not storm.
        Sim.MakeRemoteUnreachable(TimeSpan.FromMinutes(10));
        Advance(TimeSpan.FromMinutes(9));

        var starts = Sim.PppStarts.Skip(from).Where(s => s.Link == 1).Select(s => s.At).ToList();
        Assert.True(starts.Count >= 5, $"only {starts.Count} attempts");
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).ToList();
        // Attach time: 1.5-2.8 s plus 1.2 s for the default configuration's jump host.
        var linkUpMax = TimeSpan.FromSeconds(2.8 + 1.2);
        for (var n = 0; n < gaps.Count; n++)
        {
            // Each attempt fails at its attach (<= 4 s), then Akka waits min(max, min * 2^k) * (1 + [0, randomFactor]),
            // k counting failures since the link was last up: the first listed start already followed k = 0.
            var wait = TimeSpan.FromTicks(Math.Min(supervision.MaxBackoff.Ticks, supervision.MinBackoff.Ticks * (1L << Math.Min(n + 1, 20))));
            Assert.True(gaps[n] >= wait, $"gap {n} was {gaps[n]}, backoff {wait}");
            // Slack: each hop through a scheduled notification waits for the next 100 ms step of virtual time.
            Assert.True(gaps[n] <= wait * (1 + supervision.RandomFactor) + linkUpMax + TimeSpan.FromSeconds(1), $"gap {n} was {gaps[n]}, backoff {wait}");
        }
        Assert.True(gaps[^1] >= supervision.MaxBackoff, "the backoff never reached its maximum");

        // Once host_B is back the link comes back, and a link that came up earns a fresh backoff.
        AdvanceUntilHealthy(TimeSpan.FromMinutes(3));
        AssertInvariants();
        var restarted = Sim.PppStarts.Count;
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        var healed = AdvanceUntilHealthy();
        // Without the reset the next wait would be the maximum (20 s); with it, the minimum plus one link-up.
        Assert.True(healed < supervision.MinBackoff * 2 + linkUpMax + TimeSpan.FromSeconds(1), $"took {healed}: the backoff was not reset");
        Assert.Equal(restarted + 1, Sim.PppStarts.Count);
    }

    [Fact]
    public void After_an_outage_a_link_waiting_out_a_long_backoff_retries_as_soon_as_its_hop_answers_again()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        var events = SubscribeEvents();

        // Long enough for the backoff to reach its cap (30 s): without the check, up to 36 s more after the outage.
        Sim.MakeRemoteUnreachable(TimeSpan.FromSeconds(120));
        Advance(TimeSpan.FromSeconds(120));
        var downs = Drain(events).OfType<LinkDown>().ToList();
        Assert.True(downs.Any(d => d.Class == FailureClass.TimedOut), "the attempts during the outage did not fail to reach host_B: " + string.Join("; ", downs.Select(d => $"{d.Class} {d.Reason}").Distinct()));
        Assert.True(Sim.HopChecks > 0, "nobody checked whether the hop answers during the outage");

        var back = AdvanceUntilHealthy(TimeSpan.FromMinutes(2));
        // One check interval, host_B's sshd dropping the dead sessions (3 s), one link-up (<= 4 s) and the slack of
        // the 100 ms steps: far below the backoff cap.
        Assert.True(back <= LinkBackoff.HopCheckInterval + TimeSpan.FromSeconds(3 + 4 + 2), $"back {back} after the outage");
        AssertInvariants();
    }

    [Fact]
    public void A_link_that_exhausts_its_restarts_is_parked_until_restarted()
    {
        var events = SubscribeEvents();
        var supervision = new SupervisionConfig { MaxRestarts = 3, RestartWindow = TimeSpan.FromMinutes(10) };
        CreateBundle(new BundleConfig { Supervision = supervision });
        AdvanceUntilHealthy();
        Sim.MakeRemoteUnreachable(TimeSpan.FromMinutes(30));

        Advance(TimeSpan.FromMinutes(5));
        var parked = Drain(events).OfType<LinkParked>().ToList();
        Assert.Equal(3, parked.Count);
        Assert.All(parked, p => Assert.Contains("gave up after 3 restarts", p.Reason));
        var starts = Sim.PppStarts.Count;
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(starts, Sim.PppStarts.Count);
        Assert.All(Status().Links, l => Assert.Equal(LinkPhase.Parked, l.Phase));

        Bundle.Tell(new RestartParkedLinks(), Akka.Actor.ActorRefs.NoSender);
        AdvanceUntilHealthy();
        AssertInvariants();
    }

    [Fact]
    public void Failures_spaced_wider_than_the_restart_window_never_park_the_link()
    {
        var events = SubscribeEvents();
        var supervision = new SupervisionConfig { MaxRestarts = 2, RestartWindow = TimeSpan.FromMinutes(1) };
        CreateBundle(new BundleConfig { Supervision = supervision });
        AdvanceUntilHealthy();

        // Six failures, each more than the window after the previous one: never more than one inside any window.
        for (var i = 0; i < 6; i++)
        {
            Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
            AdvanceUntilHealthy();
            Advance(TimeSpan.FromSeconds(65));
        }

        Assert.Empty(Drain(events).OfType<LinkParked>());
        AssertInvariants();
    }

    [Fact]
    public void Failures_within_the_window_park_the_link_even_when_it_came_up_in_between()
    {
        var events = SubscribeEvents();
        var supervision = new SupervisionConfig { MaxRestarts = 2, RestartWindow = TimeSpan.FromMinutes(10) };
        CreateBundle(new BundleConfig { Supervision = supervision });
        AdvanceUntilHealthy();

        // Each failure heals (the link comes up, the backoff resets), yet three within ten minutes are one too many:
        // "maxRestarts within restartWindow", not "maxRestarts in a row".
        for (var i = 0; i < 2; i++)
        {
            Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
            AdvanceUntilHealthy();
            Advance(TimeSpan.FromSeconds(30));
        }
        Assert.Empty(Drain(events).OfType<LinkParked>());
        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
        Advance(TimeSpan.FromSeconds(30));

        var parked = Assert.Single(Drain(events).OfType<LinkParked>());
        Assert.Equal(1, parked.Link);
        Assert.Contains("gave up after 2 restarts", parked.Reason);
        Assert.Equal(LinkPhase.Parked, Status().Links.Single(l => l.Link == 1).Phase);
    }

    [Theory]
    [InlineData(0, 0.0, 1.0)]
    [InlineData(3, 0.0, 8.0)]
    [InlineData(10, 0.0, 30.0)]
    [InlineData(0, 1.0, 1.2)]
    [InlineData(10, 0.5, 33.0)]
    [InlineData(1000, 0.0, 30.0)]
    public void The_delay_is_akkas_formula_with_the_sample_passed_in(int failures, double sample, double seconds)
    {
        var delay = LinkBackoff.Delay(failures, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, sample);

        Assert.Equal(seconds, delay.TotalSeconds, 6);
    }

    [Theory]
    [InlineData(5.0, null, 5.0)]      // no failure time (a link actor that threw): the whole delay
    [InlineData(5.0, 1.5, 3.5)]       // the chain's stop took 1.5 s of it
    [InlineData(1.0, 2.5, 0.0)]       // the stop outlasted the backoff: at once
    [InlineData(2.0, -1.0, 2.0)]      // a failure time after now (clock skew between actors): never longer, never negative
    public void The_backoff_counts_from_the_failure_not_from_the_end_of_the_chain(double delay, double? stopSeconds, double expected)
    {
        var now = new DateTimeOffset(2026, 12, 2, 1, 0, 0, TimeSpan.Zero);
        DateTimeOffset? failedAt = stopSeconds is { } s ? now - TimeSpan.FromSeconds(s) : null;

        Assert.Equal(expected, LinkBackoff.Remaining(TimeSpan.FromSeconds(delay), failedAt, now).TotalSeconds, 6);
    }

    [Fact]
    public void A_chain_that_takes_long_to_stop_does_not_add_its_stop_to_the_backoff()
    {
        var supervision = new SupervisionConfig { MinBackoff = TimeSpan.FromSeconds(5), RandomFactor = 0 };
        // every old pppd lingers 3 s after its SIGTERM, as one running ip-down does
        CreateBundle(new BundleConfig { Supervision = supervision }, new SimulationOptions { StopLinger = TimeSpan.FromSeconds(3) });
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(10));
        var events = SubscribeEvents();
        var from = Sim.PppStarts.Count;

        Assert.True(Sim.InjectPppdOutput(1, LinkActor.ModemHangup));
        AdvanceUntil(() => Sim.PppStarts.Count > from, TimeSpan.FromSeconds(20), "link 1 restarted");

        var down = Assert.Single(Drain(events).OfType<LinkDown>());
        var gap = Sim.PppStarts[from].At - down.At;
        // 5 s after the failure, not 3 s (stop) + 5 s; slack: notifications wait for the next 100 ms step
        Assert.True(gap >= TimeSpan.FromSeconds(5) && gap <= TimeSpan.FromSeconds(5.5), $"restarted {gap} after the failure");
        AdvanceUntilHealthy();
        AssertInvariants();
    }
}

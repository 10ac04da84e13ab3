using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Tests.Actors;

/// <summary>Interface events are hints, the kernel's current state is the truth; and a dying pppd's own reason wins.</summary>
public class LinkEventTests : BundleSpec
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void A_late_down_or_gone_event_does_not_fail_a_link_whose_interface_is_up(bool exists, bool up)
    {
        var events = SubscribeEvents();
        CreateBundle();
        AdvanceUntilHealthy();
        Drain(events);
        var starts = Sim.PppStarts.Count;
        var ifname = Sim.InterfaceOf(1)!;

        // E.g. the previous chain's ppp1 going down, read after the new chain's ppp1 came up.
        Sim.AnnounceLate(new LinkChanged(ifname, exists, up));
        Advance(TimeSpan.FromMinutes(1));

        Assert.DoesNotContain(Drain(events), m => m is LinkDown);
        Assert.Equal(starts, Sim.PppStarts.Count);
        AssertInvariants();
    }

    [Fact]
    public void Interface_events_of_other_links_and_before_a_link_has_an_interface_are_not_unhandled_messages()
    {
        // Every link hears every interface's events; each was an "unhandled" dead letter logged at every bring-up.
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled.Ref, typeof(Akka.Event.UnhandledMessage));
        CreateBundle();
        AdvanceUntilHealthy();
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntilHealthy();

        Assert.Empty(Drain(unhandled).OfType<Akka.Event.UnhandledMessage>().Select(u => u.Message.GetType().Name));
        AssertInvariants();
    }

    [Fact]
    public void When_pppd_exits_the_link_goes_down_with_pppds_reason_although_the_kernel_reported_the_interface_down_first()
    {
        var events = SubscribeEvents();
        CreateBundle();
        AdvanceUntilHealthy();
        Drain(events);

        // The simulated kernel reports ppp1 down, then gone, and only then pppd's exit, as Linux does.
        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntilHealthy();

        var down = Assert.Single(Drain(events).OfType<LinkDown>());
        Assert.Equal(1, down.Link);
        Assert.Contains("(pppd exit 16)", down.Reason);
        AssertInvariants();
    }

    [Fact]
    public void An_interface_that_goes_down_under_a_running_pppd_still_fails_the_link_with_that_reason()
    {
        var events = SubscribeEvents();
        CreateBundle();
        AdvanceUntilHealthy();
        Drain(events);

        Sim.TakeLinkDown(1);
        AdvanceUntilHealthy();

        var down = Assert.Single(Drain(events).OfType<LinkDown>());
        Assert.Equal(1, down.Link);
        Assert.Contains("went down while pppd kept running", down.Reason);
        AssertInvariants();
    }
}

using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>
/// A hangup ("the remote command ended") may have host_B's own words in the link's error file; reading it is an ssh
/// session through the jump hosts. Not for a link that was up: its retry starts at once and must not compete with
/// that session for the CPU; a retry that fails too is read.
/// </summary>
public class DiagnosisTests : BundleSpec
{
    [Fact]
    public void A_link_that_was_up_and_hung_up_is_retried_without_reading_host_B_s_error_file()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(10));
        var events = SubscribeEvents();

        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
        AdvanceUntilHealthy();

        Assert.Equal(FailureClass.Hangup, Assert.Single(Drain(events).OfType<LinkDown>()).Class);
        Assert.Empty(Sim.LinkErrorReads);
    }

    [Fact]
    public void The_retry_that_hangs_up_too_before_it_came_up_is_read()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromSeconds(10));
        var from = Sim.PppStarts.Count;

        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
        AdvanceUntil(() => Sim.PppStarts.Count > from, TimeSpan.FromSeconds(10), "link 1 retried");
        Assert.Empty(Sim.LinkErrorReads);
        // the retry's remote command ends before the link is up, as a failing slirp does
        Assert.True(Sim.InjectPppdExit(1, PppExitCodes.Hangup));
        Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([1], Sim.LinkErrorReads);
        AdvanceUntilHealthy();
        AssertInvariants();
    }
}

using EqlActors.Host.Hosting;

namespace EqlActors.Tests.Hosting;

/// <summary>When the memory trimmer trims (settle 5 s, at most once per 30 s): plain time arithmetic, no actor, no clock.</summary>
public sealed class TrimScheduleTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    [Fact]
    public void The_first_recovery_is_trimmed_once_it_settled()
    {
        var s = new TrimSchedule(Settle, MinInterval);
        Assert.Equal(At(5), s.Recovered(At(0)));
    }

    [Fact]
    public void Recoveries_in_a_row_move_the_trim_after_the_last_of_them_and_make_only_one()
    {
        // a link up, enslaved, the bundle ready: one trim, settled after the last
        var s = new TrimSchedule(Settle, MinInterval);
        Assert.Equal(At(5), s.Recovered(At(0)));
        Assert.Equal(At(5.2), s.Recovered(At(0.2)));
        Assert.Null(s.Recovered(At(0.1))); // already covered
        s.Started(At(5.2));
        Assert.Null(s.Finished());
    }

    [Fact]
    public void A_flapping_link_does_not_put_the_trim_off_for_ever()
    {
        var s = new TrimSchedule(Settle, MinInterval);
        s.Recovered(At(0));
        DateTimeOffset? planned = At(5);
        for (var t = 4.0; t < 60; t += 4)
        {
            var moved = s.Recovered(At(t));
            if (moved is not null) planned = moved;
        }
        Assert.True(planned <= At(MinInterval.TotalSeconds), $"planned at {planned}");
        s.Started(planned!.Value);
        Assert.NotNull(s.Finished()); // what came after is owed
    }

    [Fact]
    public void A_recovery_soon_after_a_trim_is_deferred_to_the_min_interval_not_dropped()
    {
        var s = new TrimSchedule(Settle, MinInterval);
        s.Recovered(At(0));
        s.Started(At(5));
        Assert.Null(s.Finished());
        // the soak's route-delete, ~25 s after the previous fault's trim
        Assert.Equal(At(35), s.Recovered(At(28)));
    }

    [Fact]
    public void A_recovery_during_a_trim_is_owed_another_trim_after_it()
    {
        var s = new TrimSchedule(Settle, MinInterval);
        s.Recovered(At(0));
        s.Started(At(5));
        Assert.Null(s.Recovered(At(5.5))); // the trim is running
        Assert.Equal(At(35), s.Finished());
        s.Started(At(35));
        Assert.Null(s.Finished());
    }

    [Fact]
    public void A_recovery_that_settled_before_the_trim_began_is_covered_by_it()
    {
        var s = new TrimSchedule(Settle, MinInterval);
        s.Recovered(At(0));
        s.Started(At(5));
        s.Finished();
        Assert.Equal(At(35), s.Recovered(At(10)));
        Assert.Null(s.Recovered(At(12))); // settles at 17, before the trim planned at 35
        s.Started(At(35));
        Assert.Null(s.Finished());
        Assert.Equal(At(105), s.Recovered(At(100)));
    }
}

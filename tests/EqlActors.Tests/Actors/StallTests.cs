using Akka.TestKit;
using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>
/// After the daemon was stalled (its timers came more than a reconcile interval late) the bundle looks at the world
/// anew before it answers a status: what it knew before the stall may have stopped being true meanwhile.
/// </summary>
public class StallTests : BundleSpec
{
    [Fact]
    public void A_status_asked_right_after_a_stall_waits_for_a_fresh_observation_and_then_tells_the_truth()
    {
        CreateBundle();
        AdvanceUntilHealthy();
        Advance(TimeSpan.FromMinutes(1));
        var client = CreateTestProbe();

        // Not stalled: answered at once.
        client.Send(Bundle, new GetBundleStatus());
        Assert.True(client.ExpectMsg<BundleStatus>(TimeSpan.FromSeconds(10)).Ready);

        // The whole daemon stops for 30 s (every timer comes late at once) while the EQL master goes away.
        Sim.TakeEqlMasterDown();
        Clock.Advance(TimeSpan.FromSeconds(30));
        client.Send(Bundle, new GetBundleStatus());
        client.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        BundleStatus? answer = null;
        AdvanceUntil(() => (answer = client.HasMessages ? client.ExpectMsg<BundleStatus>(TimeSpan.Zero) : null) is not null, TimeSpan.FromSeconds(5), "the held status answer");
        Assert.True(answer!.At >= Clock.Now - TimeSpan.FromSeconds(5));
    }
}

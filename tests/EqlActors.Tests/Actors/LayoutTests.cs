using EqlActors.Actors;

namespace EqlActors.Tests.Actors;

public class LayoutTests
{
    [Fact]
    public void The_actor_core_references_no_testkit()
    {
        var references = typeof(BundleActor).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.Contains("Akka", references);
        Assert.DoesNotContain(references, r => r!.StartsWith("Akka.TestKit", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r == "EqlActors.Simulation");
    }
}

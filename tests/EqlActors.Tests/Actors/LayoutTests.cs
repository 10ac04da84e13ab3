using EqlActors.Actors;
using EqlActors.Ports;

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

    /// <summary>
    /// A port wrapper (the port threads, a recorder) that forgot a method with a default body would silently run the
    /// default instead of its inner adapter's: e.g. three ssh connections instead of the adapter's one.
    /// </summary>
    [Fact]
    public void No_port_interface_has_a_default_body()
    {
        var ports = typeof(IRemoteHost).Assembly.GetTypes().Where(t => t.IsInterface && t.Namespace == typeof(IRemoteHost).Namespace).ToList();

        Assert.Contains(typeof(IPppProcesses), ports);
        var withBodies = ports.SelectMany(t => t.GetMethods().Where(m => !m.IsAbstract && !m.IsStatic).Select(m => $"{t.Name}.{m.Name}")).ToList();
        Assert.Empty(withBodies);
    }
}

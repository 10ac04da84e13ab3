using System.Collections.Concurrent;
using System.Reflection;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Messages;
using EqlActors.Ports;
using EqlActors.Simulation;

namespace EqlActors.Tests.Actors;

/// <summary>
/// No port call runs on an actor's thread or Akka's default dispatcher (the .NET pool): a bundle on the ordinary
/// dispatcher, in real time, over ports that record the thread of every call.
/// </summary>
public class PortThreadTests : TestKit
{
    private sealed record Call(string Name, string? Thread, bool PoolThread);

    /// <summary>Records the calling thread of every method of the interface, then calls the real port.</summary>
    public class Recorder<T> : DispatchProxy where T : class
    {
        internal T Target = null!;
        internal ConcurrentQueue<object> Calls = null!;

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            Calls.Enqueue(new Call($"{typeof(T).Name}.{method!.Name}", Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
            try
            {
                return method.Invoke(Target, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }

    private static T Record<T>(T target, ConcurrentQueue<object> calls) where T : class
    {
        var proxy = DispatchProxy.Create<T, Recorder<T>>();
        var recorder = (Recorder<T>)(object)proxy;
        recorder.Target = target;
        recorder.Calls = calls;
        return proxy;
    }

    [Fact]
    public async Task Every_port_call_of_a_running_bundle_starts_on_a_port_thread()
    {
        var config = new BundleConfig();
        var sim = new SimulatedSystem(Sys.Scheduler, config, new SimulationOptions { LinkUpMin = TimeSpan.FromMilliseconds(100), LinkUpMax = TimeSpan.FromMilliseconds(200), PerJumpHost = TimeSpan.Zero });
        var calls = new ConcurrentQueue<object>();
        var p = sim.Ports;
        var recorded = new SystemPorts(Record(p.Ppp, calls), Record(p.Links, calls), Record(p.Eql, calls), Record(p.Routes, calls), Record(p.Sysctl, calls), Record(p.Remote, calls));
        var bundle = Sys.CreateBundle(config, OffloadedPorts.Wrap(recorded, PortThreads.Shared, PortThreads.Processes));

        bundle.Tell(new StartBundle());
        await AwaitConditionAsync(async () => (await bundle.Ask<BundleStatus>(new GetBundleStatus())).Ready, TimeSpan.FromSeconds(60));
        // The links prepare host_B themselves; the remote is asked about its slirp once the bundle is ready.
        AwaitCondition(() => calls.Cast<Call>().Any(c => c.Name == "IRemoteHost.ProbeSlirpWithoutAttachingAsync"), TimeSpan.FromSeconds(60));
        var stopped = await bundle.Ask<BundleStopped>(new StopBundle(), TimeSpan.FromSeconds(60));

        Assert.Empty(stopped.LinksNotStopped);
        var all = calls.Cast<Call>().ToList();
        // Every kind of effect happened: starting, reading, enslaving, routing, the remote, stopping.
        foreach (var name in new[] { "IPppProcesses.StartAsync", "IPppProcesses.StopAsync", "INetworkLinks.GetAsync", "IEqlDriver.EnslaveAsync", "IRoutes.AddAsync", "IRemoteHost.ProbeSlirpWithoutAttachingAsync" })
            Assert.Contains(all, c => c.Name == name);
        Assert.All(all, c => Assert.True(c.Thread?.StartsWith(PortThreads.ThreadNamePrefix) == true && !c.PoolThread, $"{c.Name} ran on {c.Thread ?? "an unnamed thread"} (pool: {c.PoolThread})"));
        // pppd's chains on their own lane, never queued behind a netlink call waiting for RTNL; everything else never on it.
        var lane = PortThreads.ThreadNamePrefix + "ppp-";
        Assert.All(all, c => Assert.True(c.Name.StartsWith("IPppProcesses.", StringComparison.Ordinal) == c.Thread!.StartsWith(lane, StringComparison.Ordinal), $"{c.Name} ran on {c.Thread}"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_linux_ports_are_offloaded()
    {
        var ports = LinuxSystem.Create(new BundleConfig());

        foreach (var port in new object[] { ports.Ppp, ports.Links, ports.Eql, ports.Routes, ports.Sysctl, ports.Remote, ports.Probe!, ports.SysctlOriginals })
            Assert.Equal(typeof(OffloadedPorts), port.GetType().DeclaringType);
        (ports.Ppp as IDisposable)?.Dispose();
        (ports.Links as IDisposable)?.Dispose();
        (ports.Eql as IDisposable)?.Dispose();
    }
}

using EqlActors.Messages;

namespace EqlActors.Ports;

/// <summary>
/// Wraps every port so that each call starts on <see cref="PortThreads"/>, never on the calling actor's thread. The
/// actors stay as they are (one effect at a time, the result as a message); the simulation does not use this, its
/// ports answer at once and must run on the driver's thread.
/// </summary>
public static class OffloadedPorts
{
    /// <param name="processes">The pppd port's own threads (<see cref="PortThreads.Processes"/>); null: <paramref name="threads"/>.</param>
    public static SystemPorts Wrap(SystemPorts ports, PortThreads threads, PortThreads? processes = null) => new(
        new Ppp(ports.Ppp, processes ?? threads),
        new Links(ports.Links, threads),
        new Eql(ports.Eql, threads),
        new Routes(ports.Routes, threads),
        new Sysctl(ports.Sysctl, threads),
        new Remote(ports.Remote, threads))
    {
        Probe = ports.Probe is null ? null : new HealthProbe(ports.Probe, threads),
        SysctlOriginals = new Originals(ports.SysctlOriginals, threads),
    };

    private sealed class Ppp(IPppProcesses inner, PortThreads t) : IPppProcesses, IDisposable
    {
        // The host disposes what it built (child processes, sockets): through the wrapper.
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<PppProcess> StartAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => t.Run(() => inner.StartAsync(launch, events, ct));
        public Task<PppProcess?> AdoptAsync(PppLaunch launch, IPppEvents events, CancellationToken ct = default) => t.Run(() => inner.AdoptAsync(launch, events, ct));
        public Task StopAsync(PppProcess process, TimeSpan grace, CancellationToken ct = default) => t.Run(() => inner.StopAsync(process, grace, ct));
        public Task EndConnectionAsync(PppLaunch launch, CancellationToken ct = default) => t.Run(() => inner.EndConnectionAsync(launch, ct));
        public Task<bool> ConnectionAnswersAsync(PppLaunch launch, TimeSpan timeout, CancellationToken ct = default) => t.Run(() => inner.ConnectionAnswersAsync(launch, timeout, ct));
    }

    private sealed class Links(INetworkLinks inner, PortThreads t) : INetworkLinks, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<LinkState> GetAsync(string name, CancellationToken ct = default) => t.Run(() => inner.GetAsync(name, ct));

        /// <summary>Subscribing opens a socket and starts a reader, ending it joins the reader: both on a port thread.</summary>
        public IDisposable Subscribe(Action<LinkChanged> onChange)
        {
            var subscription = t.Run(() => Task.FromResult(inner.Subscribe(onChange)));
            return new Unsubscribe(subscription, t);
        }

        private sealed class Unsubscribe(Task<IDisposable> subscription, PortThreads t) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
                _ = t.Run(async () => (await subscription.ConfigureAwait(false)).Dispose());
            }
        }
    }

    private sealed class Eql(IEqlDriver inner, PortThreads t) : IEqlDriver, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default) => t.Run(() => inner.EnsureMasterAsync(spec, ct));
        public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default) => t.Run(() => inner.GetMasterAsync(device, ct));
        public Task RemoveMasterAsync(string device, CancellationToken ct = default) => t.Run(() => inner.RemoveMasterAsync(device, ct));
        public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default) => t.Run(() => inner.EnslaveAsync(device, slave, priority, ct));
        public Task EmancipateAsync(string device, string slave, CancellationToken ct = default) => t.Run(() => inner.EmancipateAsync(device, slave, ct));
        public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default) => t.Run(() => inner.GetSlaveAsync(device, slave, ct));
        public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default) => t.Run(() => inner.SetSlavePriorityAsync(device, slave, priority, ct));
    }

    private sealed class Routes(IRoutes inner, PortThreads t) : IRoutes, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<IReadOnlyList<Route>> ListAsync(CancellationToken ct = default) => t.Run(() => inner.ListAsync(ct));
        public Task AddAsync(Route route, CancellationToken ct = default) => t.Run(() => inner.AddAsync(route, ct));
        public Task DeleteAsync(Route route, CancellationToken ct = default) => t.Run(() => inner.DeleteAsync(route, ct));
    }

    private sealed class Sysctl(ISysctl inner, PortThreads t) : ISysctl, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<string?> ReadAsync(string key, CancellationToken ct = default) => t.Run(() => inner.ReadAsync(key, ct));
        public Task WriteAsync(string key, string value, CancellationToken ct = default) => t.Run(() => inner.WriteAsync(key, value, ct));
    }

    private sealed class Originals(ISysctlOriginals inner, PortThreads t) : ISysctlOriginals
    {
        public Task<string?> ReadAsync(string key, CancellationToken ct = default) => t.Run(() => inner.ReadAsync(key, ct));
        public Task KeepAsync(string key, string value, CancellationToken ct = default) => t.Run(() => inner.KeepAsync(key, value, ct));
        public Task ForgetAsync(string key, CancellationToken ct = default) => t.Run(() => inner.ForgetAsync(key, ct));
    }

    private sealed class Remote(IRemoteHost inner, PortThreads t) : IRemoteHost, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<int> KillStaleSlirpAsync(CancellationToken ct = default) => t.Run(() => inner.KillStaleSlirpAsync(ct));
        public Task WriteRcFilesAsync(IReadOnlyList<int> links, CancellationToken ct = default) => t.Run(() => inner.WriteRcFilesAsync(links, ct));
        public Task<SlirpProbe> ProbeSlirpAsync(CancellationToken ct = default) => t.Run(() => inner.ProbeSlirpAsync(ct));
        // The interface's defaults would bypass the inner adapter's own (a probe that attaches, no diagnosis): forward them.
        public Task<SlirpProbe> ProbeSlirpWithoutAttachingAsync(CancellationToken ct = default) => t.Run(() => inner.ProbeSlirpWithoutAttachingAsync(ct));
        public Task<string?> ReadLinkErrorAsync(int link, CancellationToken ct = default) => t.Run(() => inner.ReadLinkErrorAsync(link, ct));
        public Task<bool> HopAnswersAsync(Configuration.SshEndpoint hop, TimeSpan timeout, CancellationToken ct = default) => t.Run(() => inner.HopAnswersAsync(hop, timeout, ct));
        // One ssh connection for all three, as the inner adapter may do it (its own PrepareAsync).
        public Task<(SlirpProbe Probe, int Killed)> PrepareAsync(IReadOnlyList<int> links, bool killStale, CancellationToken ct = default) => t.Run(() => inner.PrepareAsync(links, killStale, ct));
    }

    private sealed class HealthProbe(IHealthProbe inner, PortThreads t) : IHealthProbe, IDisposable
    {
        public void Dispose() => (inner as IDisposable)?.Dispose();

        public Task<ProbeOutcome> EchoAsync(string device, string host, TimeSpan timeout, CancellationToken ct = default) => t.Run(() => inner.EchoAsync(device, host, timeout, ct));
        public Task<ProbeOutcome> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct = default) => t.Run(() => inner.ConnectAsync(host, port, timeout, ct));
    }
}

using System.Net;
using EqlActors.Ports;

namespace EqlActors.Simulation;

/// <summary>One slave as drivers/net/eql.c keeps it.</summary>
public sealed class SimSlave(string name, long priority)
{
    public string Name { get; } = name;
    public long Priority { get; internal set; } = priority;
    /// <summary>Grows by every byte handed to the slave, shrinks by priority/8 a second: with priority 1 it never shrinks.</summary>
    public long BytesQueued { get; internal set; }
    internal long SentThisTick;
}

// The eql driver: master, slaves, its 1 s timer, and the upload it balances.
public sealed partial class SimulatedSystem
{
    public const int MaxSlaves = 4;
    // What a "stalled" slave's queue is set to: far above anything the others reach, below overflow when multiplied by 8.
    private const long StalledQueue = 1L << 50;

    private bool _eqlLoaded;
    private IPAddress? _eqlAddress;
    private readonly List<SimSlave> _slaves = [];

    private string EqlDevice => _config.Eql.Device;

    private bool IsEnslaved(string name) => _slaves.Any(s => s.Name == name);

    private SimInterface? Master => _eqlLoaded && _interfaces.TryGetValue(EqlDevice, out var m) ? m : null;

    private void RequireMaster(string device)
    {
        if (device != EqlDevice || Master is null) throw new PortException($"{device}: ENODEV, no such device (eql module not loaded)");
    }

    /// <summary>Like eql_close(): a master going down releases every slave.</summary>
    private void EqlMasterDown()
    {
        if (Master is not { } master) return;
        _slaves.Clear();
        SetUp(master, false);
    }

    private void EqlUnload()
    {
        if (!_eqlLoaded) return;
        _slaves.Clear();
        _eqlLoaded = false;
        _eqlAddress = null;
        RemoveInterface(EqlDevice);
    }

    private void EqlTimerTick()
    {
        // eql_timer(): decay every queue by priority/8 and bury the slaves that are not IFF_UP.
        _slaves.RemoveAll(s => !_interfaces.TryGetValue(s.Name, out var i) || !i.IsUp);
        foreach (var s in _slaves) s.BytesQueued = Math.Max(0, s.BytesQueued - s.Priority / 8);
    }

    private void TrafficTick()
    {
        var seconds = _options.TrafficTick.TotalSeconds;
        if (Master is { IsUp: true })
        {
            var carriers = _slaves.Where(s => _interfaces.TryGetValue(s.Name, out var i) && i.IsUp).ToList();
            foreach (var s in carriers) s.SentThisTick = 0;
            var capacity = (long)(_options.SlaveBytesPerSecond * seconds);
            var packets = (long)(_options.UploadBytesPerSecond * seconds) / _options.PacketBytes;
            for (var p = 0; p < packets && carriers.Count > 0; p++)
            {
                // eql_best_slave(): the smallest bytes_queued*8 - priority/8 among slaves whose queue is not full.
                SimSlave? best = null;
                var bestLoad = long.MaxValue;
                foreach (var s in carriers)
                {
                    if (s.SentThisTick + _options.PacketBytes > capacity) continue;
                    var load = s.BytesQueued * 8 - s.Priority / 8;
                    if (load < bestLoad) { best = s; bestLoad = load; }
                }
                if (best is null) break;
                best.BytesQueued += _options.PacketBytes;
                best.SentThisTick += _options.PacketBytes;
                _interfaces[best.Name].TxBytes += _options.PacketBytes;
                _interfaces[best.Name].TxPackets++;
            }
        }
        // slirp answers over its first working unit only: download never balances.
        if (FirstWorkingUnitInterface() is { } down)
        {
            var bytes = (long)(_options.DownloadBytesPerSecond * seconds);
            down.RxBytes += bytes;
            down.RxPackets += (bytes + _options.PacketBytes - 1) / _options.PacketBytes;
        }
    }

    private sealed class EqlPort(SimulatedSystem sim) : IEqlDriver
    {
        public Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default) => Done(() =>
        {
            if (spec.Device != sim.EqlDevice) throw new PortException($"{spec.Device}: ENODEV, the simulated kernel has only {sim.EqlDevice}", FailureKind.Permanent);
            if (!sim._eqlLoaded)
            {
                sim._eqlLoaded = true;
                sim.AddInterface(new SimInterface(spec.Device, spec.Mtu));
            }
            var master = sim.Master!;
            master.Mtu = spec.Mtu;
            sim._eqlAddress = spec.Address;
            sim.SetUp(master, true);
        }, sim._gate);

        public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default)
        {
            sim.WaitIfWedged();
            return Done(() =>
                sim.Master is { } m && device == sim.EqlDevice
                    ? new EqlMasterState(device, true, m.IsUp, sim._eqlAddress, m.Mtu, MaxSlaves, 1)
                    : new EqlMasterState(device, false, false, null, 0, MaxSlaves, 1), sim._gate);
        }

        public Task RemoveMasterAsync(string device, CancellationToken ct = default) => Done(() =>
        {
            if (device != sim.EqlDevice) return;
            sim.EqlMasterDown();
            sim.EqlUnload();
        }, sim._gate);

        public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default) => Done(() =>
        {
            sim.RequireMaster(device);
            var master = sim.Master!;
            if (!sim._interfaces.TryGetValue(slave, out var s)) throw new PortException($"eql_enslave {device} {slave}: ENODEV, no such device");
            if (!master.IsUp) throw new PortException($"eql_enslave {device} {slave}: EINVAL, master is down");
            if (sim.IsEnslaved(slave)) throw new PortException($"eql_enslave {device} {slave}: EINVAL, already enslaved");
            if (s.Mtu != master.Mtu) throw new PortException($"eql_enslave {device} {slave}: MTU {s.Mtu} differs from the master's {master.Mtu}", FailureKind.Permanent);
            if (sim._slaves.Count >= MaxSlaves) throw new PortException($"eql_enslave {device} {slave}: ENOSPC, {MaxSlaves} slaves already");
            sim._slaves.Add(new SimSlave(slave, priority));
        }, sim._gate);

        public Task EmancipateAsync(string device, string slave, CancellationToken ct = default) => Done(() =>
        {
            sim.RequireMaster(device);
            if (sim._slaves.RemoveAll(s => s.Name == slave) == 0) throw new PortException($"eql emancipate {slave}: EINVAL, not enslaved");
        }, sim._gate);

        public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default) => Done(() =>
        {
            if (sim.Master is null || device != sim.EqlDevice) return null;
            return sim._slaves.FirstOrDefault(s => s.Name == slave) is { } s ? new EqlSlaveState(s.Name, s.Priority) : null;
        }, sim._gate);

        public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default) => Done(() =>
        {
            sim.RequireMaster(device);
            var s = sim._slaves.FirstOrDefault(x => x.Name == slave) ?? throw new PortException($"eql setslavecfg {slave}: EINVAL, not enslaved");
            s.Priority = priority;
        }, sim._gate);
    }
}

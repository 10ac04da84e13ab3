using System.Net;

namespace EqlActors.Ports;

public sealed record EqlMasterSpec(string Device, IPAddress Address, IPAddress Netmask, int Mtu);

/// <summary>The master as the kernel sees it. <see cref="Loaded"/> false: the eql module is gone.</summary>
public sealed record EqlMasterState(string Device, bool Loaded, bool IsUp, IPAddress? Address, int Mtu, int MaxSlaves, int MinSlaves);

/// <summary>A slave's configuration in the driver; null from <see cref="IEqlDriver.GetSlaveAsync"/> when not enslaved.</summary>
public sealed record EqlSlaveState(string Slave, long Priority);

/// <summary>The EQL driver: its ioctls (EQL_ENSLAVE, EQL_EMANCIPATE, EQL_GET/SETSLAVECFG, EQL_GET/SETMASTRCFG).</summary>
public interface IEqlDriver
{
    /// <summary>Loads the module when needed, sets address, netmask and MTU, brings the master up.</summary>
    Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default);

    Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default);

    /// <summary>Brings the master down and unloads what <see cref="EnsureMasterAsync"/> brought up.</summary>
    Task RemoveMasterAsync(string device, CancellationToken ct = default);

    /// <summary>Fails with a clear <see cref="PortException"/> on EINVAL (master down, already enslaved), ENODEV, ENOSPC, MTU mismatch.</summary>
    Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default);

    Task EmancipateAsync(string device, string slave, CancellationToken ct = default);

    Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default);

    Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default);
}

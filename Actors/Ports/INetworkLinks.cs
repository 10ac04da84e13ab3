namespace EqlActors.Ports;

/// <summary>A network interface's state at one moment. <see cref="IsSlave"/> is IFF_SLAVE.</summary>
public sealed record LinkState(string Name, bool Exists, bool IsUp, int Mtu, bool IsSlave, long TxBytes, long RxBytes)
{
    public long TxPackets { get; init; }
    public long RxPackets { get; init; }
    /// <summary>The kernel's ifindex, 0 when unknown: one name may be several interfaces over time, one index is one.</summary>
    public int Index { get; init; }
}

/// <summary>An interface appeared, changed or vanished.</summary>
public sealed record LinkChanged(string Name, bool Exists, bool IsUp)
{
    /// <summary>The kernel's ifindex, 0 when unknown: tells this interface from an earlier one of the same name.</summary>
    public int Index { get; init; }
}

/// <summary>Network interfaces: their state, their up/down events and their counters.</summary>
public interface INetworkLinks
{
    /// <summary>Reports every change of every interface until disposed. Called from any thread.</summary>
    IDisposable Subscribe(Action<LinkChanged> onChange);

    Task<LinkState> GetAsync(string name, CancellationToken ct = default);
}

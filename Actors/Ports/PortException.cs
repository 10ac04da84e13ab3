namespace EqlActors.Ports;

/// <summary>Whether retrying can help: supervision retries transient failures and parks permanent ones.</summary>
public enum FailureKind
{
    Transient,
    /// <summary>Retrying cannot help until the configuration or the remote side changes (authentication refused, no slirp).</summary>
    Permanent,
}

/// <summary>A failure of an effect on the world, with a message fit for an operator.</summary>
public sealed class PortException(string message, FailureKind kind = FailureKind.Transient, Exception? inner = null)
    : Exception(message, inner)
{
    public FailureKind Kind { get; } = kind;
}

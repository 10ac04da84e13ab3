namespace EqlActors.Actors;

/// <summary>Thrown by a link actor after it has stopped its whole chain, so that its backoff supervisor starts a new attempt.</summary>
public sealed class LinkAttemptFailedException(int link, string reason) : Exception($"link {link}: {reason}")
{
    public int Link { get; } = link;
    public string Reason { get; } = reason;

    // The reason says everything; a stack trace in every link failure's log line would only hide it.
    public override string? StackTrace => null;
}

using System.Threading.Channels;
using Akka.Actor;
using EqlActors.Messages;

namespace EqlActors.Host.Control;

/// <summary>A bundle event as a <c>start</c> request sees it: <paramref name="Replayed"/> if it happened before the request.</summary>
public readonly record struct JournalEntry(IBundleEvent Event, bool Replayed);

/// <summary>
/// Keeps the bundle's events since its last <c>BundleStarting</c> and forwards new ones to attached readers, so an
/// <c>eqlactors start</c> that connects a second after it spawned the daemon still shows every link's progress.
/// Subscribed to the event stream by its creator, before the bundle starts.
/// </summary>
public sealed class ProgressJournal : ReceiveActor
{
    private const int MaxHistory = 500;
    private readonly List<IBundleEvent> _history = [];
    private readonly List<ChannelWriter<JournalEntry>> _readers = [];

    public sealed record Attach(ChannelWriter<JournalEntry> Writer);
    public sealed record Attached;
    public sealed record Detach(ChannelWriter<JournalEntry> Writer);

    public ProgressJournal()
    {
        Receive<IBundleEvent>(e =>
        {
            if (e is BundleStarting) _history.Clear();
            if (_history.Count < MaxHistory) _history.Add(e);
            foreach (var reader in _readers) reader.TryWrite(new JournalEntry(e, false));
        });
        Receive<Attach>(a =>
        {
            foreach (var e in _history) a.Writer.TryWrite(new JournalEntry(e, true));
            _readers.Add(a.Writer);
            Sender.Tell(new Attached());
        });
        Receive<Detach>(d =>
        {
            _readers.Remove(d.Writer);
            d.Writer.TryComplete();
        });
    }
}

public static class ProgressJournalFactory
{
    /// <summary>Creates the journal and subscribes it synchronously, so it misses nothing published afterwards.</summary>
    public static IActorRef CreateProgressJournal(this ActorSystem system)
    {
        var journal = system.ActorOf(Props.Create(() => new ProgressJournal()), "progress-journal");
        system.EventStream.Subscribe(journal, typeof(IBundleEvent));
        return journal;
    }
}

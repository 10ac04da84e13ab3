using System.Diagnostics;
using Akka.Actor;
using EqlActors.Messages;

namespace EqlActors.Bench;

/// <summary>
/// Every <see cref="IBundleEvent"/> published on the event stream, stamped with <see cref="Stopwatch"/> when the
/// subscriber handled it: what a consumer of the events sees, dispatch included.
/// </summary>
public sealed class EventLog
{
    private readonly List<(long At, IBundleEvent Event)> _events = [];

    public static EventLog Attach(ActorSystem system)
    {
        var log = new EventLog();
        var actor = system.ActorOf(Props.Create(() => new Recorder(log)), "bench-events");
        system.EventStream.Subscribe(actor, typeof(IBundleEvent));
        return log;
    }

    private void Add(IBundleEvent e)
    {
        var at = Stopwatch.GetTimestamp();
        lock (_events)
        {
            _events.Add((at, e));
            Monitor.PulseAll(_events);
        }
    }

    /// <summary>The timestamp of the first event after <paramref name="after"/> that matches; throws on timeout.</summary>
    public (long At, T Event) WaitFor<T>(long after, Func<T, bool> match, TimeSpan timeout, string what) where T : IBundleEvent
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        lock (_events)
        {
            var i = 0;
            while (true)
            {
                for (; i < _events.Count; i++)
                {
                    if (_events[i].At >= after && _events[i].Event is T e && match(e)) return (_events[i].At, e);
                }
                var left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) throw new TimeoutException($"no {what} within {timeout.TotalSeconds:0} s");
                Monitor.Wait(_events, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            }
        }
    }

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(EventLog log) => Receive<IBundleEvent>(log.Add);
    }
}

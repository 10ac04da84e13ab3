using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using EqlActors.Host.Hosting;

namespace EqlActors.Tests.Hosting;

/// <summary>
/// The teardown's last log lines are written before the actor system goes: Akka stops its logger actors with a
/// system message that overtakes the events still in their mailboxes.
/// </summary>
public class LogBarrierTests
{
    [Fact]
    public async Task Every_event_logged_before_the_barrier_is_written_when_it_returns()
    {
        var system = ActorSystem.Create("barrier", ConfigurationFactory.ParseString(
            $"akka.loggers = [\"{typeof(SlowLogger).AssemblyQualifiedName}\"]\nakka.stdout-loglevel = OFF"));
        try
        {
            var sink = SlowLogger.Sinks.GetOrAdd(system.Name, _ => new ConcurrentQueue<string>());
            var log = Akka.Event.Logging.GetLogger(system, "test");
            for (var i = 0; i < 5; i++) log.Info("line {0}", i);

            // The logger takes 100 ms per event: without the barrier most of the five are still queued here.
            Assert.True(await LogBarrier.PassAsync(system, TimeSpan.FromSeconds(30)));

            Assert.Equal(["line 0", "line 1", "line 2", "line 3", "line 4"], sink.Where(l => l.StartsWith("line ", StringComparison.Ordinal)));
        }
        finally
        {
            await system.Terminate();
            SlowLogger.Sinks.TryRemove(system.Name, out _);
        }
    }

    [Fact]
    public async Task Without_a_logger_actor_the_barrier_gives_up_after_its_timeout()
    {
        var system = ActorSystem.Create("barrier-none", ConfigurationFactory.ParseString("akka.loggers = []\nakka.stdout-loglevel = OFF"));
        try
        {
            Assert.False(await LogBarrier.PassAsync(system, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>A logger actor that writes slowly, as to a busy disk; one sink per actor system.</summary>
    public sealed class SlowLogger : ReceiveActor
    {
        public static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Sinks = new();

        public SlowLogger()
        {
            var sink = Sinks.GetOrAdd(Context.System.Name, _ => new ConcurrentQueue<string>());
            Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
            Receive<LogEvent>(e =>
            {
                Thread.Sleep(100); // the slow sink itself: this test double stands for the write, not for an actor
                sink.Enqueue(e.Message.ToString() ?? "");
            });
        }
    }
}

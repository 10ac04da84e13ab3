using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using LogEvent = Serilog.Events.LogEvent;
using Logging = EqlActors.Host.Hosting.Logging;
using EqlActors.Host.Hosting;
using EqlActors.Tests.Fixtures;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace EqlActors.Tests.Hosting;

/// <summary>
/// The time on an actor's log line is when the actor logged it, not when Akka's logger actor got round to writing
/// it. In the console collection: Akka.Logger.Serilog writes to the process-wide <see cref="Log.Logger"/>.
/// </summary>
[Collection("console")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class LoggingTests
{
    [Fact]
    public async Task An_actor_s_line_written_late_keeps_the_time_it_was_logged()
    {
        var sink = new GatedSink();
        var previous = Log.Logger;
        Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose()
            .WriteTo.Sink(Serilog.Configuration.LoggerSinkConfiguration.Wrap(s => new Logging.ActorTimestamps(s), w => w.Sink(sink)))
            .CreateLogger();
        var system = ActorSystem.Create("stamps", ConfigurationFactory.ParseString(
            "akka.loggers = [\"Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog\"]\nakka.stdout-loglevel = OFF\nakka.loglevel = INFO"));
        try
        {
            var log = Akka.Event.Logging.GetLogger(system, "test");
            log.Info("first");
            Assert.True(sink.FirstArrived.Wait(TimeSpan.FromSeconds(30)), "the logger actor wrote nothing");
            // The logger actor is now held inside the sink: "second" waits in its mailbox.
            log.Info("second");
            var logged = DateTimeOffset.Now;
            SpinWait.SpinUntil(() => DateTimeOffset.Now > logged.AddMilliseconds(50));
            var released = DateTimeOffset.Now;
            sink.Release.Set();

            static bool IsSecond((LogEvent Event, DateTimeOffset) e) => e.Event.MessageTemplate.Text.Contains("second", StringComparison.Ordinal);
            await Wait.UntilAsync(() => sink.Events.Any(IsSecond), TimeSpan.FromSeconds(30), "the second line written");
            var second = sink.Events.First(IsSecond);
            Assert.True(second.WrittenAt >= released);
            Assert.True(second.Event.Timestamp <= logged, $"stamped {second.Event.Timestamp:O}, logged by {logged:O}, written at {second.WrittenAt:O}");
            Assert.False(second.Event.Properties.ContainsKey(Logging.ActorTimestamps.Property));
        }
        finally
        {
            sink.Release.Set();
            await system.Terminate();
            Log.Logger = previous;
        }
    }

    [Fact]
    public void A_line_without_an_actor_s_time_keeps_its_own_and_the_log_file_has_every_line_once_the_logger_is_disposed()
    {
        using var dir = new TempDir("eqla-logging-");
        var file = dir.File("daemon.log");
        var stamped = DateTimeOffset.Now.AddHours(-3);
        var previousError = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            using (var logger = Logging.Create(LogEventLevel.Information, file))
            {
                logger.Information("plain {Value}", 1);
                logger.Write(new LogEvent(DateTimeOffset.Now, LogEventLevel.Information, null,
                    new Serilog.Parsing.MessageTemplateParser().Parse("from an actor"),
                    [new LogEventProperty(Logging.ActorTimestamps.Property, new ScalarValue(stamped.UtcDateTime))]));
            }
        }
        finally
        {
            Console.SetError(previousError);
        }
        var lines = File.ReadAllLines(Directory.GetFiles(dir.Path, "daemon*.log").Single());
        Assert.Equal(2, lines.Length);
        Assert.Contains("plain 1", lines[0]);
        Assert.StartsWith(stamped.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture), lines[1]);
        Assert.DoesNotContain("\"Timestamp\"", lines[1]);
    }

    /// <summary>Holds the writer on the first event until released; records when each event was written.</summary>
    private sealed class GatedSink : ILogEventSink
    {
        public readonly ManualResetEventSlim FirstArrived = new();
        public readonly ManualResetEventSlim Release = new();
        public readonly ConcurrentQueue<(LogEvent Event, DateTimeOffset WrittenAt)> Events = new();

        public void Emit(LogEvent logEvent)
        {
            if (!FirstArrived.IsSet)
            {
                FirstArrived.Set();
                Release.Wait(TimeSpan.FromSeconds(60));
            }
            Events.Enqueue((logEvent, DateTimeOffset.Now));
        }
    }
}

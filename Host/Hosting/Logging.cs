using Serilog;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace EqlActors.Host.Hosting;

/// <summary>Serilog set-up shared by every verb that runs actors.</summary>
public static class Logging
{
    // journald stamps and tags each line itself; a terminal user wants the time.
    private const string TerminalTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";
    private const string JournalTemplate = "{Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";
    private const string StderrFileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";
    private const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u3} {SourceContext}: {Message:lj} {Properties:j}{NewLine}{Exception}";

    public static LogEventLevel ParseLevel(string level) =>
        Enum.TryParse<LogEventLevel>(level, ignoreCase: true, out var parsed) ? parsed : LogEventLevel.Information;

    /// <summary>
    /// Console on stderr (stdout is kept for machine-readable output such as <c>--json</c>); plain lines with a
    /// syslog priority prefix when not on a terminal so that journald files each line at the right level, except
    /// for a daemon that <c>eqlactors start</c> detached into a log file (<c>EQLACTORS_LOG_STYLE=file</c>):
    /// timestamped lines.
    /// </summary>
    public static Serilog.Core.Logger Create(LogEventLevel level, string? logFile) => Configure(level, logFile, warmUp: false).CreateLogger();

    /// <summary>
    /// Builds a logger the way <see cref="Create"/> does and logs one event like the start line through it, to compile
    /// and load Serilog's code before <c>run</c> needs it (<see cref="StartWarmUp"/>): the sinks are the real ones
    /// restricted to a level the event is below (constructed, never written to), and the two plain-text templates
    /// rendered to <see cref="TextWriter.Null"/>. No log file is opened.
    /// </summary>
    internal static void WarmUp()
    {
        using var logger = Configure(ParseLevel("Information"), null, warmUp: true).CreateLogger();
        logger.ForContext("SourceContext", "EqlActors.Host").Information("Start: managed code after {Runtime:0} ms, {Step}", 1.5, "warm-up");
    }

    private static LoggerConfiguration Configure(LogEventLevel level, string? logFile, bool warmUp)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.With<ControlCharacterEscaper>();

        config = config.WriteTo.Sink(Serilog.Configuration.LoggerSinkConfiguration.Wrap(sink => new ActorTimestamps(sink), sinks =>
        {
            // The warm-up's sinks take nothing (the level it logs at is below them).
            var only = warmUp ? LogEventLevel.Fatal : LogEventLevel.Verbose;
            // systemd sets JOURNAL_STREAM when stderr is the journal; a detached daemon's stderr is a plain log file.
            if (!Console.IsErrorRedirected)
                sinks.Console(outputTemplate: TerminalTemplate, standardErrorFromLevel: LogEventLevel.Verbose, restrictedToMinimumLevel: only);
            else if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is null && Environment.GetEnvironmentVariable("EQLACTORS_LOG_STYLE") == "file")
                sinks.Console(new MessageTemplateTextFormatter(StderrFileTemplate), standardErrorFromLevel: LogEventLevel.Verbose, restrictedToMinimumLevel: only);
            else
                sinks.Sink(new JournalFriendlySink(new MessageTemplateTextFormatter(JournalTemplate)), restrictedToMinimumLevel: only);

            if (warmUp)
            {
                sinks.Sink(new Nowhere(new MessageTemplateTextFormatter(StderrFileTemplate)));
                sinks.Sink(new Nowhere(new MessageTemplateTextFormatter(JournalTemplate)));
            }
            else if (!string.IsNullOrEmpty(logFile))
                sinks.File(logFile, outputTemplate: FileTemplate, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14);
        }));

        return config;
    }

    /// <summary>
    /// An actor's log line reaches Serilog through Akka's logger actor, which writes it when it gets to it: Serilog
    /// stamps the event then, seconds late when the machine is busy (a loaded guest's product.log showed lines out of
    /// order against the pppd output they describe). Akka.Logger.Serilog passes the time the actor logged as the
    /// property <c>Timestamp</c>: the event takes that time, and the property goes (it would repeat the time).
    /// </summary>
    public sealed class ActorTimestamps(Serilog.Core.ILogEventSink inner) : Serilog.Core.ILogEventSink
    {
        public const string Property = "Timestamp";

        public void Emit(LogEvent logEvent)
        {
            if (logEvent.Properties.TryGetValue(Property, out var value) && value is ScalarValue { Value: DateTime at })
            {
                var stamped = at.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(at, TimeSpan.Zero) : new DateTimeOffset(at.ToUniversalTime());
                logEvent = new LogEvent(stamped.ToLocalTime(), logEvent.Level, logEvent.Exception, logEvent.MessageTemplate,
                    logEvent.Properties.Where(p => p.Key != Property).Select(p => new LogEventProperty(p.Key, p.Value)),
                    logEvent.TraceId ?? default, logEvent.SpanId ?? default);
            }
            inner.Emit(logEvent);
        }
    }

    /// <summary>
    /// Text from outside (a control request, a remote's stderr) may hold newlines or terminal escapes: rendered raw it
    /// would forge log lines or recolour a terminal. Every string property with a control character is escaped
    /// (<c>\n</c>, <c>\u001b</c>) before any sink sees it.
    /// </summary>
    public sealed class ControlCharacterEscaper : Serilog.Core.ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory)
        {
            List<LogEventProperty>? escaped = null;
            foreach (var (name, value) in logEvent.Properties)
                if (value is ScalarValue { Value: string text } && NeedsEscaping(text))
                    (escaped ??= []).Add(new LogEventProperty(name, new ScalarValue(Escape(text))));
            if (escaped is null) return;
            foreach (var property in escaped) logEvent.AddOrUpdateProperty(property);
        }

        public static bool NeedsEscaping(string text) => text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029');

        /// <summary>The text with control characters (and backslashes, so the result is unambiguous) escaped, unquoted.</summary>
        public static string Escape(string text) => Configuration.ConfigError.Quote(text, int.MaxValue)[1..^1];
    }

    /// <summary>Renders each event and drops the text: the warm-up's stand-in for the plain-text sinks.</summary>
    private sealed class Nowhere(MessageTemplateTextFormatter formatter) : Serilog.Core.ILogEventSink
    {
        public void Emit(LogEvent logEvent) => formatter.Format(logEvent, TextWriter.Null);
    }

    /// <summary>Writes <c>&lt;N&gt;</c> (sd-daemon(3) priority) before each line so journald keeps the level.</summary>
    private sealed class JournalFriendlySink(MessageTemplateTextFormatter formatter) : Serilog.Core.ILogEventSink
    {
        private readonly object _gate = new();

        public void Emit(LogEvent logEvent)
        {
            var text = new StringWriter();
            formatter.Format(logEvent, text);
            var priority = logEvent.Level switch
            {
                LogEventLevel.Fatal => 2,
                LogEventLevel.Error => 3,
                LogEventLevel.Warning => 4,
                LogEventLevel.Information => 6,
                _ => 7,
            };
            var lines = text.ToString().TrimEnd('\n').Split('\n');
            lock (_gate)
            {
                foreach (var line in lines)
                    Console.Error.Write($"<{priority}>{line}\n");
                Console.Error.Flush();
            }
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EqlActors.Host.Control;

namespace EqlActors.Host.Cli;

/// <summary>
/// The verbs an operator reaches for between <c>start</c> and <c>stop</c>: <c>restart-link N</c>,
/// <c>restart-parked</c>, <c>logs</c> and <c>status --watch</c> (docs/operations.md). Exit codes as every control
/// verb: 0 ok, 1 failed, 2 invalid input, 3 no daemon, 4 permission denied.
/// </summary>
public static class OperatorCommands
{
    public static readonly Option<bool> WatchOption = new("--watch", "-w") { Description = "Refresh the table until Ctrl+C (with --json: one JSON line per refresh)" };

    public static readonly Option<string> IntervalOption = new("--interval")
    {
        Description = "With --watch: time between refreshes (1s-1h, e.g. 2s)",
        DefaultValueFactory = _ => "2s",
    };

    public static readonly Option<int> CountOption = new("--count")
    {
        Description = "With --watch: stop after this many refreshes (0: until Ctrl+C); the exit code is the last refresh's",
        DefaultValueFactory = _ => 0,
    };

    private static readonly Argument<int> LinkArgument = new("link") { Description = "The link number (its slirp -l N)" };

    private static readonly Option<bool> FollowOption = new("--follow", "-f") { Description = "Keep printing new lines until Ctrl+C" };

    private static readonly Option<int> LinesOption = new("--lines", "-n")
    {
        Description = "How many of the last lines to print first (1-100000)",
        DefaultValueFactory = _ => 50,
    };

    private static readonly Option<string?> FileOption = new("--file") { Description = "Read this log file instead of control.logFile, /var/log/eqlactors.log or the journal" };

    public const string Unit = "eqlactors.service";

    public static IEnumerable<Command> Build()
    {
        var restartLink = new Command("restart-link",
            "Restart one link: wakes a parked link, or stops a running link's pppd chain and starts it again (exit 0: restarting, 1: refused, 2: not a configured link, 3: no daemon, 4: not root)");
        restartLink.Arguments.Add(LinkArgument);
        restartLink.SetAction((parse, _) => ControlCommands.Linux(parse, () => RestartLinkAsync(parse)));

        var restartParked = new Command("restart-parked",
            "Wake every parked link (one that gave up or hit a permanent error) after you fixed the cause (exit 0, 3: no daemon, 4: not root)");
        restartParked.SetAction((parse, _) => ControlCommands.Linux(parse, () => RestartParkedAsync(parse)));

        var logs = new Command("logs",
            "Print the daemon's log: control.logFile, else /var/log/eqlactors.log (where start's daemon writes), else journalctl -u eqlactors (exit 0, 1: no log found)");
        logs.Options.Add(FollowOption);
        logs.Options.Add(LinesOption);
        logs.Options.Add(FileOption);
        logs.SetAction((parse, ct) => LogsAsync(parse, ct));

        return [restartLink, restartParked, logs];
    }

    // ---- restart-link, restart-parked ----

    private static async Task<int> RestartLinkAsync(ParseResult parse)
    {
        var io = new ControlCommands.Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "restart-link");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        var link = parse.GetValue(LinkArgument);
        if (ControlCommands.Connect(config, io, out var client) is { } code) return code;
        using (client)
        {
            var response = await client!.RequestAsync(new ControlRequest(Requests.RestartLink, Link: link), TimeSpan.FromSeconds(30));
            if (response is { Type: "ok" })
            {
                io.Out.WriteLine(response.Message);
                return EqlActorsCli.Ok;
            }
            if (response is { Code: "bad-request" })
            {
                io.Err.WriteLine($"eqlactors restart-link: {response.Message}");
                return EqlActorsCli.InvalidConfiguration;
            }
            return ControlCommands.ReportError(response, io);
        }
    }

    private static async Task<int> RestartParkedAsync(ParseResult parse)
    {
        var io = new ControlCommands.Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "restart-parked");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        if (ControlCommands.Connect(config, io, out var client) is { } code) return code;
        using (client)
        {
            var response = await client!.RequestAsync(new ControlRequest(Requests.RestartParked), TimeSpan.FromSeconds(30));
            if (response is not { Type: "ok" }) return ControlCommands.ReportError(response, io);
            io.Out.WriteLine(response.Message);
            return EqlActorsCli.Ok;
        }
    }

    // ---- status --watch ----

    public static async Task<int> WatchAsync(ParseResult parse, CancellationToken ct)
    {
        var io = new ControlCommands.Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "status");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        if (!SimulateCommand.TryParseDuration(parse.GetValue(IntervalOption) ?? "", out var interval) || interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromHours(1))
        {
            io.Err.WriteLine("eqlactors status: --interval must be 1s-1h, e.g. 2s");
            return EqlActorsCli.InvalidConfiguration;
        }
        var count = parse.GetValue(CountOption);
        if (count < 0)
        {
            io.Err.WriteLine("eqlactors status: --count must be 0 (forever) or more");
            return EqlActorsCli.InvalidConfiguration;
        }
        var json = parse.GetValue(ControlCommands.JsonOption);
        // Redraw in place only on a terminal; into a pipe or file every refresh is appended, separated.
        var redraw = !json && ReferenceEquals(io.Out, Console.Out) && !Console.IsOutputRedirected;
        var last = EqlActorsCli.Failed;
        for (var n = 1; count == 0 || n <= count; n++)
        {
            var frame = new StringBuilder();
            last = await Snapshot(config, io, json, frame);
            if (redraw) io.Out.Write("\u001b[H\u001b[2J");
            else if (!json && n > 1) io.Out.WriteLine(new string('-', 40));
            if (!json) io.Out.WriteLine($"every {interval.TotalSeconds:0.#} s, Ctrl+C to stop; {DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}");
            io.Out.Write(frame.ToString());
            io.Out.Flush();
            if (count != 0 && n == count) break;
            try { await Task.Delay(interval, ct); }
            catch (OperationCanceledException) { break; }
        }
        return last;
    }

    /// <summary>One refresh: the table (or one JSON line) and the exit code status would give now.</summary>
    private static async Task<int> Snapshot(EqlActors.Configuration.BundleConfig config, ControlCommands.Io io, bool json, StringBuilder frame)
    {
        var quiet = new ControlCommands.Io(new StringWriter(), io.Err, io.Verb);
        var connected = ControlCommands.Connect(config, quiet, out var client, quietIfNone: true);
        if (connected == EqlActorsCli.NoDaemon)
        {
            frame.AppendLine(json ? """{"daemon":null,"up":false}""" : "EQL down (no daemon)");
            return EqlActorsCli.NoDaemon;
        }
        if (connected is { } code) return code;
        using (client)
        {
            ControlResponse? response;
            try { response = await client!.RequestAsync(new ControlRequest(Requests.Status), TimeSpan.FromSeconds(30)); }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                frame.AppendLine(json ? """{"daemon":null,"up":false}""" : $"EQL down (the daemon did not answer: {ex.Message})");
                return EqlActorsCli.Failed;
            }
            if (response is not { Type: "status", Status: { } status }) return ControlCommands.ReportError(response, io);
            if (json)
            {
                var node = JsonSerializer.SerializeToNode(status, ControlProtocol.Json)!.AsObject();
                node["up"] = status.Up;
                node["daemon"] = JsonSerializer.SerializeToNode(response.Daemon, ControlProtocol.Json);
                frame.AppendLine(node.ToJsonString());
            }
            else frame.Append(ControlCommands.StatusTable(status, response.Daemon));
            return status.Up ? EqlActorsCli.Ok : EqlActorsCli.Failed;
        }
    }

    // ---- logs ----

    private static async Task<int> LogsAsync(ParseResult parse, CancellationToken ct)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        var lines = parse.GetValue(LinesOption);
        if (lines is < 1 or > 100_000)
        {
            error.WriteLine("eqlactors logs: --lines must be 1-100000");
            return EqlActorsCli.InvalidConfiguration;
        }
        var follow = parse.GetValue(FollowOption);
        var file = parse.GetValue(FileOption) ?? config.Control.LogFile ?? (File.Exists(ControlCommands.DefaultLogFile) ? ControlCommands.DefaultLogFile : null);
        if (file is not null)
        {
            if (!File.Exists(file))
            {
                error.WriteLine($"eqlactors logs: {file} does not exist");
                return EqlActorsCli.Failed;
            }
            return await TailAsync(file, lines, follow, output, ct);
        }
        return await JournalAsync(lines, follow, error, ct);
    }

    /// <summary>The last <paramref name="lines"/> lines, then (following) whatever is appended; a truncated file is read again from its start.</summary>
    internal static async Task<int> TailAsync(string file, int lines, bool follow, TextWriter output, CancellationToken ct)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        var last = new Queue<string>();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            last.Enqueue(line);
            if (last.Count > lines) last.Dequeue();
        }
        foreach (var line in last) output.WriteLine(line);
        output.Flush();
        if (!follow) return EqlActorsCli.Ok;
        var pending = new StringBuilder();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (stream.Length < stream.Position)
                {
                    stream.Seek(0, SeekOrigin.Begin);
                    reader.DiscardBufferedData();
                }
                var chunk = await reader.ReadToEndAsync(ct);
                if (chunk.Length > 0)
                {
                    pending.Append(chunk);
                    var text = pending.ToString();
                    var end = text.LastIndexOf('\n');
                    if (end >= 0)
                    {
                        output.Write(text[..(end + 1)]);
                        output.Flush();
                        pending.Clear().Append(text[(end + 1)..]);
                    }
                }
                await Task.Delay(250, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        return EqlActorsCli.Ok;
    }

    /// <summary>Under systemd the log is the journal: journalctl with an argv list, its output straight to ours.</summary>
    private static async Task<int> JournalAsync(int lines, bool follow, TextWriter error, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("journalctl") { UseShellExecute = false };
        foreach (var a in new[] { "--unit", Unit, "--lines", lines.ToString(CultureInfo.InvariantCulture), "--no-pager" }) psi.ArgumentList.Add(a);
        if (follow) psi.ArgumentList.Add("--follow");
        Process? journal;
        try { journal = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception)
        {
            error.WriteLine($"eqlactors logs: no log file (control.logFile, {ControlCommands.DefaultLogFile}) and no journalctl: pass --file");
            return EqlActorsCli.Failed;
        }
        using (journal)
        {
            try { await journal!.WaitForExitAsync(ct); }
            catch (OperationCanceledException)
            {
                journal!.Kill();
                await journal.WaitForExitAsync(CancellationToken.None);
                return EqlActorsCli.Ok;
            }
            return journal.ExitCode == 0 ? EqlActorsCli.Ok : EqlActorsCli.Failed;
        }
    }
}

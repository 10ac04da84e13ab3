using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EqlActors.Configuration;
using EqlActors.Host.Configuration;
using EqlActors.Host.Control;
using EqlActors.Host.Linux;

namespace EqlActors.Host.Cli;

/// <summary>
/// <c>eqlactors start|stop|restart|status</c>: clients of the daemon's control socket, the HOWTO script's verbs.
/// Exit codes (<see cref="ExitCodes"/>): 0 ok, 1 failed (or, for status, not every link enslaved), 2 invalid
/// configuration or usage, 3 no daemon, 4 permission denied, 5 not the daemon asked for.
/// </summary>
public static class ControlCommands
{
    public const int PermissionDenied = ExitCodes.PermissionDenied;
    public const string DefaultLogFile = "/var/log/eqlactors.log";

    private static readonly Option<string> TimeoutOption = new("--timeout")
    {
        Description = "How long start waits for every link to be enslaved (90s, 2m)",
        DefaultValueFactory = _ => "120s",
    };

    private static readonly Option<string> LogFileOption = new("--log-file")
    {
        Description = $"Where a daemon that start spawns writes its log (default {DefaultLogFile}); under systemd use systemctl",
        DefaultValueFactory = _ => DefaultLogFile,
    };

    internal static readonly Option<bool> JsonOption = new("--json") { Description = "Print the status as one JSON object" };

    public static IEnumerable<Command> Build()
    {
        var start = new Command("start", "Start the daemon if none answers, then show each link's progress until the bundle is ready (exit 0: EQL ready, 1: not ready in time)");
        start.Options.Add(RunCommand.SimulatedOption);
        start.Options.Add(TimeoutOption);
        start.Options.Add(LogFileOption);
        start.SetAction((parse, _) => Linux(parse, () => StartAsync(parse)));

        var stop = new Command("stop", "Tear the bundle down and wait until the daemon has exited (exit 0: stopped, 3: no daemon)");
        stop.SetAction((parse, _) => Linux(parse, () => StopAsync(parse)));

        var restart = new Command("restart", "Stop (if running), then start");
        restart.Options.Add(RunCommand.SimulatedOption);
        restart.Options.Add(TimeoutOption);
        restart.Options.Add(LogFileOption);
        restart.SetAction((parse, _) => Linux(parse, async () =>
        {
            var stopped = await StopAsync(parse);
            if (stopped is not (EqlActorsCli.Ok or EqlActorsCli.NoDaemon)) return stopped;
            return await StartAsync(parse);
        }));

        var status = new Command("status", "Show every link, the EQL master and the routes (exit 0: every link enslaved, 1: not, 3: no daemon)");
        status.Options.Add(JsonOption);
        status.Options.Add(OperatorCommands.WatchOption);
        status.Options.Add(OperatorCommands.IntervalOption);
        status.Options.Add(OperatorCommands.CountOption);
        status.SetAction((parse, ct) => Linux(parse, () => parse.GetValue(OperatorCommands.WatchOption) ? OperatorCommands.WatchAsync(parse, ct) : StatusAsync(parse)));

        return [start, stop, restart, status, .. OperatorCommands.Build()];
    }

    internal static Task<int> Linux(ParseResult parse, Func<Task<int>> action)
    {
        if (OperatingSystem.IsLinux()) return action();
        parse.InvocationConfiguration.Error.WriteLine($"eqlactors {parse.CommandResult.Command.Name}: Linux only");
        return Task.FromResult(EqlActorsCli.Failed);
    }

    internal sealed record Io(TextWriter Out, TextWriter Err, string Verb);

    /// <summary>Connects, or says why not (returns the exit code to use).</summary>
    internal static int? Connect(BundleConfig config, Io io, out ControlClient? client, bool quietIfNone = false)
    {
        var path = config.Control.SocketPath;
        switch (ControlClient.TryConnect(path, out client, out var detail))
        {
            case ConnectOutcome.Connected:
                return null;
            case ConnectOutcome.PermissionDenied:
                io.Err.WriteLine($"eqlactors {io.Verb}: permission denied on {path}: run as root");
                return PermissionDenied;
            case ConnectOutcome.Untrusted:
                io.Err.WriteLine($"eqlactors {io.Verb}: refused: {detail}");
                return ExitCodes.WrongDaemon;
            default:
                if (!quietIfNone) io.Err.WriteLine($"eqlactors {io.Verb}: no daemon answers on {path} ({detail})");
                return EqlActorsCli.NoDaemon;
        }
    }

    /// <summary>A response of type error: forbidden maps to 4, everything else to 1.</summary>
    internal static int ReportError(ControlResponse? response, Io io)
    {
        if (response is null)
        {
            io.Err.WriteLine($"eqlactors {io.Verb}: the daemon closed the connection");
            return EqlActorsCli.Failed;
        }
        io.Err.WriteLine($"eqlactors {io.Verb}: {response.Message ?? response.Type}");
        return response.Code == "forbidden" ? PermissionDenied : EqlActorsCli.Failed;
    }

    // ---- status ----

    /// <summary>The daemon answers status from memory at once; longer means it is not running its actors.</summary>
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    private static async Task<int> StatusAsync(ParseResult parse)
    {
        var io = new Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "status");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        var json = parse.GetValue(JsonOption);
        if (Connect(config, io, out var client, quietIfNone: true) is { } code)
        {
            if (code == EqlActorsCli.NoDaemon)
            {
                if (json) io.Out.WriteLine("""{"daemon":null,"up":false}""");
                else io.Out.WriteLine("EQL down (no daemon)");
            }
            return code;
        }
        using (client)
        {
            ControlResponse? response;
            // A daemon that does not answer at once is stalled (stopped, starved): say so rather than hang or
            // later print an old picture as if it were current.
            try { response = await client!.RequestAsync(new ControlRequest(Requests.Status), StatusTimeout); }
            catch (OperationCanceledException)
            {
                io.Err.WriteLine($"eqlactors status: the daemon did not answer within {StatusTimeout.TotalSeconds:0} s (stopped or starved?); its state is unknown");
                return EqlActorsCli.Failed;
            }
            if (response is not { Type: "status", Status: { } status }) return ReportError(response, io);
            if (json)
            {
                var node = System.Text.Json.JsonSerializer.SerializeToNode(status, ControlProtocol.Json)!.AsObject();
                node["up"] = status.Up;
                node["simulated"] = response.Daemon?.Simulated;
                node["daemon"] = System.Text.Json.JsonSerializer.SerializeToNode(response.Daemon, ControlProtocol.Json);
                io.Out.WriteLine(node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                io.Out.Write(StatusTable(status, response.Daemon));
            }
            return status.Up ? EqlActorsCli.Ok : EqlActorsCli.Failed;
        }
    }

    public static string StatusTable(StatusView s, DaemonInfo? daemon)
    {
        var rows = new List<string[]> { new[] { "LINK", "STATE", "IFACE", "PID", "ENSLAVED", "RESTARTS", "UPLOAD", "LAST ERROR" } };
        foreach (var l in s.Links)
        {
            rows.Add([
                l.Link.ToString(CultureInfo.InvariantCulture),
                Kebab(l.Phase.ToString()),
                l.Interface ?? "-",
                l.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
                l.Enslaved ? "yes" : "no",
                l.Restarts.ToString(CultureInfo.InvariantCulture),
                l.UploadShare is { } share ? share.ToString("P1", CultureInfo.InvariantCulture) : "-",
                l.LastError is null ? "-" : l.LastErrorAt is { } at ? $"{at.ToLocalTime():HH:mm:ss} {l.LastError}" : l.LastError,
            ]);
        }
        var widths = Enumerable.Range(0, rows[0].Length - 1).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        if (daemon is not null)
            sb.Append(CultureInfo.InvariantCulture, $"daemon: pid {daemon.Pid}, {(daemon.Simulated ? "SIMULATED system (no real links)" : "Linux system")}, since {daemon.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}\n");
        sb.Append(CultureInfo.InvariantCulture, $"bundle: {Kebab(s.Phase.ToString())}, {s.Enslaved}/{s.Configured} links enslaved\n\n");
        foreach (var r in rows)
        {
            for (var i = 0; i < r.Length - 1; i++) sb.Append(r[i].PadRight(widths[i] + 2));
            sb.Append(r[^1]).Append('\n');
        }
        sb.Append(CultureInfo.InvariantCulture, $"\nmaster: {s.Master} {(s.MasterUp ? "up" : "down")}\n");
        sb.Append("routes:");
        if (s.Routes.Count == 0) sb.Append(" none");
        sb.Append('\n');
        foreach (var r in s.Routes)
            sb.Append(CultureInfo.InvariantCulture, $"  {r.Destination}{(r.Gateway is null ? "" : " via " + r.Gateway)} dev {r.Device}  {(r.Present ? "present" : "MISSING")}\n");
        if (s.TcpReordering is not null) sb.Append(CultureInfo.InvariantCulture, $"net.ipv4.tcp_reordering = {s.TcpReordering}\n");
        sb.Append(s.Up ? "EQL up" : "EQL down").Append(daemon is { Simulated: true } ? " (simulated)\n" : "\n");
        return sb.ToString();
    }

    private static string Kebab(string pascal) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(pascal);

    // ---- start ----

    private static async Task<int> StartAsync(ParseResult parse)
    {
        var io = new Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "start");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        if (!SimulateCommand.TryParseDuration(parse.GetValue(TimeoutOption) ?? "", out var timeout) || timeout <= TimeSpan.Zero)
        {
            io.Err.WriteLine("eqlactors start: --timeout must look like 90s or 2m");
            return EqlActorsCli.InvalidConfiguration;
        }

        var connected = Connect(config, io, out var client, quietIfNone: true);
        if (connected is PermissionDenied or ExitCodes.WrongDaemon) return connected.Value;
        if (connected == EqlActorsCli.NoDaemon)
        {
            var spawned = await SpawnDaemonAsync(parse, config, io);
            if (spawned != EqlActorsCli.Ok) return spawned;
            if (Connect(config, io, out client) is { } again) return again;
        }

        using (client)
        {
            // A simulated daemon must not pass for the real thing (nor the reverse): "EQL ready" would be a lie.
            var hello = await client!.RequestAsync(new ControlRequest(Requests.Hello), TimeSpan.FromSeconds(30));
            if (hello is not { Type: "hello", Daemon: { } daemon }) return ReportError(hello, io);
            var simulated = parse.GetValue(RunCommand.SimulatedOption);
            if (daemon.Simulated != simulated)
            {
                io.Err.WriteLine(daemon.Simulated
                    ? $"eqlactors start: the daemon on {config.Control.SocketPath} (pid {daemon.Pid}) runs the simulated system, not this host's links; stop it (eqlactors stop) or pass --simulated"
                    : $"eqlactors start: the daemon on {config.Control.SocketPath} (pid {daemon.Pid}) runs this host's real links, not the simulated system; stop it first to simulate");
                return ExitCodes.WrongDaemon;
            }
            io.Out.WriteLine("EQL starting ...");
            await client.SendAsync(new ControlRequest(Requests.Start, TimeoutSeconds: timeout.TotalSeconds));
            using var cts = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(30));
            while (true)
            {
                ControlResponse? response;
                try { response = await client.ReadAsync(cts.Token); }
                catch (OperationCanceledException)
                {
                    io.Err.WriteLine("eqlactors start: the daemon did not answer in time");
                    return EqlActorsCli.Failed;
                }
                switch (response)
                {
                    case { Type: "event", Event: { } e }:
                        if (e.Kind != "bundle-ready") io.Out.WriteLine($"  {e.Text}");
                        break;
                    case { Type: "ready" }:
                        io.Out.WriteLine("... EQL ready");
                        return EqlActorsCli.Ok;
                    case { Type: "timeout" }:
                        io.Err.WriteLine($"eqlactors start: {response.Message}");
                        return EqlActorsCli.Failed;
                    default:
                        return ReportError(response, io);
                }
            }
        }
    }

    /// <summary>
    /// Spawns <c>eqlactors run</c> in its own session (setsid), stdin from /dev/null, stdout and stderr appended to
    /// the log file, and waits until it answers on the socket or exits.
    /// </summary>
    private static async Task<int> SpawnDaemonAsync(ParseResult parse, BundleConfig config, Io io)
    {
        var logFile = Path.GetFullPath(parse.GetValue(LogFileOption) ?? DefaultLogFile);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // $1 is the log file; the rest is the daemon's argv, never re-parsed by a shell.
        foreach (var a in new[] { "-c", "log=$1; shift; exec setsid -- \"$@\" </dev/null >>\"$log\" 2>&1", "eqlactors-start", logFile }) psi.ArgumentList.Add(a);
        foreach (var a in DaemonArgv(parse)) psi.ArgumentList.Add(a);
        // The --set values may hold a secret (remote.tcpPassword): the environment, unlike argv, is private to the user.
        if (parse.GetValue(EqlActorsCli.SetOption) is { Length: > 0 } sets) psi.Environment[StartOverrides.Variable] = StartOverrides.Encode(sets);
        else psi.Environment.Remove(StartOverrides.Variable);
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("LISTEN_PID");
        psi.Environment.Remove("LISTEN_FDS");
        psi.Environment["EQLACTORS_LOG_STYLE"] = "file";
        foreach (var (name, value) in Hosting.DaemonRuntime.Environment) psi.Environment[name] = value;

        using var daemon = Process.Start(psi) ?? throw new InvalidOperationException("could not start the daemon");
        io.Out.WriteLine($"eqlactors: daemon started (pid {daemon.Id}, log {logFile})");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (ControlClient.TryConnect(config.Control.SocketPath, out var probe, out _) == ConnectOutcome.Connected)
            {
                probe!.Dispose();
                return EqlActorsCli.Ok;
            }
            if (daemon.HasExited)
            {
                io.Err.WriteLine($"eqlactors start: the daemon exited with code {daemon.ExitCode} before serving {config.Control.SocketPath}; see {logFile}");
                return daemon.ExitCode == EqlActorsCli.InvalidConfiguration ? EqlActorsCli.InvalidConfiguration : EqlActorsCli.Failed;
            }
            await Task.Delay(50);
        }
        io.Err.WriteLine($"eqlactors start: the daemon (pid {daemon.Id}) did not open {config.Control.SocketPath} within 60 s; see {logFile}");
        return EqlActorsCli.Failed;
    }

    /// <summary>This same program with <c>run</c> and the options that decide the daemon's configuration, except the
    /// <c>--set</c> values (passed in the environment: <see cref="StartOverrides"/>).</summary>
    private static List<string> DaemonArgv(ParseResult parse)
    {
        var argv = new List<string>();
        var exe = Environment.ProcessPath ?? "eqlactors";
        argv.Add(exe);
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") argv.Add(typeof(ControlCommands).Assembly.Location); // dotnet eqlactors.dll
        argv.Add("run");
        if (parse.GetValue(RunCommand.SimulatedOption)) argv.Add("--simulated");
        if (parse.GetValue(EqlActorsCli.ConfigOption) is { } file) { argv.Add("--config"); argv.Add(file.FullName); }
        return argv;
    }

    // ---- stop ----

    private static async Task<int> StopAsync(ParseResult parse)
    {
        var io = new Io(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, "stop");
        var config = ConfigCommand.LoadOrReport(parse);
        if (config is null) return EqlActorsCli.InvalidConfiguration;
        if (Connect(config, io, out var client, quietIfNone: parse.CommandResult.Command.Name == "restart") is { } code) return code;
        int pid;
        using (client)
        {
            var hello = await client!.RequestAsync(new ControlRequest(Requests.Hello), TimeSpan.FromSeconds(30));
            if (hello is not { Type: "hello", Daemon: { } daemon }) return ReportError(hello, io);
            pid = daemon.Pid;
            io.Out.WriteLine($"EQL stopping (daemon pid {pid}) ...");
            var response = await client.RequestAsync(new ControlRequest(Requests.Stop), TimeSpan.FromMinutes(3));
            if (response is not { Type: "stopped" }) ReportError(response, io);
        }

        // The daemon exits after answering; wait until it is gone and has removed its socket.
        var deadline = Stopwatch.StartNew();
        while (Alive(pid) || File.Exists(config.Control.SocketPath))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(90))
            {
                io.Err.WriteLine($"eqlactors stop: the daemon (pid {pid}) has not exited after 90 s");
                return EqlActorsCli.Failed;
            }
            await Task.Delay(20);
        }
        io.Out.WriteLine("EQL stopped");
        return EqlActorsCli.Ok;
    }

    /// <summary>A zombie has exited: only its parent has not collected it yet.</summary>
    private static bool Alive(int pid) => ProcessTree.Stat(pid) is { IsZombie: false };
}

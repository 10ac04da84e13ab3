using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using EqlActors.Host.Control;
using EqlActors.Host.Linux;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Control;

/// <summary>
/// Runs the real <c>eqlactors</c> built next to this test assembly (<c>dotnet eqlactors.dll ...</c>) against a
/// control socket in a temporary directory. Every daemon it meets is killed and the directory removed on dispose;
/// a test host that dies first leaves a janitor claim that the next one sweeps.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DaemonHarness : IDisposable
{
    public static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "eqlactors.dll");
    public static readonly string Dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    private readonly TempDir _dir = new("eqla-control-");
    private readonly string _claim;
    private readonly List<Process> _children = [];
    private readonly HashSet<int> _daemonPids = [];

    public DaemonHarness()
    {
        SocketPath = Path.Combine(_dir.Path, "run", "control.sock");
        _claim = Janitor.Claim(Janitor.Kind.Daemon, SocketPath);
    }

    public string Dir => _dir.Path;
    public string SocketPath { get; }
    public string LogFile => Path.Combine(_dir.Path, "daemon.log");
    public string SetSocket => $"control.socketPath={SocketPath}";

    public sealed record Result(int Code, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
    }

    /// <summary>Runs one client verb to completion (bounded), with this harness's socket.</summary>
    public Result Cli(params string[] args) => CliAs(null, args);

    /// <summary>Runs a client verb through <paramref name="prefix"/> (e.g. setpriv ... as nobody).</summary>
    public Result CliAs(string[]? prefix, params string[] args)
    {
        var argv = new List<string>(prefix ?? []) { Dotnet, Dll };
        argv.AddRange(args);
        argv.AddRange(["--set", SetSocket]);
        if (args.Length > 0 && args[0] is "start" or "restart") argv.AddRange(["--log-file", LogFile]);
        var psi = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment.Remove("NOTIFY_SOCKET");
        WithoutDiagnosticFiles(psi);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(180)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"eqlactors {string.Join(' ', args)} did not finish in 180 s");
        }
        var result = new Result(p.ExitCode, stdout.Result, stderr.Result);
        foreach (var line in result.Stdout.Split('\n'))
        {
            const string marker = "daemon started (pid ";
            var i = line.IndexOf(marker, StringComparison.Ordinal);
            if (i >= 0 && int.TryParse(line[(i + marker.Length)..].Split(',')[0], out var pid)) _daemonPids.Add(pid);
        }
        return result;
    }

    /// <summary>
    /// The runtime makes a debugger pipe pair and a diagnostics socket in /tmp for every process and removes them only
    /// at a clean exit: the daemons these tests SIGKILL on purpose would leave them behind. Neither is used here.
    /// </summary>
    private static void WithoutDiagnosticFiles(ProcessStartInfo psi)
    {
        psi.Environment["DOTNET_EnableDiagnostics_Debugger"] = "0";
        psi.Environment["DOTNET_EnableDiagnostics_IPC"] = "0";
    }

    /// <summary>Starts <c>eqlactors run --simulated</c> as a direct child; its output is collected in <paramref name="output"/>.</summary>
    public Process StartRun(StringBuilder output, IDictionary<string, string>? env = null, IEnumerable<string>? extraArgs = null)
    {
        var psi = new ProcessStartInfo(Dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { Dll, "run", "--simulated", "--set", SetSocket }.Concat(extraArgs ?? [])) psi.ArgumentList.Add(a);
        psi.Environment.Remove("NOTIFY_SOCKET");
        WithoutDiagnosticFiles(psi);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        void Append(object _, DataReceivedEventArgs e) { if (e.Data is not null) lock (output) output.AppendLine(e.Data); }
        p.OutputDataReceived += Append;
        p.ErrorDataReceived += Append;
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _children.Add(p);
        _daemonPids.Add(p.Id);
        return p;
    }

    /// <summary>One request straight over the socket (for requests no verb sends, such as simulate-fault).</summary>
    public async Task<ControlResponse?> RequestAsync(ControlRequest request)
    {
        Assert.Equal(ConnectOutcome.Connected, ControlClient.TryConnect(SocketPath, out var client, out var detail));
        using (client) return await client!.RequestAsync(request, TimeSpan.FromSeconds(30));
    }

    public static bool Alive(int pid) => ProcessTree.Stat(pid) is { IsZombie: false };

    public async Task WaitForStatusAsync(int exitCode, TimeSpan timeout, string what)
    {
        Result? last = null;
        try
        {
            await Wait.UntilAsync(() => (last = Cli("status")).Code == exitCode, timeout, what, pollMs: 200);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last status: {last}", ex);
        }
    }

    public string DaemonLog => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        // A daemon the test did not stop: whatever answers on our socket, plus every pid we saw.
        if (File.Exists(SocketPath) && ControlClient.TryConnect(SocketPath, out var client, out _) == ConnectOutcome.Connected)
        {
            using (client)
            {
                try
                {
                    if (client!.RequestAsync(new ControlRequest(Requests.Hello), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult() is { Daemon: { } d })
                        _daemonPids.Add(d.Pid);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException) { }
            }
        }
        foreach (var pid in _daemonPids)
            if (Alive(pid)) Native.kill(pid, Native.SIGKILL);
        foreach (var p in _children)
        {
            try { if (!p.HasExited) p.Kill(); p.WaitForExit(5000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        Janitor.Release(_claim);
        _dir.Dispose();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace EqlActors.Bench;

/// <summary>
/// Goal 4: launch -> ready, idle CPU and RSS of the EqlActors service supervising 3 links against the bare
/// Akka.Hosting reference (bench/BareHost), both published plain and ReadyToRun, measured side by side.
/// </summary>
public static class FootprintBench
{
    private const string B = "footprint";

    /// <summary>A program to measure: its project, arguments, the stdout line that says "started" and, optionally, "bundle ready".</summary>
    private sealed record Target(string Name, string Project, string Assembly, string[] Args, string Started, string? Ready);

    public static void Run(Report report, BenchOptions o)
    {
        var root = Repo.Root;
        var bare = new Target("bare Akka.Hosting reference (bench/BareHost)", "bench/BareHost/BareHost.csproj", "bare-host", [], "READY", null);
        var simHost = new Target("the actor tree in a minimal Akka.Hosting host (bench/SimHost)", "bench/SimHost/SimHost.csproj", "sim-host", [], "STARTED", null);
        var service = EqlActorsRunTarget(root, report) ?? simHost with { Ready = "READY" };
        var targets = new List<Target> { bare, service };
        if (service != simHost with { Ready = "READY" }) targets.Add(simHost);
        // Akka's scheduler wakes every tick (10 ms) while any timer is pending: the same tree with a 100 ms tick.
        targets.Add(simHost with { Name = "bench/SimHost with akka.scheduler.tick-duration = 100ms", Args = ["--tick-ms", "100"], Assembly = "sim-host --tick-ms 100" });
        var variants = new[] { "plain", "r2r" };
        var published = new Dictionary<(Target, string), string>();
        var byProject = new Dictionary<(string, string), string>();
        foreach (var t in targets)
            foreach (var v in variants)
            {
                if (!byProject.TryGetValue((t.Project, v), out var exe)) byProject[(t.Project, v)] = exe = Publish(root, t, v);
                published[(t, v)] = exe;
            }

        // Launch -> started/ready, round-robin so that load changes hit every program alike.
        var launches = o.Quick ? 3 : 10;
        var started = published.Keys.ToDictionary(k => k, _ => new List<double>());
        var ready = published.Keys.ToDictionary(k => k, _ => new List<double>());
        var exits = published.Keys.ToDictionary(k => k, _ => new List<double>());
        report.Note($"footprint launches: load before {Machine.Load()}");
        for (var i = 0; i < launches; i++)
        {
            foreach (var key in published.Keys)
            {
                using var run = Launched.Start(published[key], key.Item1);
                started[key].Add(run.WaitFor(key.Item1.Started));
                if (key.Item1.Ready is { } r) ready[key].Add(run.WaitFor(r));
                exits[key].Add(run.Terminate());
            }
        }
        foreach (var key in published.Keys)
        {
            var (t, v) = key;
            report.Add(B, $"{t.Assembly} {v}: launch -> started, median", Stats.Median(started[key]), "ms", $"n={launches}; \"{t.Started}\" on stdout; {t.Name}");
            if (ready[key].Count > 0) report.Add(B, $"{t.Assembly} {v}: launch -> bundle ready, median", Stats.Median(ready[key]), "ms", "includes the simulated 1.5-2.8 s link-up");
            report.Add(B, $"{t.Assembly} {v}: SIGTERM -> exit, median", Stats.Median(exits[key]), "ms", "");
        }
        foreach (var v in variants)
            report.Add(B, $"started: {service.Assembly} / {bare.Assembly} ({v}, medians)", Stats.Median(started[(service, v)]) / Stats.Median(started[(bare, v)]), "x", "side by side; goal: under 300 ms, as the reference");

        // Idle: all four side by side for the same window.
        var idle = o.IdleSeconds ?? (o.Quick ? 15 : 60);
        report.Note($"footprint idle window {idle} s: load before {Machine.Load()}");
        var runs = published.Keys.Select(k => (Key: k, Run: Launched.Start(published[k], k.Item1))).ToList();
        try
        {
            foreach (var (k, run) in runs) run.WaitFor(k.Item1.Ready ?? k.Item1.Started);
            Thread.Sleep(TimeSpan.FromSeconds(5)); // settle: JIT of the first timers, first reconcile passes
            var before = runs.Select(r => Proc.CpuTicks(r.Run.Pid)).ToList();
            var sw = Stopwatch.StartNew();
            Thread.Sleep(TimeSpan.FromSeconds(idle));
            var seconds = sw.Elapsed.TotalSeconds;
            for (var i = 0; i < runs.Count; i++)
            {
                var (key, run) = runs[i];
                var cpu = (Proc.CpuTicks(run.Pid) - before[i]) / 100.0 / seconds * 100;
                var (rss, hwm) = Proc.Rss(run.Pid);
                report.Add(B, $"{key.Item1.Assembly} {key.Item2}: idle CPU over {idle} s", cpu, "% core", "utime+stime from /proc/PID/stat; goal under 1%");
                report.Add(B, $"{key.Item1.Assembly} {key.Item2}: RSS after {idle} s idle", rss / 1024.0, "MiB", $"VmRSS; peak VmHWM {hwm / 1024.0:0.0} MiB; goal at most 86");
            }
            report.Note($"footprint idle window: load after {Machine.Load()}");
        }
        finally
        {
            foreach (var (_, run) in runs) run.Dispose();
        }
    }

    /// <summary>`eqlactors run --simulated`, when that verb exists in this tree; null until it lands.</summary>
    private static Target? EqlActorsRunTarget(string root, Report report)
    {
        var cli = Path.Combine(root, "Host", "Cli");
        var run = Directory.Exists(cli) ? Directory.EnumerateFiles(cli, "RunCommand.cs").FirstOrDefault() : null;
        if (run is null || !File.ReadAllText(run).Contains("--simulated", StringComparison.Ordinal))
        {
            report.Note("`eqlactors run --simulated` is not in this tree: measuring the actor tree in bench/SimHost instead");
            return null;
        }
        // "started": the last hosted service (the control socket) is up, as the bare reference's READY follows StartAsync.
        return new Target("eqlactors run --simulated (3 links)", "Host/EqlActors.Host.csproj", "eqlactors",
            ["run", "--simulated", "--set", "control.socketPath={cwd}/control.sock"], "serving", "ready: every link enslaved");
    }

    private static string Publish(string root, Target t, string variant)
    {
        var output = Path.Combine(root, "artifacts", "bench", "publish", $"{Path.GetFileNameWithoutExtension(t.Project)}-{variant}");
        var args = new List<string> { "publish", Path.Combine(root, t.Project), "-c", "Release", "-o", output, "--nologo", "-v", "q" };
        if (variant == "r2r") args.AddRange(["-r", "linux-x64", "--self-contained", "false", "-p:PublishReadyToRun=true"]);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var outText = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"dotnet publish {t.Project} ({variant}) failed: {outText.Result}{err}");
        return Path.Combine(output, t.Assembly.Split(' ')[0]);
    }

    /// <summary>One launched program: started from a small empty folder (the generic host watches its content root).</summary>
    private sealed class Launched : IDisposable
    {
        private readonly Process _process;
        private readonly long _t0;
        private readonly string _cwd;
        private readonly List<(long At, string Line)> _lines = [];

        private Launched(Process process, long t0, string cwd)
        {
            _process = process;
            _t0 = t0;
            _cwd = cwd;
        }

        public int Pid => _process.Id;

        public static Launched Start(string exe, Target t)
        {
            var cwd = Directory.CreateTempSubdirectory("eqlbench-run-").FullName;
            var psi = new ProcessStartInfo(exe) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var a in t.Args) psi.ArgumentList.Add(a.Replace("{cwd}", cwd, StringComparison.Ordinal));
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            var process = new Process { StartInfo = psi };
            var t0 = Stopwatch.GetTimestamp();
            process.Start();
            var launched = new Launched(process, t0, cwd);
            process.OutputDataReceived += (_, e) => launched.Line(e.Data);
            process.ErrorDataReceived += (_, e) => launched.Line(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return launched;
        }

        private void Line(string? line)
        {
            if (line is null) return;
            var at = Stopwatch.GetTimestamp();
            lock (_lines)
            {
                _lines.Add((at, line));
                Monitor.PulseAll(_lines);
            }
        }

        /// <summary>Milliseconds from launch to the first stdout/stderr line containing <paramref name="marker"/>.</summary>
        public double WaitFor(string marker)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            lock (_lines)
            {
                while (true)
                {
                    foreach (var (at, line) in _lines)
                        if (line.Contains(marker, StringComparison.OrdinalIgnoreCase)) return EventLog.Ms(_t0, at);
                    if (_process.HasExited || DateTime.UtcNow > deadline)
                        throw new InvalidOperationException($"{_process.StartInfo.FileName} never said \"{marker}\"; last lines: {string.Join(" | ", _lines.TakeLast(5).Select(l => l.Line))}");
                    Monitor.Wait(_lines, TimeSpan.FromMilliseconds(200));
                }
            }
        }

        /// <summary>SIGTERM; milliseconds until the process exited.</summary>
        public double Terminate()
        {
            if (_process.HasExited) return 0;
            var t = Stopwatch.GetTimestamp();
            Proc.Kill(_process.Id, 15);
            if (!_process.WaitForExit(15000)) _process.Kill(true);
            return EventLog.Ms(t, Stopwatch.GetTimestamp());
        }

        public void Dispose()
        {
            try { Terminate(); } catch (InvalidOperationException) { }
            _process.Dispose();
            try { Directory.Delete(_cwd, true); } catch (IOException) { }
        }
    }
}

public static class Proc
{
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    public static void Kill(int pid, int sig) => SysKill(pid, sig);

    /// <summary>utime + stime in clock ticks (100 a second on Linux), fields 14 and 15 of /proc/PID/stat.</summary>
    public static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>VmRSS and VmHWM in KiB from /proc/PID/status.</summary>
    public static (long Rss, long Hwm) Rss(int pid)
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
        }
        return (rss, hwm);
        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}

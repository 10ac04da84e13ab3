using System.Diagnostics;

namespace EqlActors.Tests.Fixtures;

/// <summary>Waits for a condition with a deadline: tests synchronise on conditions, never on fixed sleeps.</summary>
public static class Wait
{
    public static async Task<TimeSpan> UntilAsync(Func<bool> condition, TimeSpan timeout, string what, int pollMs = 5)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.##} s waiting for {what}");
            await Task.Delay(pollMs);
        }
        return sw.Elapsed;
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TempDir : IDisposable
{
    public string Path { get; }
    private readonly string _claim;

    public TempDir(string prefix = "eqla-test-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
        _claim = Janitor.Claim(Janitor.Kind.Dir, Path);
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string WriteScript(string name, string body)
    {
        var p = File(name);
        System.IO.File.WriteAllText(p, body);
        System.IO.File.SetUnixFileMode(p, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Janitor.Release(_claim);
    }
}

/// <summary>Runs a command from an argv list and returns its exit code and output.</summary>
public static class Run
{
    public static (int Code, string Stdout, string Stderr) Argv(IEnumerable<string> argv, IDictionary<string, string>? env = null, string? stdin = null)
    {
        var list = argv.ToList();
        var psi = new ProcessStartInfo(list[0])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (var a in list.Skip(1)) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, errTask.Result);
    }

    /// <summary>Like <see cref="Argv"/> but fails the test on a non-zero exit.</summary>
    public static string Checked(params string[] argv)
    {
        var (code, o, e) = Argv(argv);
        if (code != 0) throw new InvalidOperationException($"{string.Join(' ', argv)} exited {code}: {e}{o}");
        return o;
    }
}

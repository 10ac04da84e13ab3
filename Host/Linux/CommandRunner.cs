using System.Diagnostics;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>Runs a program from an argv list (never a shell command line) and collects its output.</summary>
public static class CommandRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Message => (Stderr.Trim().Length > 0 ? Stderr : Stdout).Trim();
    }

    public static async Task<Result> RunAsync(IReadOnlyList<string> argv, CancellationToken ct = default, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new PortException($"{argv[0]} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PortException($"cannot run {argv[0]}: {e.Message}", FailureKind.Permanent, e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
                try
                {
                    await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    ct.ThrowIfCancellationRequested();
                    throw new PortException($"{string.Join(' ', argv)} timed out");
                }
                return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
            }
            finally
            {
                // Process.Dispose leaves the redirected streams open once they were handed out (StandardOutput), so
                // their pipes would wait for the finalizer: a daemon running `ip` every few seconds holds a varying
                // number of dead pipes. Closed here, after the reads ended (or failed), so none is left to the GC.
                // (bounded: after a timeout a child that left the process tree may still hold a pipe's other end)
                var reads = Task.WhenAll(stdout, stderr);
                if (!reads.IsCompleted)
                {
                    await Task.WhenAny(reads, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
                    _ = reads.ContinueWith(static t => t.Exception, CancellationToken.None,
                        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                process.StandardOutput.Dispose();
                process.StandardError.Dispose();
            }
        }
    }

    /// <summary>Runs and throws a <see cref="PortException"/> carrying the tool's own message on a non-zero exit.</summary>
    public static async Task<Result> RunCheckedAsync(IReadOnlyList<string> argv, CancellationToken ct = default, FailureKind kind = FailureKind.Transient)
    {
        var r = await RunAsync(argv, ct).ConfigureAwait(false);
        if (r.ExitCode != 0) throw new PortException($"{string.Join(' ', argv)} failed ({r.ExitCode}): {r.Message}", kind);
        return r;
    }
}

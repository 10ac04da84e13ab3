using System.Globalization;
using System.Runtime.InteropServices;
using EqlActors.Host.Linux;

namespace EqlActors.Host.Doctor;

/// <summary>Owner, permission bits and kind of a file, as <c>stat(1)</c> reports them (symlinks followed).</summary>
public sealed record FileFacts(int Uid, UnixFileMode Mode, bool IsRegular, bool IsCharDevice, int Major, int Minor);

/// <summary>
/// host_A as the doctor sees it. Kernel state is read under <see cref="SystemPath"/> so that tests can point
/// <c>/proc</c>, <c>/sys</c>, <c>/dev</c>, <c>/lib/modules</c> and <c>/boot</c> at a fixture tree; paths that
/// come from the configuration (pppd, ssh, keys) are used as configured.
/// </summary>
public interface ILocalSystem
{
    int EffectiveUid { get; }

    /// <summary><c>uname -r</c> of the running kernel.</summary>
    string KernelRelease { get; }

    /// <summary>Where the absolute system path <paramref name="path"/> is read from.</summary>
    string SystemPath(string path);

    /// <summary>Runs a program from an argv list; null when it cannot be started at all.</summary>
    Task<CommandRunner.Result?> RunAsync(IReadOnlyList<string> argv, CancellationToken ct);

    /// <summary>Facts about a file; null when it does not exist.</summary>
    Task<FileFacts?> StatAsync(string path, CancellationToken ct);
}

/// <summary>The real machine, optionally with system files read under another root (tests).</summary>
public sealed class LinuxLocalSystem(string root = "/", int? euid = null, string? kernelRelease = null) : ILocalSystem
{
    [DllImport("libc")] private static extern uint geteuid();

    public int EffectiveUid { get; } = euid ?? (int)geteuid();

    public string KernelRelease { get; } = kernelRelease ?? ReadRelease();

    public string SystemPath(string path) => root == "/" ? path : Path.Combine(root, path.TrimStart('/'));

    public async Task<CommandRunner.Result?> RunAsync(IReadOnlyList<string> argv, CancellationToken ct)
    {
        try
        {
            return await CommandRunner.RunAsync(argv, ct, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        catch (Ports.PortException)
        {
            return null;
        }
    }

    public async Task<FileFacts?> StatAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) return null;
        // %u owner, %a octal mode, %t/%T device major/minor (hex), %F kind (last: it contains spaces).
        var r = await RunAsync(["stat", "-L", "-c", "%u %a %t %T %F", "--", path], ct).ConfigureAwait(false);
        if (r is null || r.ExitCode != 0) return null;
        var f = r.Stdout.Trim().Split(' ', 5);
        if (f.Length < 5) return null;
        var mode = (UnixFileMode)Convert.ToInt32(f[1], 8);
        return new FileFacts(int.Parse(f[0], CultureInfo.InvariantCulture), mode, f[4] == "regular file" || f[4] == "regular empty file",
            f[4] == "character special file", Convert.ToInt32(f[2], 16), Convert.ToInt32(f[3], 16));
    }

    private static string ReadRelease()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return Environment.OSVersion.Version.ToString(); }
    }
}

using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// <see cref="ISysctlOriginals"/> as one small file per key in the daemon's runtime directory (root-only, beside the
/// control socket): <c>sysctl-before.net.ipv4.tcp_reordering</c>, mode 0600, written to a temporary file and renamed
/// over, so a kill mid-write leaves no half value. The runtime directory is a tmpfs (<c>/run</c>): a reboot, which
/// resets the sysctl, drops the file with it.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SysctlOriginalsFile(string directory) : ISysctlOriginals
{
    public const string Prefix = "sysctl-before.";

    // A sysctl value is a number or a few; anything longer or with control characters is not one we wrote.
    private const int MaxLength = 256;

    /// <summary>The store of the daemon whose control socket is <paramref name="socketPath"/>: its directory.</summary>
    public static SysctlOriginalsFile ForSocket(string socketPath) =>
        new(Path.GetDirectoryName(Path.GetFullPath(socketPath)) ?? "/");

    /// <summary>The file that keeps <paramref name="key"/> (validated as a sysctl key: no path can come out of it).</summary>
    public string PathOf(string key)
    {
        _ = LinuxSysctl.PathOf("/proc/sys", key);
        return Path.Combine(directory, Prefix + key);
    }

    public Task<string?> ReadAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        try
        {
            var text = File.ReadAllText(path).TrimEnd('\n');
            return Task.FromResult(text.Length is > 0 and <= MaxLength && !text.Any(char.IsControl) ? text : null);
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<string?>(null);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult<string?>(null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PortException($"cannot read the kept value of {key} ({path}): {e.Message}", FailureKind.Transient, e);
        }
    }

    public Task KeepAsync(string key, string value, CancellationToken ct = default)
    {
        var path = PathOf(key);
        if (File.Exists(path)) return Task.CompletedTask;
        var temporary = path + ".new";
        try
        {
            File.Delete(temporary);
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var writer = new StreamWriter(temporary, options)) writer.Write(value + "\n");
            File.Move(temporary, path, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            // Kept meanwhile by somebody else (never two daemons: the control socket): that one is the first.
            if (File.Exists(path)) return Task.CompletedTask;
            throw new PortException($"cannot keep the value of {key} before changing it ({path}): {e.Message}", FailureKind.Transient, e);
        }
        return Task.CompletedTask;
    }

    public Task ForgetAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PortException($"cannot remove the kept value of {key} ({path}): {e.Message}", FailureKind.Transient, e);
        }
        return Task.CompletedTask;
    }
}

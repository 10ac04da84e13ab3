using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// <c>/proc/sys</c>, keys named with dots. With a <c>netns</c> name the files are opened from a thread inside
/// that namespace, where <c>/proc/sys/net</c> shows the namespace's own values.
/// </summary>
public sealed class LinuxSysctl(string? netns = null, string root = "/proc/sys") : ISysctl
{
    public static string PathOf(string root, string key)
    {
        if (key.Length == 0 || key.Contains('/') || key.Split('.').Any(p => p.Length == 0 || p == ".."))
            throw new PortException($"'{key}' is not a sysctl key", FailureKind.Permanent);
        return Path.Combine(root, key.Replace('.', '/'));
    }

    public Task<string?> ReadAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(root, key);
        return Task.FromResult(Netns.Run<string?>(netns, () =>
        {
            try { return File.ReadAllText(path).TrimEnd('\n'); }
            catch (FileNotFoundException) { return null; }
            catch (DirectoryNotFoundException) { return null; }
        }));
    }

    public Task WriteAsync(string key, string value, CancellationToken ct = default)
    {
        var path = PathOf(root, key);
        Netns.Run(netns, () =>
        {
            try
            {
                File.WriteAllText(path, value + "\n");
                return 0;
            }
            catch (UnauthorizedAccessException e) { throw new PortException($"cannot set {key}: permission denied (run as root)", FailureKind.Permanent, e); }
            catch (FileNotFoundException e) { throw new PortException($"cannot set {key}: no such sysctl", FailureKind.Permanent, e); }
            catch (DirectoryNotFoundException e) { throw new PortException($"cannot set {key}: no such sysctl", FailureKind.Permanent, e); }
            catch (IOException e) { throw new PortException($"cannot set {key} to {value}: {e.Message}", FailureKind.Permanent, e); }
        });
        return Task.CompletedTask;
    }
}

using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// Runs work inside a named network namespace (<c>/run/netns/NAME</c>, as <c>ip netns add</c> makes them).
/// setns(2) switches only the calling thread, so the work runs on a fresh thread that enters the namespace
/// and then ends: no pool thread is ever left in a foreign namespace. A socket created there stays bound to
/// that namespace for its whole life, whichever thread uses it later; /proc/sys/net opened there shows that
/// namespace's values.
/// </summary>
public static class Netns
{
    public const string Directory = "/run/netns";

    /// <summary>Runs <paramref name="work"/> in namespace <paramref name="name"/>, or directly when it is null.</summary>
    public static T Run<T>(string? name, Func<T> work)
    {
        if (name is null) return work();
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(name);
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true, Name = $"netns-{name}" };
        thread.Start();
        thread.Join();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        return result;
    }

    private static void Enter(string name)
    {
        if (name.Contains('/') || name is "." or "..") throw new PortException($"bad network namespace name '{name}'", FailureKind.Permanent);
        var path = Path.Combine(Directory, name);
        var fd = Native.open(path, Native.O_RDONLY | Native.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Native.Errno;
            throw new PortException($"cannot open network namespace {path}: {Native.StrError(errno)}", FailureKind.Permanent);
        }
        try
        {
            if (Native.setns(fd, Native.CLONE_NEWNET) != 0)
            {
                var errno = Native.Errno;
                throw new PortException($"cannot enter network namespace {name}: {Native.StrError(errno)} ({Native.ErrnoName(errno)})", FailureKind.Permanent);
            }
        }
        finally
        {
            Native.close(fd);
        }
    }
}

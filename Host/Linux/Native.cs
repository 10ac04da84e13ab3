using System.Runtime.InteropServices;

namespace EqlActors.Host.Linux;

/// <summary>The few libc calls the Linux adapters need. Classic DllImport: the Host project does not allow unsafe code.</summary>
internal static class Native
{
    public const int AF_INET = 2;
    public const int AF_NETLINK = 16;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_ROUTE = 0;
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    public const int CLONE_NEWNET = 0x40000000;
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;
    public const int WNOHANG = 1;
    public const int PR_SET_CHILD_SUBREAPER = 36;
    public const int PR_SET_THP_DISABLE = 41;
    public const short POLLIN = 1;
    public const long SYS_pidfd_open = 434;

    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EBUSY = 16,
        EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOSPC = 28, ERANGE = 34, ENOSYS = 38, EOPNOTSUPP = 95, EADDRNOTAVAIL = 99;

    [DllImport("libc", SetLastError = true)] public static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] public static extern int ioctl(int fd, nuint request, IntPtr arg);
    [DllImport("libc", SetLastError = true)] public static extern int bind(int fd, byte[] addr, int addrlen);
    [DllImport("libc", SetLastError = true)] public static extern nint send(int fd, byte[] buf, nuint len, int flags);
    [DllImport("libc", SetLastError = true)] public static extern nint recv(int fd, byte[] buf, nuint len, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int poll([In, Out] PollFd[] fds, nuint nfds, int timeout);
    [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int setns(int fd, int nstype);
    [DllImport("libc", SetLastError = true)] public static extern int kill(int pid, int sig);
    [DllImport("libc", SetLastError = true)] public static extern int getpgid(int pid);
    [DllImport("libc", SetLastError = true)] public static extern int waitpid(int pid, out int status, int options);
    [DllImport("libc", SetLastError = true)] public static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
    [DllImport("libc", SetLastError = true)] public static extern long syscall(long number, long arg1, long arg2);
    [DllImport("libc")] public static extern int getpid();
    [DllImport("libc", EntryPoint = "strerror")] private static extern IntPtr strerror_(int errnum);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int Errno => Marshal.GetLastPInvokeError();

    public static string StrError(int errno) => Marshal.PtrToStringAnsi(strerror_(errno)) ?? $"errno {errno}";

    public static string ErrnoName(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM",
        EACCES => "EACCES", EBUSY => "EBUSY", EEXIST => "EEXIST", ENODEV => "ENODEV", EINVAL => "EINVAL", ENOSPC => "ENOSPC",
        ERANGE => "ERANGE", ENOSYS => "ENOSYS", EOPNOTSUPP => "EOPNOTSUPP", EADDRNOTAVAIL => "EADDRNOTAVAIL", _ => $"errno {errno}",
    };
}

using System.Globalization;

namespace EqlActors.Host.Doctor.Checks;

/// <summary>pppd, the EQL ioctls, routes and sysctl all need root (CAP_NET_ADMIN).</summary>
public sealed class RootCheck : IDoctorCheck
{
    public Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "root", title = "running as root";
        var uid = c.Local.EffectiveUid;
        IReadOnlyList<CheckResult> r = [uid == 0
            ? CheckResult.Ok(id, title, "effective uid 0")
            : CheckResult.Fail(id, title, $"effective uid {uid}: pppd, the EQL ioctls, routes and sysctl need root",
                "run as root (sudo eqlactors doctor); the service itself runs as root under systemd")];
        return Task.FromResult(r);
    }
}

/// <summary>A module the bundle needs on host_A, found loaded, built in or loadable for the running kernel.</summary>
public abstract class KernelModuleCheck(string id, string title, string[] modules, string fix) : IDoctorCheck
{
    /// <summary>The one remedy for every missing kernel piece (Debian's linux-image-amd64 has all of them as modules).</summary>
    public const string KernelFix = "install a kernel with CONFIG_PPP/CONFIG_PPP_ASYNC/CONFIG_EQUALIZER (Debian's linux-image-amd64 builds them as modules) or load the modules";

    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        var found = new List<ModuleFinding>();
        foreach (var m in modules) found.Add(await KernelModules.FindAsync(c.Local, m, ct).ConfigureAwait(false));
        var detail = $"kernel {c.Local.KernelRelease}: " + string.Join("; ", found.Select(f => $"{f.Module}: {f.Evidence}"));
        return [found.Any(f => f.State == ModuleState.Missing) ? CheckResult.Fail(id, title, detail, fix) : CheckResult.Ok(id, title, detail)];
    }
}

public sealed class PppKernelCheck() : KernelModuleCheck("kernel.ppp", "PPP support in the kernel (ppp_generic, ppp_async)",
    ["ppp_generic", "ppp_async"],
    KernelModuleCheck.KernelFix + ": modprobe ppp_generic ppp_async");

public sealed class EqlKernelCheck() : KernelModuleCheck("kernel.eql", "EQL support in the kernel (eql)",
    ["eql"],
    KernelModuleCheck.KernelFix + ": modprobe eql");

/// <summary>pppd opens <c>/dev/ppp</c> (character device 108:0), which appears when ppp_generic loads.</summary>
public sealed class DevPppCheck : IDoctorCheck
{
    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "dev.ppp", title = "/dev/ppp";
        var path = c.Local.SystemPath("/dev/ppp");
        var facts = await c.Local.StatAsync(path, ct).ConfigureAwait(false);
        if (facts is { IsCharDevice: true, Major: 108, Minor: 0 }) return [CheckResult.Ok(id, title, "character device 108:0")];
        if (facts is not null)
            return [CheckResult.Fail(id, title, $"{path} exists but is not the PPP character device 108:0",
                "rm /dev/ppp && mknod /dev/ppp c 108 0 (or let udev create it when ppp_generic loads)")];
        var generic = await KernelModules.FindAsync(c.Local, "ppp_generic", ct).ConfigureAwait(false);
        return generic.State switch
        {
            ModuleState.Missing => [CheckResult.Fail(id, title, "missing: this kernel has no PPP support (ppp_generic not found)",
                KernelModuleCheck.KernelFix + " (modprobe ppp_generic creates /dev/ppp)")],
            ModuleState.Loadable => [CheckResult.Warn(id, title, "missing until ppp_generic loads (it is loadable)",
                "modprobe ppp_generic (creates /dev/ppp); pppd usually triggers the load itself")],
            _ => [CheckResult.Fail(id, title, "missing although ppp_generic is present", "mknod /dev/ppp c 108 0")],
        };
    }
}

/// <summary>A configured local program: present, a regular file, executable.</summary>
public abstract class ProgramCheck(string id, string title, string key, string package) : IDoctorCheck
{
    protected abstract string PathOf(DoctorContext c);
    protected virtual IReadOnlyList<string>? VersionArgv(string path) => null;

    public async Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        var path = PathOf(c);
        var facts = await c.Local.StatAsync(path, ct).ConfigureAwait(false);
        var fix = $"apt-get install {package}, or point {key} at it";
        if (facts is null) return [CheckResult.Fail(id, title, $"{path} does not exist ({key})", fix)];
        const UnixFileMode anyExec = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if (!facts.IsRegular || (facts.Mode & anyExec) == 0)
            return [CheckResult.Fail(id, title, $"{path} is not an executable file", $"chmod 755 {path}, or {fix}")];
        var detail = path;
        if (VersionArgv(path) is { } argv && await c.Local.RunAsync(argv, ct).ConfigureAwait(false) is { } r)
        {
            var version = r.Message.Split('\n').FirstOrDefault()?.Trim();
            if (!string.IsNullOrEmpty(version)) detail += $" ({version})";
        }
        return [CheckResult.Ok(id, title, detail)];
    }
}

public sealed class PppdCheck() : ProgramCheck("pppd", "pppd", "ppp.pppdPath", "ppp")
{
    protected override string PathOf(DoctorContext c) => c.Config.Ppp.PppdPath;
}

public sealed class SshClientCheck() : ProgramCheck("ssh.client", "ssh client", "remote.sshPath", "openssh-client")
{
    protected override string PathOf(DoctorContext c) => c.Config.Remote.SshPath;
    protected override IReadOnlyList<string> VersionArgv(string path) => [path, "-V"];
}

/// <summary>The HOWTO raises net.ipv4.tcp_reordering to 127 because EQL reorders packets; the service sets it at start.</summary>
public sealed class TcpReorderingCheck : IDoctorCheck
{
    public Task<IReadOnlyList<CheckResult>> RunAsync(DoctorContext c, CancellationToken ct)
    {
        const string id = "sysctl.tcp_reordering", title = "net.ipv4.tcp_reordering";
        var path = c.Local.SystemPath("/proc/sys/net/ipv4/tcp_reordering");
        int? current = null;
        try
        {
            if (int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)) current = v;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        var want = c.Config.Routes.TcpReordering;
        IReadOnlyList<CheckResult> r = [(current, want) switch
        {
            (null, _) => CheckResult.Warn(id, title, $"cannot read {path}", "check that /proc is mounted; the service sets the value at start"),
            (_, null) => CheckResult.Ok(id, title, $"{current} (routes.tcpReordering unset: the service leaves it alone)"),
            var (cur, w) when cur == w => CheckResult.Ok(id, title, $"{cur}"),
            var (cur, w) => CheckResult.Warn(id, title,
                $"{cur} now; the service sets {w} when the bundle starts (EQL reorders packets, the HOWTO's remedy)",
                $"nothing to do before a start; to keep it across reboots: echo 'net.ipv4.tcp_reordering = {w}' > /etc/sysctl.d/60-eqlactors.conf"),
        }];
        return Task.FromResult(r);
    }
}

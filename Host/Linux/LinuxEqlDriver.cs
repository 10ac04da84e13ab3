using System.Runtime.InteropServices;
using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// The EQL driver through its own ioctls on an AF_INET datagram socket (what Debian's eql_enslave does),
/// plus the interface ioctls for address, netmask, MTU and flags. With a <c>netns</c> name, the socket is
/// created inside that network namespace (for tests; the real eql module only makes its device in the
/// initial namespace, so <c>modprobe</c>/<c>rmmod</c> are skipped there).
/// </summary>
public sealed class LinuxEqlDriver : IEqlDriver, IDisposable
{
    private readonly string? _netns;
    private readonly object _gate = new();
    private int _fd = -1;

    public LinuxEqlDriver(string? netns = null)
    {
        _netns = netns;
    }

    private int Fd
    {
        get
        {
            lock (_gate)
            {
                if (_fd >= 0) return _fd;
                var fd = Netns.Run(_netns, () =>
                {
                    var s = Native.socket(Native.AF_INET, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC, 0);
                    return s >= 0 ? s : -Native.Errno;
                });
                if (fd < 0) throw new PortException($"cannot open a socket for the EQL ioctls: {Native.StrError(-fd)}");
                return _fd = fd;
            }
        }
    }

    /// <summary>Calls an interface ioctl with <paramref name="ifreq"/> (updated in place); returns 0 or errno.</summary>
    internal int Ioctl(uint request, byte[] ifreq)
    {
        var h = GCHandle.Alloc(ifreq, GCHandleType.Pinned);
        try
        {
            return Native.ioctl(Fd, request, h.AddrOfPinnedObject()) == 0 ? 0 : Native.Errno;
        }
        finally { h.Free(); }
    }

    /// <summary>Calls an EQL ioctl: <c>ifr_name</c> = master, <c>ifr_data</c> points at <paramref name="data"/> (updated in place).</summary>
    internal int IoctlData(string device, uint request, byte[] data)
    {
        var h = GCHandle.Alloc(data, GCHandleType.Pinned);
        try
        {
            var ifreq = EqlStructs.IfReq(device);
            EqlStructs.SetData(ifreq, h.AddrOfPinnedObject());
            return Ioctl(request, ifreq);
        }
        finally { h.Free(); }
    }

    public async Task EnsureMasterAsync(EqlMasterSpec spec, CancellationToken ct = default)
    {
        var dev = spec.Device;
        if (!Exists(dev))
        {
            if (_netns is not null)
                throw new PortException($"EQL master {dev} does not exist in network namespace {_netns} (ENODEV)");
            var r = await CommandRunner.RunAsync(["modprobe", "eql"], ct).ConfigureAwait(false);
            if (!Exists(dev))
                throw new PortException(r.ExitCode != 0
                    ? $"EQL master {dev} does not exist and 'modprobe eql' failed: {r.Message} (is the kernel built with CONFIG_EQUALIZER?)"
                    : $"EQL master {dev} does not exist after 'modprobe eql' (the module only creates a device named eql)",
                    FailureKind.Permanent);
        }
        // Only what differs is set: re-setting the same address would delete and re-add it, and the kernel
        // would flush the routes through eql with it. Address before netmask: setting the address resets the
        // netmask to the classful default.
        if (!Equals(ReadAddress(dev, EqlStructs.SIOCGIFADDR), spec.Address))
        {
            var req = EqlStructs.IfReq(dev);
            EqlStructs.SetAddress(req, spec.Address);
            Check(Ioctl(EqlStructs.SIOCSIFADDR, req), $"set address {spec.Address} on {dev}", dev);
        }
        if (!Equals(ReadAddress(dev, EqlStructs.SIOCGIFNETMASK), spec.Netmask))
        {
            var req = EqlStructs.IfReq(dev);
            EqlStructs.SetAddress(req, spec.Netmask);
            Check(Ioctl(EqlStructs.SIOCSIFNETMASK, req), $"set netmask {spec.Netmask} on {dev}", dev);
        }
        if (Mtu(dev) != spec.Mtu)
        {
            var req = EqlStructs.IfReq(dev);
            EqlStructs.SetInt(req, spec.Mtu);
            Check(Ioctl(EqlStructs.SIOCSIFMTU, req), $"set MTU {spec.Mtu} on {dev}", dev);
        }
        SetUp(dev, true);
    }

    public Task<EqlMasterState> GetMasterAsync(string device, CancellationToken ct = default)
    {
        var req = EqlStructs.IfReq(device);
        var e = Ioctl(EqlStructs.SIOCGIFFLAGS, req);
        if (e == Native.ENODEV) return Task.FromResult(new EqlMasterState(device, false, false, null, 0, 0, 0));
        Check(e, $"read the flags of {device}", device);
        var isUp = (EqlStructs.GetFlags(req) & EqlStructs.IFF_UP) != 0;

        req = EqlStructs.IfReq(device);
        e = Ioctl(EqlStructs.SIOCGIFADDR, req);
        var address = e == 0 ? EqlStructs.GetAddress(req) : null;
        if (e is not 0 and not Native.EADDRNOTAVAIL) Check(e, $"read the address of {device}", device);

        var mtu = Mtu(device);
        var cfg = EqlStructs.MasterConfig(device, 0, 0);
        Check(IoctlData(device, EqlStructs.EQL_GETMASTRCFG, cfg), $"read the EQL configuration of {device}", device);
        var (_, max, min) = EqlStructs.ReadMasterConfig(cfg);
        return Task.FromResult(new EqlMasterState(device, true, isUp, address, mtu, max, min));
    }

    public async Task RemoveMasterAsync(string device, CancellationToken ct = default)
    {
        if (Exists(device)) SetUp(device, false);
        if (_netns is not null || device != "eql") return;
        var r = await CommandRunner.RunAsync(["rmmod", "eql"], ct).ConfigureAwait(false);
        if (r.ExitCode != 0 && Exists(device))
            throw new PortException($"'rmmod eql' failed: {r.Message}");
    }

    public Task EnslaveAsync(string device, string slave, long priority, CancellationToken ct = default)
    {
        var masterMtu = MtuOrMissing(device, "EQL master");
        var slaveMtu = MtuOrMissing(slave, "slave");
        if (masterMtu != slaveMtu)
            throw new PortException($"cannot enslave {slave} to {device}: MTU mismatch (master {masterMtu}, slave {slaveMtu}); " +
                "the driver would accept it and drop oversized packets", FailureKind.Permanent);
        var e = IoctlData(device, EqlStructs.EQL_ENSLAVE, EqlStructs.SlaveConfig(slave, priority));
        if (e == Native.EINVAL)
        {
            var why = !IsUp(device) ? $"master {device} is down"
                : !IsUp(slave) ? $"slave {slave} is down"
                : IsSlave(slave) ? $"{slave} is already enslaved"
                : $"{slave} is itself an EQL master or already a slave";
            throw new PortException($"cannot enslave {slave} to {device}: {why} (EINVAL)");
        }
        Check(e, $"enslave {slave} to {device}", device, slave);
        return Task.CompletedTask;
    }

    public Task EmancipateAsync(string device, string slave, CancellationToken ct = default)
    {
        var e = IoctlData(device, EqlStructs.EQL_EMANCIPATE, EqlStructs.SlaveConfig(slave, 0));
        if (e == Native.EINVAL) throw new PortException($"cannot release {slave} from {device}: it is not enslaved to it (EINVAL)");
        Check(e, $"release {slave} from {device}", device, slave);
        return Task.CompletedTask;
    }

    public Task<EqlSlaveState?> GetSlaveAsync(string device, string slave, CancellationToken ct = default)
    {
        var cfg = EqlStructs.SlaveConfig(slave, 0);
        var e = IoctlData(device, EqlStructs.EQL_GETSLAVECFG, cfg);
        if (e == Native.EINVAL || (e == Native.ENODEV && Exists(device))) return Task.FromResult<EqlSlaveState?>(null);
        Check(e, $"read the EQL configuration of slave {slave}", device, slave);
        var (name, prio) = EqlStructs.ReadSlaveConfig(cfg);
        return Task.FromResult<EqlSlaveState?>(new EqlSlaveState(name, prio));
    }

    public Task SetSlavePriorityAsync(string device, string slave, long priority, CancellationToken ct = default)
    {
        var e = IoctlData(device, EqlStructs.EQL_SETSLAVECFG, EqlStructs.SlaveConfig(slave, priority));
        if (e == Native.EINVAL) throw new PortException($"cannot set the priority of {slave}: it is not enslaved to {device} (EINVAL)");
        Check(e, $"set the priority of {slave} on {device}", device, slave);
        return Task.CompletedTask;
    }

    /// <summary>Maps an errno to an operator's message; 0 passes.</summary>
    internal static void Check(int errno, string what, string device, string? slave = null)
    {
        if (errno == 0) return;
        var (text, kind) = errno switch
        {
            Native.EPERM or Native.EACCES => ("permission denied: the EQL and interface ioctls need CAP_NET_ADMIN (run as root)", FailureKind.Permanent),
            Native.ENODEV => (slave is null ? $"no such device {device}" : $"no such device: {device} or {slave} does not exist", FailureKind.Transient),
            Native.ENOSPC => ($"{device} has no room for another slave (max_slaves reached)", FailureKind.Transient),
            Native.EOPNOTSUPP or 25 /* ENOTTY */ => ($"{device} is not an EQL master (the device does not know the EQL ioctls)", FailureKind.Permanent),
            Native.EINVAL => ("the kernel refused the request as invalid", FailureKind.Transient),
            Native.EBUSY => ($"{device} is busy", FailureKind.Transient),
            _ => (Native.StrError(errno), FailureKind.Transient),
        };
        throw new PortException($"cannot {what}: {text} ({Native.ErrnoName(errno)})", kind);
    }

    /// <summary>SIOCGIFADDR / SIOCGIFNETMASK; null when the device has no IPv4 address.</summary>
    private System.Net.IPAddress? ReadAddress(string dev, uint request)
    {
        var req = EqlStructs.IfReq(dev);
        var e = Ioctl(request, req);
        if (e == Native.EADDRNOTAVAIL) return null;
        Check(e, $"read the address of {dev}", dev);
        return EqlStructs.GetAddress(req);
    }

    private bool Exists(string dev) => Ioctl(EqlStructs.SIOCGIFINDEX, EqlStructs.IfReq(dev)) != Native.ENODEV;

    private short Flags(string dev)
    {
        var req = EqlStructs.IfReq(dev);
        Check(Ioctl(EqlStructs.SIOCGIFFLAGS, req), $"read the flags of {dev}", dev);
        return EqlStructs.GetFlags(req);
    }

    private bool IsUp(string dev) => (Flags(dev) & EqlStructs.IFF_UP) != 0;
    private bool IsSlave(string dev) => (Flags(dev) & EqlStructs.IFF_SLAVE) != 0;

    private void SetUp(string dev, bool up)
    {
        var flags = Flags(dev);
        var wanted = up ? (short)(flags | EqlStructs.IFF_UP) : (short)(flags & ~EqlStructs.IFF_UP);
        if (wanted == flags) return;
        var req = EqlStructs.IfReq(dev);
        EqlStructs.SetFlags(req, wanted);
        Check(Ioctl(EqlStructs.SIOCSIFFLAGS, req), $"bring {dev} {(up ? "up" : "down")}", dev);
    }

    private int Mtu(string dev)
    {
        var req = EqlStructs.IfReq(dev);
        Check(Ioctl(EqlStructs.SIOCGIFMTU, req), $"read the MTU of {dev}", dev);
        return EqlStructs.GetInt(req);
    }

    private int MtuOrMissing(string dev, string role)
    {
        var req = EqlStructs.IfReq(dev);
        var e = Ioctl(EqlStructs.SIOCGIFMTU, req);
        if (e == Native.ENODEV)
            throw new PortException(role == "EQL master"
                ? $"EQL master {dev} does not exist (ENODEV): is the eql module loaded?"
                : $"{role} {dev} does not exist (ENODEV)");
        Check(e, $"read the MTU of {dev}", dev);
        return EqlStructs.GetInt(req);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd >= 0) Native.close(_fd);
            _fd = -1;
        }
    }
}

using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>
/// Interfaces through rtnetlink: a subscription to RTMGRP_LINK reports every RTM_NEWLINK/RTM_DELLINK as it
/// happens (no polling), and <see cref="GetAsync"/> asks with RTM_GETLINK for flags (IFF_UP, IFF_SLAVE), MTU
/// and the 64-bit counters, the same numbers /sys/class/net/*/statistics shows. With a <c>netns</c> name the
/// sockets are opened inside that namespace.
/// </summary>
public sealed class LinuxNetworkLinks : INetworkLinks, IDisposable
{
    private readonly string? _netns;
    private readonly object _requestGate = new();
    private int _requestFd = -1;
    private uint _seq;

    public LinuxNetworkLinks(string? netns = null)
    {
        _netns = netns;
    }

    private int OpenSocket(uint groups) => Netns.Run(_netns, () =>
    {
        var fd = Native.socket(Native.AF_NETLINK, Native.SOCK_RAW | Native.SOCK_CLOEXEC, Native.NETLINK_ROUTE);
        if (fd < 0) throw new PortException($"cannot open an rtnetlink socket: {Native.StrError(Native.Errno)}");
        var addr = Rtnetlink.SockaddrNl(groups);
        if (Native.bind(fd, addr, addr.Length) != 0)
        {
            var errno = Native.Errno;
            Native.close(fd);
            throw new PortException($"cannot bind the rtnetlink socket: {Native.StrError(errno)}");
        }
        return fd;
    });

    public IDisposable Subscribe(Action<LinkChanged> onChange)
    {
        var fd = OpenSocket(Rtnetlink.RTMGRP_LINK);
        var sub = new Subscription(fd, onChange);
        sub.Start();
        return sub;
    }

    public Task<LinkState> GetAsync(string name, CancellationToken ct = default)
    {
        EqlStructs.WriteName(new byte[EqlStructs.IfNameSize], name); // validates the name
        lock (_requestGate)
        {
            if (_requestFd < 0) _requestFd = OpenSocket(0);
            var seq = ++_seq;
            var req = Rtnetlink.GetLinkRequest(name, seq);
            if (Native.send(_requestFd, req, (nuint)req.Length, 0) < 0)
                throw new PortException($"rtnetlink request for {name} failed: {Native.StrError(Native.Errno)}");
            var buf = new byte[65536];
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var fds = new[] { new Native.PollFd { Fd = _requestFd, Events = Native.POLLIN } };
                if (Native.poll(fds, 1, 5000) <= 0) throw new PortException($"rtnetlink did not answer about {name}");
                var n = (int)Native.recv(_requestFd, buf, (nuint)buf.Length, 0);
                if (n < 0) throw new PortException($"rtnetlink receive failed: {Native.StrError(Native.Errno)}");
                foreach (var m in Rtnetlink.Split(buf, n))
                {
                    if (m.Seq != seq) continue; // a late answer to an abandoned request
                    if (m.Type == Rtnetlink.NLMSG_ERROR)
                    {
                        var err = -Rtnetlink.Error(buf, m);
                        if (err == Native.ENODEV) return Task.FromResult(new LinkState(name, false, false, 0, false, 0, 0));
                        throw new PortException($"rtnetlink refused to describe {name}: {Native.StrError(err)} ({Native.ErrnoName(err)})");
                    }
                    if (m.Type == Rtnetlink.RTM_NEWLINK)
                    {
                        var l = Rtnetlink.ParseLink(buf, m);
                        return Task.FromResult(new LinkState(name, true, (l.Flags & Rtnetlink.IFF_UP) != 0, l.Mtu ?? 0,
                            (l.Flags & Rtnetlink.IFF_SLAVE) != 0, l.TxBytes ?? 0, l.RxBytes ?? 0) { TxPackets = l.TxPackets ?? 0, RxPackets = l.RxPackets ?? 0, Index = l.Index });
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_requestGate)
        {
            if (_requestFd >= 0) Native.close(_requestFd);
            _requestFd = -1;
        }
    }

    /// <summary>A reader thread blocked in poll(2) on the subscription socket; wakes at most every 200 ms to notice disposal.</summary>
    private sealed class Subscription(int fd, Action<LinkChanged> onChange) : IDisposable
    {
        private volatile bool _stopped;
        private Thread? _thread;

        public void Start()
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "rtnetlink-links" };
            _thread.Start();
        }

        private void Loop()
        {
            var buf = new byte[65536];
            var fds = new Native.PollFd[1];
            try
            {
                while (!_stopped)
                {
                    fds[0] = new Native.PollFd { Fd = fd, Events = Native.POLLIN };
                    if (Native.poll(fds, 1, 200) <= 0) continue;
                    var n = (int)Native.recv(fd, buf, (nuint)buf.Length, 0);
                    if (n <= 0) continue; // ENOBUFS after an overflow: events were lost; callers reconcile on their timer
                    foreach (var m in Rtnetlink.Split(buf, n))
                    {
                        if (m.Type is not (Rtnetlink.RTM_NEWLINK or Rtnetlink.RTM_DELLINK)) continue;
                        RtLink l;
                        try { l = Rtnetlink.ParseLink(buf, m); }
                        catch (ArgumentException) { continue; } // a malformed message: skip it, never kill the process

                        if (l.Name is null) continue;
                        try
                        {
                            onChange(new LinkChanged(l.Name, !l.Deleted, !l.Deleted && (l.Flags & Rtnetlink.IFF_UP) != 0) { Index = l.Index });
                        }
                        catch (Exception)
                        {
                            // A subscriber's failure must not end the subscription for everyone.
                        }
                    }
                }
            }
            finally
            {
                Native.close(fd);
            }
        }

        public void Dispose()
        {
            _stopped = true;
            if (_thread is not null && _thread != Thread.CurrentThread) _thread.Join();
        }
    }
}

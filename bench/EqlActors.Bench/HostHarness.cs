using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Akka.Actor;
using Akka.Configuration;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Bench;

/// <summary>
/// The real actor tree on this host with real processes and real interface events: pppd is a stand-in script
/// started through <see cref="LinuxPppProcesses"/> (setsid, pidfile, chain stop), its interface is a veth named
/// pppN inside a network namespace created here and watched by <see cref="LinuxNetworkLinks"/> over rtnetlink,
/// sysctl is <see cref="LinuxSysctl"/> in that namespace. The EQL driver, the routes through eql and host_B are
/// in-memory fakes: this kernel has no eql (and no dummy) module, and host_B is not what is measured.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostHarness : IDisposable
{
    // The stand-in, in pppd's order: reads the pppd words it needs (unit, linkname) and its own standin-* words,
    // creates pppN (a veth: this kernel has no dummy module) in the namespace, says "Using interface" as pppd does
    // when it creates the unit, waits the bring-up delay (LCP/IPCP), sets pppN up, and holds a child standing in
    // for ssh. SIGTERM: the interface goes with it, exit 5 (pppd's
    // "terminated by a signal"), as a real pppd's ppp unit goes when it exits.
    private const string StandIn = """
        #!/bin/sh
        unit=0; linkname=x; prev=; ns=; delay=0; rundir=/tmp
        for a in "$@"; do
          case "$a" in
            standin-netns=*) ns=${a#standin-netns=} ;;
            standin-delay=*) delay=${a#standin-delay=} ;;
            standin-rundir=*) rundir=${a#standin-rundir=} ;;
          esac
          [ "$prev" = unit ] && unit=$a
          [ "$prev" = linkname ] && linkname=$a
          prev=$a
        done
        if=ppp$unit
        pidfile="$rundir/ppp-$linkname.pid"
        child=
        bye() { ip -n "$ns" link del "$if" 2>/dev/null; [ -n "$child" ] && kill "$child" 2>/dev/null; rm -f "$pidfile"; exit 5; }
        trap bye TERM INT HUP
        printf '%s\n' $$ > "$pidfile"
        ip -n "$ns" link del "$if" 2>/dev/null
        ip -n "$ns" link add "$if" type veth peer name "v$if" || exit 8
        printf '%s\n%s\n' $$ "$if" > "$pidfile"
        echo "Using interface $if"
        sleep "$delay" & wait $!
        ip -n "$ns" link set "$if" up || exit 8
        sleep 100000 & child=$!
        while kill -0 "$child" 2>/dev/null; do wait "$child"; done
        exit 16
        """;

    public string Netns { get; }
    private readonly string _dir;
    private readonly string _standIn;
    private readonly LinuxPppProcesses _ppp;
    private readonly LinuxNetworkLinks _links;
    private readonly LinuxSysctl _sysctl;
    public ActorSystem System { get; }
    public EventLog Events { get; }
    private int _bundles;

    public HostHarness()
    {
        Netns = $"eqlbench-{Environment.ProcessId}";
        _dir = Directory.CreateTempSubdirectory("eqlbench-").FullName;
        _standIn = Path.Combine(_dir, "pppd");
        File.WriteAllText(_standIn, StandIn.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(_standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Sh("ip", "netns", "add", Netns);
        Cleanup.Register(Dispose);
        _ppp = new LinuxPppProcesses(_dir);
        _links = new LinuxNetworkLinks(Netns);
        _sysctl = new LinuxSysctl(Netns);
        System = ActorSystem.Create("eqlbench", ConfigurationFactory.ParseString("""
            akka.loglevel = OFF
            akka.stdout-loglevel = OFF
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            """));
        Events = EventLog.Attach(System);
    }

    public SystemPorts Ports => new(_ppp, _links, new FakeEqlDriver(), new FakeRoutes(), _sysctl, new FakeRemote());

    public BundleConfig Config(int links, double upDelaySeconds) => new()
    {
        Links = [.. Enumerable.Range(0, links)],
        Ppp = new PppConfig
        {
            PppdPath = _standIn,
            LinkNamePrefix = "eqlbench",
            ExtraOptions = [$"standin-netns={Netns}", $"standin-delay={upDelaySeconds.ToString(CultureInfo.InvariantCulture)}", $"standin-rundir={_dir}"],
        },
    };

    /// <summary>A new bundle (own name, own fakes) sharing the namespace; started, and ready when this returns.</summary>
    public (IActorRef Bundle, string Name, double ReadyMs) StartBundle(int links, double upDelaySeconds)
    {
        var name = $"b{++_bundles}";
        var bundle = System.CreateBundle(Config(links, upDelaySeconds), Ports, new BundleOptions(name));
        var t0 = Stopwatch.GetTimestamp();
        bundle.Tell(new StartBundle());
        var (at, _) = Events.WaitFor<BundleReady>(t0, e => e.Bundle == name, TimeSpan.FromSeconds(60), $"{name} ready");
        return (bundle, name, EventLog.Ms(t0, at));
    }

    /// <summary>Stops the bundle; false when it did not answer in time (its leftovers are killed at dispose).</summary>
    public static bool StopBundle(IActorRef bundle)
    {
        var stopped = bundle.Ask<BundleStopped>(new StopBundle(), TimeSpan.FromSeconds(30));
        var ok = ((IAsyncResult)stopped).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(31)) && stopped.IsCompletedSuccessfully;
        bundle.Tell(PoisonPill.Instance);
        return ok;
    }

    /// <summary>Sets the interface down in the namespace; returns when <c>ip</c> has exited.</summary>
    public void SetDown(string ifname) => Sh("ip", "-n", Netns, "link", "set", ifname, "down");

    public static void Terminate(int pid) => kill(pid, 15);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public static void Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err.Trim()}");
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { System.Terminate().Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        // Anything a stopped bundle left behind: stand-ins by their pidfiles, then the namespace and its veths.
        foreach (var pidfile in Directory.EnumerateFiles(_dir, "ppp-*.pid"))
        {
            if (int.TryParse(File.ReadLines(pidfile).FirstOrDefault(), out var pid)) kill(-pid, 9);
        }
        _ppp.Dispose();
        _links.Dispose();
        try { Sh("ip", "netns", "del", Netns); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}

/// <summary>Runs the registered cleanups on Ctrl-C and on exit, so no namespace or process outlives the bench.</summary>
public static class Cleanup
{
    private static readonly List<Action> Actions = [];

    static Cleanup()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAll();
        Console.CancelKeyPress += (_, e) => { RunAll(); };
    }

    public static void Register(Action action)
    {
        lock (Actions) Actions.Add(action);
    }

    public static void RunAll()
    {
        Action[] all;
        lock (Actions) { all = [.. Actions]; Actions.Clear(); }
        foreach (var a in all)
        {
            try { a(); } catch (Exception e) { Console.Error.WriteLine($"cleanup: {e.Message}"); }
        }
    }
}

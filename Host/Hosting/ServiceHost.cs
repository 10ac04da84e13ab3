using Akka.Actor;
using Akka.Hosting;
using Akka.Logger.Serilog;
using EqlActors.Actors;
using EqlActors.Configuration;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Simulation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Serilog;

namespace EqlActors.Host.Hosting;

/// <summary>What the running service is made of; one instance per <c>eqlactors run</c>.</summary>
public sealed class DaemonState(BundleConfig config, bool simulated)
{
    public BundleConfig Config { get; } = config;
    public bool Simulated { get; } = simulated;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The simulated world when running <c>--simulated</c>; null on a real system.</summary>
    public SimulatedSystem? Simulation { get; internal set; }
    internal SystemPorts? Ports { get; set; }

    /// <summary>On a real system: the pppd port with the links launched before the host was built (<see cref="Prelaunch"/>).</summary>
    internal PrelaunchedPpp? Prelaunched { get; set; }

    /// <summary>On a real system with prelaunched links: their enslaving and routes before the actors (<see cref="Hosting.ColdStart"/>).</summary>
    internal ColdStart? ColdStart { get; set; }

    /// <summary>Completed once the control socket serves and READY=1 went to systemd: the watchdog starts after it.</summary>
    public TaskCompletionSource Served { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when the bundle did not report <c>BundleStopped</c> in time: <c>run</c> then exits 1.</summary>
    public bool TeardownIncomplete { get; internal set; }
}

/// <summary>
/// <c>eqlactors run</c>: the generic host with Serilog, systemd integration and Akka.Hosting around one bundle.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ServiceHost
{
    /// <summary>
    /// Until the host's own lifetime handles SIGTERM and SIGINT (a real system: there may be prelaunched chains to
    /// end), a signal only marks the start as stopped, so that the chains are ended before the process exits.
    /// </summary>
    private static IDisposable EarlyStop(CancellationTokenSource stop)
    {
        void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            stop.Cancel();
        }
        return new Registrations(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
    }

    private sealed class Registrations(params IDisposable[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in all) r.Dispose();
        }
    }

    /// <summary>How long a graceful shutdown waits for <c>BundleStopped</c>; the unit's TimeoutStopSec is above it.</summary>
    public static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(BundleConfig config, bool simulated, Action<IServiceCollection>? extra = null)
    {
        var entered = StartClock.Mark();
        using var logger = Logging.Create(Logging.ParseLevel(config.Control.LogLevel), config.Control.LogFile);
        Log.Logger = logger; // Akka.Logger.Serilog's SerilogLogger writes to the static logger.
        var log = logger.ForContext("SourceContext", "EqlActors.Host");
        try
        {
            var logged = StartClock.Mark();
            var state = new DaemonState(config, simulated);
            // Bound before anything else: a second daemon must fail here, before its actors touch the links.
            using var listener = new Control.ControlListener(Control.ControlSocket.Listen(config.Control.SocketPath), config.Control.SocketPath);
            var bound = StartClock.Mark();
            var launched = bound with { Ms = double.NaN };
            // A SIGTERM while the links are prelaunched and the host is built (seconds in a slow guest) must not
            // leave the prelaunched chains behind.
            using var stopEarly = new CancellationTokenSource();
            var earlyStop = simulated ? null : EarlyStop(stopEarly);
            try
            {
                IHost host;
                try
                {
                    if (!simulated)
                    {
                        // Before the chains fork: they inherit it.
                        ProcessMemory.DisableTransparentHugePages();
                        // The ssh masters' sockets go in the runtime directory: it must exist before the first chain starts.
                        RuntimeDirectory.Ensure(config.Control.SocketPath);
                        state.Prelaunched = await Prelaunch.RunAsync(config, new LinuxPppProcesses(), log);
                        launched = StartClock.Mark();
                        // The ports the actors will use, made now: the cold start enslaves and routes the prelaunched
                        // links through them while the host is built.
                        state.Ports = LinuxSystem.Create(config, ppp: state.Prelaunched);
                        state.ColdStart = ColdStart.Begin(config, state.Prelaunched, state.Ports, log);
                    }
                    var main = StartClock.MainMark;
                    var parsed = StartClock.CommandLine ?? main;
                    log.Information("Start: managed code after {Runtime:0} ms, command line after {Parsed:0} ms, configuration after {Entered:0} ms, " +
                        "logger after {Logged:0} ms, control socket bound after {Bound:0} ms, prelaunch done after {Launched:0} ms (since the process started); " +
                        "JIT at Main: {MainJit}; command line: {ParsedJit}; configuration: {EnteredJit}; logger: {LoggedJit}; control socket: {BoundJit}; prelaunch: {LaunchedJit}",
                        StartClock.AtMain, parsed.Ms, entered.Ms, logged.Ms, bound.Ms, launched.Ms,
                        main.Totals(), parsed.Since(main), entered.Since(parsed), logged.Since(entered), bound.Since(logged), launched.Since(bound));
                    host = Build(state, listener, extra);
                }
                finally
                {
                    earlyStop?.Dispose();
                }
                using (host)
                {
                    if (stopEarly.IsCancellationRequested)
                    {
                        log.Information("eqlactors stopped before it started");
                        return Cli.EqlActorsCli.Ok;
                    }
                    log.Information("eqlactors {Version} starting ({Mode}, pid {Pid})", Cli.EqlActorsCli.Version, simulated ? "simulated system" : "Linux system", Environment.ProcessId);
                    await host.RunAsync();
                }
            }
            finally
            {
                // Stopped before the actors took over: what the cold start set, the chains and host_B's slirp, in
                // the bundle's stop order; after a hand-over only the chains no link actor took.
                await StartUndo.RunAsync(state.ColdStart, state.Prelaunched, state.Ports, config, log);
                if (state.Prelaunched is { } prelaunched && state.Ports is null) prelaunched.Dispose();
                // Here, not after: the ports exist before the host now (the cold start's), also when building it threw.
                (state.Ports?.Ppp as IDisposable)?.Dispose();
                (state.Ports?.Links as IDisposable)?.Dispose();
                (state.Ports?.Eql as IDisposable)?.Dispose();
            }
            if (state.TeardownIncomplete)
            {
                log.Error("eqlactors exiting with the bundle not fully torn down");
                return Cli.EqlActorsCli.Failed;
            }
            log.Information("eqlactors exited cleanly");
            return Cli.EqlActorsCli.Ok;
        }
        catch (Control.ControlSocketFolderUnsafeException ex)
        {
            log.Error("eqlactors refuses to serve: {Reason}", ex.Message);
            return Cli.EqlActorsCli.InvalidConfiguration;
        }
        catch (Control.ControlSocketInUseException ex)
        {
            log.Error("eqlactors is already running: {Reason}", ex.Message);
            return Cli.EqlActorsCli.Failed;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.Fatal(ex, "eqlactors failed: {Reason}", ex.Message);
            return Cli.EqlActorsCli.Failed;
        }
        finally
        {
            Log.Logger = Serilog.Core.Logger.None;
        }
    }

    private static IHost Build(DaemonState state, Control.ControlListener listener, Action<IServiceCollection>? extra)
    {
        var config = state.Config;
        // DisableDefaults: no appsettings*.json, no reload-on-change file watchers, no default logging providers.
        // The content root is the (small, root-only) runtime directory, never the current directory.
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = RuntimeDirectory.Ensure(config.Control.SocketPath),
            ApplicationName = "eqlactors",
        });
        builder.Services.AddSystemd();
        builder.Services.AddSerilog(Log.Logger, dispose: false);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TeardownTimeout + TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(listener);

        builder.Services.AddAkka("eqlactors", akka =>
        {
            akka.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddSerilogLogging(); // with the Serilog message formatter: actor log templates stay structured
            });
            akka.AddHocon("""
                # A message that reached no actor is how a lost request shows: log them (the first 10, then again
                # after 5 minutes of quiet), except during shutdown, where the stopping actors make them normal.
                akka.log-dead-letters = 10
                akka.log-dead-letters-suspend-duration = 5m
                akka.log-dead-letters-during-shutdown = off
                # The generic host owns shutdown (the bundle is torn down before the actor system stops).
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                # The default 10 ms wheel wakes the process 100 times a second while any timer is pending (the
                # reconcile timers always are): ~4 % of a core idle, measured (docs/benchmarks.md). Every timer here
                # is a second or longer and failures arrive as events, so 100 ms of timer resolution costs nothing.
                akka.scheduler.tick-duration = 100ms
                """, HoconAddMode.Prepend);
            akka.WithActors((system, registry) =>
            {
                SystemPorts ports;
                if (state.Simulated)
                {
                    // The simulated world runs on the actor system's own scheduler: in real time here.
                    state.Simulation = new SimulatedSystem(system.Scheduler, config);
                    // Off the actors' threads like the Linux ports, so that the daemon behaves the same on both.
                    ports = OffloadedPorts.Wrap(state.Simulation.Ports, PortThreads.Shared, PortThreads.Processes);
                }
                else ports = state.Ports ?? LinuxSystem.Create(config, ppp: state.Prelaunched);
                state.Ports = ports;
                registry.Register<Control.ProgressJournal>(Control.ProgressJournalFactory.CreateProgressJournal(system));
                registry.Register<BundleActor>(system.CreateBundle(config, ports));
            });
        });

        // Registered after AddAkka: hosted services stop in reverse order, so the bundle is torn down while the
        // actor system still runs.
        builder.Services.AddHostedService<BundleService>();
        builder.Services.AddHostedService<Metrics.MetricsService>();
        builder.Services.AddHostedService<WatchdogService>();
        // Last: started once the bundle is starting (READY=1 follows), stopped first (the socket file goes first).
        builder.Services.AddHostedService<Control.ControlServer>();
        extra?.Invoke(builder.Services);
        return builder.Build();
    }
}

/// <summary>The runtime directory that holds the control socket: created root-only (0700) when missing.</summary>
[SupportedOSPlatform("linux")]
public static class RuntimeDirectory
{
    public static string Ensure(string socketPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(socketPath)) ?? "/";
        if (!Directory.Exists(dir))
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }
}

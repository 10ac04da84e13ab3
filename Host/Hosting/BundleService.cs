using Akka.Actor;
using Akka.Hosting;
using EqlActors.Actors;
using EqlActors.Host.Linux;
using EqlActors.Messages;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Starts the bundle once the actor system is up and tears it down on shutdown (SIGTERM, SIGINT, a control
/// <c>stop</c>): <c>StopBundle</c>, then wait (bounded) for <c>BundleStopped</c> before the actor system goes.
/// Tells systemd how many links are enslaved (<c>STATUS=</c>) whenever that changes, and gives memory back once
/// the bundle is ready again (<see cref="MemoryTrimmer"/>).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BundleService(
    ActorSystem system,
    IRequiredActor<BundleActor> bundleRef,
    DaemonState state,
    IServiceProvider services,
    ILogger<BundleService> log) : IHostedService
{
    private static readonly TimeSpan LogBarrierTimeout = TimeSpan.FromSeconds(5);
    private IActorRef? _reporter;
    private IActorRef? _trimmer;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var bundle = await bundleRef.GetAsync(cancellationToken);
        var notifier = SystemdStatus.Create(services);
        _reporter = system.ActorOf(Props.Create(() => new StatusReporter(bundle, notifier, state.Config.EffectiveLinks.Length)), "status-reporter");
        _trimmer = system.ActorOf(Props.Create(() => new MemoryTrimmer(log, ProcessMemory.Trim, RecoveryWarmUp.Run)), "memory-trimmer");
        // The cold start ends before the actors touch the kernel: never two writers at once.
        var tcpReorderingBefore = state.ColdStart is { } coldStart ? await coldStart.HandOverAsync() : null;
        log.LogInformation("Starting bundle with links {Links}", string.Join(",", state.Config.EffectiveLinks));
        bundle.Tell(new StartBundle(tcpReorderingBefore));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var bundle = await bundleRef.GetAsync(cancellationToken);
        log.LogInformation("Shutting down: tearing the bundle down (at most {Seconds} s)", ServiceHost.TeardownTimeout.TotalSeconds);
        try
        {
            await bundle.Ask<BundleStopped>(new StopBundle(), ServiceHost.TeardownTimeout, cancellationToken);
            await LogBarrier.PassAsync(system, LogBarrierTimeout);
            log.LogInformation("Bundle torn down");
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException or OperationCanceledException)
        {
            state.TeardownIncomplete = true;
            log.LogError("Bundle teardown did not finish: {Reason}", ex.Message);
        }
        _reporter?.Tell(PoisonPill.Instance);
        _trimmer?.Tell(PoisonPill.Instance);
    }
}

/// <summary>sd_notify(3) messages; a no-op unless <c>NOTIFY_SOCKET</c> is set.</summary>
public sealed class SystemdStatus(ISystemdNotifier notifier, bool lifetimeSendsReady)
{
    public static SystemdStatus Create(IServiceProvider services)
    {
        var notifier = (ISystemdNotifier?)services.GetService(typeof(ISystemdNotifier)) ?? new SystemdNotifier();
        var lifetime = services.GetService(typeof(IHostLifetime));
        return new SystemdStatus(notifier, lifetime is SystemdLifetime);
    }

    public bool Enabled => notifier.IsEnabled;

    public void Status(string text)
    {
        if (notifier.IsEnabled) notifier.Notify(new Microsoft.Extensions.Hosting.Systemd.ServiceState("STATUS=" + text.Replace('\n', ' ')));
    }

    /// <summary>One keep-alive for systemd's watchdog (WatchdogSec=).</summary>
    public void Watchdog()
    {
        if (notifier.IsEnabled) notifier.Notify(new Microsoft.Extensions.Hosting.Systemd.ServiceState("WATCHDOG=1"));
    }

    /// <summary>
    /// READY=1 once the control socket serves. <see cref="SystemdLifetime"/> sends it itself when systemd is our
    /// parent; without it (a notify socket handed down another way, tests) we send it.
    /// </summary>
    public void Ready(string status)
    {
        if (!notifier.IsEnabled) return;
        notifier.Notify(new Microsoft.Extensions.Hosting.Systemd.ServiceState(lifetimeSendsReady ? "STATUS=" + status : "READY=1\nSTATUS=" + status));
    }
}

/// <summary>Follows the bundle's events and tells systemd "2/3 links enslaved, EQL down" when that line changes.</summary>
internal sealed class StatusReporter : ReceiveActor
{
    private string? _last;

    public StatusReporter(IActorRef bundle, SystemdStatus systemd, int configured)
    {
        Receive<IBundleEvent>(_ => bundle.Tell(new GetBundleStatus()));
        Receive<BundleStatus>(s =>
        {
            var line = Line(s, configured);
            if (line == _last) return;
            _last = line;
            systemd.Status(line);
        });
    }

    public static string Line(BundleStatus s, int configured)
    {
        var enslaved = s.Links.Count(l => l.Enslaved);
        var phase = s.Phase == BundlePhase.Running ? (s.Ready ? "EQL up" : "EQL down") : s.Phase.ToString().ToLowerInvariant();
        return $"{enslaved}/{configured} links enslaved, {phase}";
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(IBundleEvent));
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}

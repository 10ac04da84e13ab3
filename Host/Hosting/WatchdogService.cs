using System.Globalization;
using Akka.Actor;
using Akka.Hosting;
using EqlActors.Actors;
using EqlActors.Messages;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EqlActors.Host.Hosting;

/// <summary>
/// Feeds systemd's watchdog (<c>WatchdogSec=</c> in the unit): when systemd passes <c>WATCHDOG_USEC</c> (and
/// <c>WATCHDOG_PID</c> names this process or is absent), sends <c>WATCHDOG=1</c> every half interval, but only
/// after a <see cref="CheckAlive"/> round trip through the bundle and its eql actor came back within that half.
/// A wedged actor tree therefore stops the pings and systemd restarts the service; the new daemon adopts the
/// running links. Starts once READY=1 went out.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WatchdogService(
    IRequiredActor<BundleActor> bundleRef,
    DaemonState state,
    IServiceProvider services,
    ILogger<WatchdogService> log) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>Half of <c>WATCHDOG_USEC</c>, or null when systemd asks for no watchdog (or asks another process).</summary>
    public static TimeSpan? PingInterval(string? usec, string? pid, int ownPid)
    {
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) || micros <= 0) return null;
        if (!string.IsNullOrEmpty(pid) && pid != ownPid.ToString(CultureInfo.InvariantCulture)) return null;
        return TimeSpan.FromTicks(Math.Max(1, micros * 10 / 2));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var interval = PingInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);
        var systemd = SystemdStatus.Create(services);
        if (interval is not { } every || !systemd.Enabled) return;
        var bundle = await bundleRef.GetAsync(cancellationToken);
        log.LogInformation("systemd watchdog: a keep-alive every {Seconds} s while the bundle answers", every.TotalSeconds);
        _loop = Task.Run(() => Loop(bundle, systemd, every), CancellationToken.None);
    }

    private async Task Loop(IActorRef bundle, SystemdStatus systemd, TimeSpan every)
    {
        var ct = _stopping.Token;
        try
        {
            await state.Served.Task.WaitAsync(ct);
            using var timer = new PeriodicTimer(every);
            var answering = true;
            do
            {
                try
                {
                    await bundle.Ask<Alive>(new CheckAlive(), every, ct);
                    systemd.Watchdog();
                    if (!answering) log.LogWarning("systemd watchdog: the bundle answers again; keep-alives resumed");
                    answering = true;
                }
                catch (AskTimeoutException)
                {
                    if (answering) log.LogError("systemd watchdog: the bundle did not answer within {Seconds} s; no keep-alive (systemd restarts the service if this lasts)", every.TotalSeconds);
                    answering = false;
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

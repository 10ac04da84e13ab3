using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// host_B: before the first start kills stale slirp processes (a unit held by a dead session refuses every attach)
/// and writes the rc files; at stop kills the slirp so nothing lingers there. Transient failures are retried with
/// backoff; a permanent one (key refused) waits for the bundle to ask again.
/// </summary>
public sealed class RemoteActor : PortActor
{
    private sealed record Retry(bool KillStale);

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private TimeSpan _retryDelay;

    // ssh through jump hosts: seconds per connection, more on a slow host (12-13 s measured in the qemu guest).
    private static readonly TimeSpan RemoteTimeout = TimeSpan.FromMinutes(2);

    public RemoteActor(BundleContext ctx)
    {
        _ctx = ctx;
        _retryDelay = ctx.Config.Supervision.MinBackoff;
        Receive<PrepareRemote>(m =>
        {
            if (m.ProbeOnly) Probe();
            else Prepare(m.KillStale);
        });
        Receive<DiagnoseLink>(m => Diagnose(m.Link));
        Receive<Retry>(m => Prepare(m.KillStale));
        Receive<CleanRemote>(_ => Clean(Sender));
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new RemoteActor(ctx)));

    private void Prepare(bool killStale)
    {
        Timers.Cancel("retry");
        var remote = _ctx.Ports.Remote;
        var links = _ctx.Config.EffectiveLinks.ToArray();
        RunPort(async ct =>
        {
            // A slirp that cannot serve our links fails every attach the same way: say so once, do not retry.
            var (probe, killed) = await remote.PrepareAsync(links, killStale, ct);
            if (!probe.CanServe(links))
                throw new PortException($"the remote slirp cannot serve links {string.Join(",", links)}: {probe.Detail}", FailureKind.Permanent);
            return killed;
        }, killed =>
        {
            _retryDelay = _ctx.Config.Supervision.MinBackoff;
            _log.Info("Remote prepared: {Killed} stale slirp processes killed, rc files written for links {Links}", killed, string.Join(",", links));
            _ctx.Bundle.Tell(new RemotePrepared(_ctx.Name, killed, Now));
        }, ex =>
        {
            var permanent = ex is PortException { Kind: FailureKind.Permanent };
            _log.Warning("Preparing the remote host failed ({Kind}): {Reason}", permanent ? "permanent" : "transient", ex.Message);
            _ctx.Bundle.Tell(new RemotePreparationFailed(_ctx.Name, ex.Message, permanent, Now));
            if (permanent) return;
            Timers.StartSingleTimer("retry", new Retry(killStale), _retryDelay);
            _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, _ctx.Config.Supervision.MaxBackoff.Ticks));
        }, RemoteTimeout);
    }

    /// <summary>The links prepare host_B themselves: only say what this slirp can and cannot do.</summary>
    private void Probe()
    {
        var links = _ctx.Config.EffectiveLinks.ToArray();
        RunPort(() => _ctx.Ports.Remote.ProbeSlirpWithoutAttachingAsync(), probe =>
        {
            if (!probe.CanServe(links))
            {
                var reason = $"the remote slirp cannot serve links {string.Join(",", links)}: {probe.Detail}";
                _log.Error("{Reason}", reason);
                _ctx.Bundle.Tell(new RemotePreparationFailed(_ctx.Name, reason, true, Now));
                return;
            }
            _log.Info("Remote slirp: {Detail}", probe.Detail);
            _ctx.Bundle.Tell(new RemotePrepared(_ctx.Name, 0, Now) { SlirpFeatures = probe.Features });
        }, ex => _log.Warning("Probing the remote slirp failed (the links say why they fail themselves): {Reason}", ex.Message));
    }

    /// <summary>host_B's own words for a link whose remote command ended: read off the link's critical path.</summary>
    private void Diagnose(int link)
    {
        RunPort(() => _ctx.Ports.Remote.ReadLinkErrorAsync(link), text =>
        {
            if (text is null || FailureReasons.ExplainRemote(text) is not { } f) return;
            _ctx.Bundle.Tell(new LinkDiagnosed(_ctx.Name, link, f.Reason, f.Permanent, f.Class, Now));
        }, ex => _log.Debug("Reading host_B's error file of link {Link} failed: {Reason}", link, ex.Message));
    }

    private void Clean(IActorRef requester)
    {
        Timers.Cancel("retry");
        RunPort(ct => _ctx.Ports.Remote.KillStaleSlirpAsync(ct), killed =>
        {
            _log.Info("Remote cleaned: {Killed} slirp processes killed", killed);
            requester.Tell(new RemoteCleaned(killed));
        }, ex =>
        {
            _log.Warning("Cleaning the remote host failed, slirp may linger there: {Reason}", ex.Message);
            requester.Tell(new RemoteCleaned(0));
        }, RemoteTimeout);
    }
}

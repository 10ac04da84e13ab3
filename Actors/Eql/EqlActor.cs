using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// The eql master and its slaves. Reconciles the driver against the links that are up on every event and on a
/// timer: brings the master back, enslaves what is missing, releases what went. Every imbalance window it compares
/// each slave's share of new upload bytes with the mean share of the others; when one strays by more than the tolerance it
/// re-enslaves every slave, which restarts the driver's per-slave queue counters from the same point.
/// </summary>
public sealed class EqlActor : PortActor
{
    private sealed record ReconcileTick : ICoalesced;
    private sealed record BalanceTick : ICoalesced;
    private sealed record MasterChanged : ICoalesced;

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, string> _up = [];
    private Dictionary<int, string> _enslaved = [];
    private Dictionary<string, long> _lastSample = [];
    private Dictionary<string, long> _tx = [];
    private Dictionary<string, double> _shares = [];
    private IDisposable? _subscription;
    private bool _active;
    private bool _masterUp;
    private bool _everUp;

    public EqlActor(BundleContext ctx)
    {
        _ctx = ctx;
        Receive<StartEql>(_ => Start());
        Receive<LinkUp>(m =>
        {
            _up[m.Link] = m.Interface;
            Reconcile();
        });
        Receive<LinkDown>(m =>
        {
            _up.Remove(m.Link);
            Reconcile();
        });
        Receive<ReconcileTick>(_ => Reconcile());
        Receive<MasterChanged>(_ => Reconcile());
        Receive<BalanceTick>(_ => SampleBalance());
        Receive<ReleaseSlaves>(_ => Release(Sender));
        Receive<CheckAlive>(_ => Sender.Tell(new Alive()));
        Receive<RemoveEqlMaster>(_ => RemoveMaster(Sender));
    }

    public static Props Props(BundleContext ctx) => ctx.Apply(Akka.Actor.Props.Create(() => new EqlActor(ctx)));

    private string Device => _ctx.Config.Eql.Device;

    protected override void PostStop() => _subscription?.Dispose();

    private void Start()
    {
        _active = true;
        if (_subscription is null)
        {
            var self = Self;
            var device = Device;
            _subscription = _ctx.Ports.Links.Subscribe(change =>
            {
                if (change.Name == device) self.Tell(new MasterChanged());
            });
        }
        Timers.StartPeriodicTimer("reconcile", new ReconcileTick(), _ctx.Config.Supervision.ReconcileInterval);
        Timers.StartPeriodicTimer("balance", new BalanceTick(), _ctx.Config.Health.ImbalanceWindow);
        Reconcile();
    }

    private void Reconcile()
    {
        if (!_active) return;
        var eql = _ctx.Ports.Eql;
        var config = _ctx.Config;
        var device = Device;
        var spec = new EqlMasterSpec(device, config.Eql.Address, config.Eql.Netmask, config.Eql.Mtu);
        var desired = new Dictionary<int, string>(_up);
        var believed = new Dictionary<int, string>(_enslaved);
        RunPort(() => EqlPass.RunAsync(eql, spec, desired, believed, config.Eql.PriorityOf), pass =>
        {
            if (pass.LostReason is not null)
            {
                if (_masterUp)
                {
                    _log.Warning("EQL master {Device} lost: {Reason}", Device, pass.LostReason);
                    _ctx.Bundle.Tell(new EqlMasterLost(_ctx.Name, Device, pass.LostReason, Now));
                }
                _log.Info("EQL master {Device} up", Device);
                _ctx.Bundle.Tell(new EqlMasterUp(_ctx.Name, Device, _everUp, Now));
                _everUp = true;
            }
            _masterUp = true;
            foreach (var (link, ifname, priority) in pass.Newly)
            {
                _log.Info("Link {Link} ({Interface}) enslaved to {Device} with priority {Priority}", link, ifname, Device, priority);
                _ctx.Bundle.Tell(new SlaveEnslaved(_ctx.Name, link, ifname, priority, Now));
            }
            foreach (var (link, ifname) in pass.Released)
            {
                _log.Info("Link {Link} ({Interface}) released from {Device}", link, ifname, Device);
                _ctx.Bundle.Tell(new SlaveReleased(_ctx.Name, link, ifname, Now));
            }
            if (pass.Newly.Count > 0 || pass.Released.Count > 0 || !SameSlaves(pass.Enslaved)) _lastSample = [];
            _enslaved = pass.Enslaved;
            Report();
        }, ex =>
        {
            _masterUp = false;
            _log.Warning("Reconciling {Device} failed: {Reason}", Device, ex.Message);
            Report();
        });
    }

    private bool SameSlaves(Dictionary<int, string> other) =>
        other.Count == _enslaved.Count && other.All(kv => _enslaved.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private void SampleBalance()
    {
        if (!_active || _enslaved.Count == 0) return;
        var links = _ctx.Ports.Links;
        var slaves = _enslaved.Values.ToList();
        RunPort(async () =>
        {
            var sample = new Dictionary<string, long>();
            foreach (var ifname in slaves) sample[ifname] = (await links.GetAsync(ifname)).TxBytes;
            return sample;
        }, sample =>
        {
            var previous = _lastSample;
            _lastSample = sample;
            _tx = sample;
            var verdict = ImbalanceDetector.Judge(previous, sample, _ctx.Config.Health.ImbalanceTolerance);
            if (verdict.Shares.Count == 0) return;
            _shares = new Dictionary<string, double>(verdict.Shares);
            if (verdict.Imbalanced) Rebalance(_shares);
            else Report();
        }, ex => _log.Debug("Sampling slave counters failed: {Reason}", ex.Message));
    }

    private void Rebalance(Dictionary<string, double> shares)
    {
        var described = string.Join(" ", shares.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value:P1}"));
        _log.Warning("Upload over {Device} is imbalanced ({Shares}): re-enslaving every slave", Device, described);
        _ctx.Bundle.Tell(new UploadImbalanced(_ctx.Name, new Dictionary<string, double>(shares), Now));
        var eql = _ctx.Ports.Eql;
        var device = Device;
        var config = _ctx.Config;
        var slaves = new Dictionary<int, string>(_enslaved);
        RunPort(async () =>
        {
            var count = 0;
            foreach (var (link, ifname) in slaves)
            {
                try
                {
                    await eql.EmancipateAsync(device, ifname);
                    await eql.EnslaveAsync(device, ifname, config.Eql.PriorityOf(link));
                    count++;
                }
                catch (PortException)
                {
                    // A slave that went meanwhile is the next reconcile's business.
                }
            }
            return count;
        }, count =>
        {
            _lastSample = [];
            _ctx.Bundle.Tell(new UploadRebalanced(_ctx.Name, count, Now));
            Reconcile();
        }, ex => _log.Warning("Rebalancing failed: {Reason}", ex.Message));
    }

    private void Report() => _ctx.Bundle.Tell(new EqlObserved(_masterUp, new Dictionary<int, string>(_enslaved), new Dictionary<string, long>(_tx), new Dictionary<string, double>(_shares)));

    private void Release(IActorRef requester)
    {
        _active = false;
        Timers.CancelAll();
        var eql = _ctx.Ports.Eql;
        var device = Device;
        var slaves = _enslaved.Values.Union(_up.Values).Distinct().ToList();
        RunPort(async () =>
        {
            var released = 0;
            foreach (var ifname in slaves)
            {
                try
                {
                    await eql.EmancipateAsync(device, ifname);
                    released++;
                }
                catch (PortException)
                {
                }
            }
            return released;
        }, released =>
        {
            foreach (var (link, ifname) in _enslaved) _ctx.Bundle.Tell(new SlaveReleased(_ctx.Name, link, ifname, Now));
            _enslaved = [];
            _up.Clear();
            _lastSample = [];
            Report();
            requester.Tell(new SlavesReleased(released));
        }, ex =>
        {
            _log.Warning("Releasing slaves failed: {Reason}", ex.Message);
            requester.Tell(new SlavesReleased(0));
        });
    }

    private void RemoveMaster(IActorRef requester)
    {
        RunPort(() => _ctx.Ports.Eql.RemoveMasterAsync(Device), () =>
        {
            _masterUp = false;
            _everUp = false;
            Report();
            requester.Tell(new EqlMasterRemoved());
        }, ex =>
        {
            _log.Warning("Removing {Device} failed: {Reason}", Device, ex.Message);
            requester.Tell(new EqlMasterRemoved());
        });
    }
}

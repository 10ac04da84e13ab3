using Akka.Actor;
using Akka.Event;
using EqlActors.Configuration;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// The desired state of one bundle. Starts its children (remote, eql, routes, links), gates every link start on
/// host_B being prepared, forwards link events to the EQL actor, keeps the full picture for
/// <see cref="GetBundleStatus"/>, publishes every <see cref="IBundleEvent"/> on the event stream, and tears
/// everything down in order on <see cref="StopBundle"/>: routes, slaves, pppd chains, remote slirp, master.
/// States: stopped, active (starting, then running once host_B is prepared) and stopping, one step at a time.
/// </summary>
/// <remarks>
/// Supervision is explicit: a child that throws is restarted (also on <c>Kill</c>, which Akka's default would turn
/// into a stop), and the bundle then brings the fresh instance back into the bundle's state, because a restarted
/// child starts idle: the EQL and route actors get their start (and the EQL actor every link that is up), the remote
/// actor a pending preparation, the link supervisor its start (its new link actors adopt the running chains), and
/// while stopping, the child that owed the current step gets its request again.
/// </remarks>
public sealed class BundleActor : ReceiveActor, IWithTimers
{
    private sealed record ChildRestarted(IActorRef Child);
    private sealed record StallWatchTick;
    private sealed record FirstPassesDue;

    /// <summary>
    /// At start the EQL actor's first pass (modprobe, the master's address, its ioctls) and then the route actor's
    /// (the table, the sysctl) wait until every link has launched (its pppd forked, adopted, or failed to start), at
    /// most this long: each is a fork/exec and code run for the first time, which in a slow guest competed with the
    /// pppd forks on the same port threads and CPUs. Nothing needs them earlier: a link is enslaved only once it
    /// is up, seconds after its pppd started, and the EQL actor keeps every LinkUp that comes before its start.
    /// </summary>
    private static readonly TimeSpan FirstPassesDelayMax = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A timer of this period tells whether the daemon was stalled (SIGSTOP, a frozen VM, swapping): when it comes
    /// later than one reconcile interval past its time, every observation may be stale, and status requests wait
    /// (at most <see cref="StallSettleMax"/>) until the EQL and route actors have observed the kernel anew and the
    /// link events queued during the stall have come in (<see cref="StallSettleMin"/>).
    /// </summary>
    private static readonly TimeSpan StallWatchInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StallSettleMin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StallSettleMax = TimeSpan.FromSeconds(3);

    /// <summary>The stop saga's steps in order: who is asked, and with what.</summary>
    private enum StopStep
    {
        Routes,
        Slaves,
        Links,
        Remote,
        Master,
    }

    /// <summary>Restart on any exception, and tell the bundle so that it re-activates the fresh instance.</summary>
    private sealed class RestartAndTell(ILoggingAdapter log) : OneForOneStrategy(-1, -1, _ => Directive.Restart, loggingEnabled: false)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause, Akka.Actor.Internal.ChildRestartStats stats, IReadOnlyCollection<Akka.Actor.Internal.ChildRestartStats> children)
        {
            log.Error(cause, "Bundle child {Child} failed; restarting it", child.Path.Name);
            base.ProcessFailure(context, restart, child, cause, stats, children);
            if (restart) context.Self.Tell(new ChildRestarted(child));
        }
    }

    private sealed class LinkRecord
    {
        public LinkPhase Phase = LinkPhase.Idle;
        public int? Pid;
        public string? Interface;
        public int Starts;
        public string? LastError;
        public readonly Dictionary<string, long> Failures = [];
        public DateTimeOffset? LastChange;
        public LinkCounters? Counters;
        public ProbeResult? Probe;
        public DateTimeOffset? LastErrorAt;
        public string? LastErrorClass;
        // Reasons already logged in this streak of failures (cleared when the link comes up): each once.
        public readonly HashSet<string> Logged = [];
        public int Diagnoses;
        // host_B's words for this streak: later bare "remote command ended" failures do not overwrite them.
        public (string Reason, string Class)? DiagnosedReason;
    }

    private const int MaxDiagnoses = 3;

    private readonly BundleContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _remote;
    private readonly IActorRef _eql;
    private readonly IActorRef _routes;
    private readonly IActorRef _links;
    private readonly IActorRef _health;
    private readonly Dictionary<int, LinkRecord> _records = [];
    private readonly Dictionary<int, IActorRef> _waiting = [];
    private readonly HashSet<int> _reported = [];
    private readonly List<IActorRef> _stopRequesters = [];
    private readonly IReadOnlyList<Route> _desiredRoutes;
    private IReadOnlyList<int> _linksNotStopped = [];
    private BundlePhase _phase = BundlePhase.Stopped;
    private bool _adoptedAny;
    private bool _prepareRequested;
    private bool _remotePrepared;
    private bool _probeSent;
    private bool _ready;
    // Whether this start's StartEql (and, once the EQL actor reported, StartRoutes) went out: see FirstPassesDelayMax.
    private bool _eqlStarted;
    private bool _routesStarted;
    private readonly HashSet<int> _launched = [];
    private EqlObserved _eqlView = new(false, new Dictionary<int, string>(), new Dictionary<string, long>(), new Dictionary<string, double>());
    private RoutesObserved _routesView = new([], [], null);
    // What the sysctl was before the host's cold start set it: the route actor restores that one at stop.
    private string? _tcpReorderingBefore;
    // The route passes asked for since a link came up (its address brought a peer route that shadows ours): not ready
    // before one of them answered, or "ready" would come while the kernel still routes host_B past the master.
    private long _routesRequested;
    private HealthObserved? _healthView;
    private long _reconcilePasses;
    private long _imbalancesHealed;
    private long _recoveries;
    private double _recoverySecondsTotal;
    private double? _lastRecoverySeconds;
    private readonly long[] _recoveryBuckets = new long[BundleStats.RecoveryBucketBounds.Count];
    private DateTimeOffset? _degradedSince;
    private DateTimeOffset _lastWatch;
    private DateTimeOffset? _stallReconcileSince;
    private bool _eqlSeenSinceStall;
    private bool _routesSeenSinceStall;
    private readonly List<IActorRef> _statusWaiting = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public BundleActor(BundleConfig config, SystemPorts ports, BundleOptions options)
    {
        _ctx = new BundleContext(options.Name, config, ports, Self, options.Dispatcher, options.Random ?? Random.Shared);
        _desiredRoutes = DesiredRoutes.For(config);
        foreach (var link in config.EffectiveLinks) _records[link] = new LinkRecord();
        _remote = Context.ActorOf(RemoteActor.Props(_ctx), "remote");
        _eql = Context.ActorOf(EqlActor.Props(_ctx), "eql");
        _routes = Context.ActorOf(RouteActor.Props(_ctx), "routes");
        _links = Context.ActorOf(LinkSupervisor.Props(_ctx), "links");
        _health = Context.ActorOf(HealthActor.Props(_ctx), "health");

        Become(StoppedState);
    }

    protected override SupervisorStrategy SupervisorStrategy() => new RestartAndTell(_log);

    protected override void PreStart()
    {
        _lastWatch = Now;
        Timers.StartPeriodicTimer("stall-watch", new StallWatchTick(), StallWatchInterval);
    }

    /// <summary>Whether the stall watch is overdue by more than a reconcile interval: true at most once per stall.</summary>
    private bool DetectStall()
    {
        var late = Now - _lastWatch - StallWatchInterval;
        _lastWatch = Now;
        if (late <= _ctx.Config.Supervision.ReconcileInterval || _phase is BundlePhase.Stopped) return false;
        _log.Warning("Bundle {Bundle}: the daemon was stalled for about {Seconds:0.0} s; reconciling before status answers", _ctx.Name, late.TotalSeconds);
        _stallReconcileSince = Now;
        _eqlSeenSinceStall = false;
        _routesSeenSinceStall = false;
        _routes.Tell(new ReconcileRoutes());
        return true;
    }

    /// <summary>Answers the status requests held since a stall once the world was looked at anew (or the bound passed).</summary>
    private void SettleAfterStall()
    {
        if (_stallReconcileSince is not { } since) return;
        var waited = Now - since;
        if (waited < StallSettleMax && !(waited >= StallSettleMin && _eqlSeenSinceStall && _routesSeenSinceStall)) return;
        _stallReconcileSince = null;
        var status = Status();
        foreach (var r in _statusWaiting) r.Tell(status);
        _statusWaiting.Clear();
    }

    private void AnswerStatus()
    {
        // The request may come before the overdue watch tick: judge the stall here too.
        DetectStall();
        if (_stallReconcileSince is null) Sender.Tell(Status());
        else _statusWaiting.Add(Sender);
    }

    private void StoppedState()
    {
        Receive<StartBundle>(m => Start(m));
        Receive<StopBundle>(_ => Sender.Tell(new BundleStopped(_ctx.Name, Now)));
        Common();
    }

    /// <summary>Starting, then running once host_B is prepared: links get their go-ahead, the picture is kept.</summary>
    private void Active()
    {
        Receive<StartBundle>(_ => { });
        Receive<StopBundle>(_ => BeginStop(Sender));
        Receive<RestartLink>(m =>
        {
            RetryRemoteIfParked();
            _links.Forward(m);
        });
        Receive<RestartParkedLinks>(m =>
        {
            RetryRemoteIfParked();
            _links.Forward(m);
        });
        Receive<RecycleLink>(m => _links.Forward(m));
        Receive<LinkUnhealthy>(m => _links.Tell(new RecycleLink(m.Link, m.Reason)));
        Receive<LinkReadyToStart>(m => ReadyToStart(m.Link, Sender));
        Receive<RemotePrepared>(e =>
        {
            Publish(e);
            _remotePrepared = true;
            _phase = BundlePhase.Running;
            foreach (var (link, actor) in _waiting) actor.Tell(new StartLink(link));
            _waiting.Clear();
        });
        Receive<ChildRestarted>(m => Reactivate(m.Child));
        Receive<FirstPassesDue>(_ => StartEql());
        Common();
    }

    private void Stopping(StopStep step)
    {
        Receive<StopBundle>(_ => _stopRequesters.Add(Sender));
        Receive<StartBundle>(_ => _log.Warning("Bundle {Bundle}: start ignored while stopping", _ctx.Name));
        Receive<RoutesStopped>(_ => Step(StopStep.Slaves));
        Receive<SlavesReleased>(_ => Step(StopStep.Links));
        Receive<LinksStopped>(m =>
        {
            _linksNotStopped = m.NotStopped;
            Step(StopStep.Remote);
        });
        Receive<RemoteCleaned>(_ => Step(StopStep.Master));
        Receive<EqlMasterRemoved>(_ => Finish());
        Receive<ChildRestarted>(m =>
        {
            // The child that owed this step's reply lost the request with its old instance.
            if (m.Child.Equals(StepTarget(step))) Step(step);
            else if (m.Child.Equals(_health)) _health.Tell(new PauseProbes());
        });
        Common();
    }

    /// <summary>What every state does: status, the link records, the children's observations, publishing events.</summary>
    private void Common()
    {
        Receive<GetBundleStatus>(_ => AnswerStatus());
        Receive<StallWatchTick>(_ =>
        {
            DetectStall();
            SettleAfterStall();
        });
        Receive<CheckAlive>(m => _eql.Forward(m));
        Receive<RestartLink>(_ => { });
        Receive<RestartParkedLinks>(_ => { });
        Receive<RecycleLink>(_ => { });
        Receive<LinkUnhealthy>(_ => { });
        Receive<HealthObserved>(m =>
        {
            _healthView = m;
            foreach (var (link, r) in _records)
            {
                r.Counters = m.Counters.GetValueOrDefault(link) ?? r.Counters;
                r.Probe = m.LinkProbes.GetValueOrDefault(link) ?? r.Probe;
            }
        });
        Receive<LinkReadyToStart>(m =>
        {
            if (_records.TryGetValue(m.Link, out var record)) record.Phase = LinkPhase.WaitingForGoAhead;
            _reported.Add(m.Link);
        });
        Receive<RemotePrepared>(e =>
        {
            Publish(e);
            _remotePrepared = true;
        });
        Receive<ChildRestarted>(_ => { });
        Receive<FirstPassesDue>(_ => { });
        Receive<LinkAdopted>(e => Link(e, e.Link, r =>
        {
            r.Phase = LinkPhase.Starting;
            r.Pid = e.Pid;
            r.Interface = e.Interface;
            r.Starts++; // this daemon's first start of the link: a later restart counts from here
            _adoptedAny = true;
            _reported.Add(e.Link);
            MaybePrepareRemote();
            Launched(e.Link);
        }));
        Receive<LinkStarting>(e => Link(e, e.Link, r =>
        {
            r.Phase = LinkPhase.Starting;
            r.Pid = e.Pid;
            r.Interface = null;
            r.Starts++;
            Launched(e.Link);
        }));
        Receive<LinkUp>(e => Link(e, e.Link, r =>
        {
            if (r.Logged.Count > 0) _log.Info("Link {Link} up again after: {Reason}", e.Link, r.LastError);
            r.Logged.Clear();
            r.Diagnoses = 0;
            r.DiagnosedReason = null;
            r.Phase = LinkPhase.Up;
            r.Pid = e.Pid;
            r.Interface = e.Interface;
            // Up before the other links launched (or an adopted one): it must not wait to be enslaved.
            StartEql();
            _eql.Tell(e);
            _health.Tell(e);
            // The link's address brought the kernel's peer route 10.0.2.2 dev pppN: it shadows the management route.
            _routes.Tell(new ReconcileRoutes(++_routesRequested));
        }));
        Receive<LinkDown>(e => Link(e, e.Link, r =>
        {
            var wasUp = r.Phase == LinkPhase.Up;
            r.Phase = e.Permanent ? LinkPhase.Stopping : LinkPhase.BackingOff;
            var (reason, cls) = e.Class == FailureClass.Hangup && r.DiagnosedReason is { } d ? d : (e.Reason, e.Class);
            r.LastError = reason;
            r.LastErrorAt = e.At;
            r.LastErrorClass = cls;
            // Routine retries are warnings, each distinct reason once per streak; a permanent one is logged as an error when parked.
            if (r.Logged.Add(e.Reason)) _log.Warning("Link {Link} down ({Class}): {Reason}", e.Link, e.Class, e.Reason);
            else _log.Debug("Link {Link} down again ({Class}): {Reason}", e.Link, e.Class, e.Reason);
            r.Failures[cls] = r.Failures.GetValueOrDefault(cls) + 1;
            ProbeRemoteOnce();
            // Only that the remote command ended: host_B's error file may have its own words. Read until it had
            // some, at most MaxDiagnoses times per streak (each read is an ssh session through the jump hosts).
            // Not when a link that was up hung up: its retry starts at once, and the read's two key exchanges would
            // compete with the retry's own (and, after the main slirp died, with every link's) for a slow host's
            // CPU. If host_B has something to say, the retry fails too and that failure is read.
            if (e.Class == FailureClass.Hangup && !wasUp && r.DiagnosedReason is null && r.Diagnoses < MaxDiagnoses)
            {
                r.Diagnoses++;
                _remote.Tell(new DiagnoseLink(e.Link));
            }
            _eql.Tell(e);
            _health.Tell(e);
            Launched(e.Link);
        }));
        Receive<LinkDiagnosed>(e => Link(e, e.Link, r =>
        {
            if (r.Phase == LinkPhase.Up) return;
            r.DiagnosedReason = (e.Reason, e.Class);
            r.LastError = e.Reason;
            r.LastErrorAt = e.At;
            r.LastErrorClass = e.Class;
            if (r.Logged.Add(e.Reason)) _log.Warning("Link {Link}: host_B says ({Class}): {Reason}", e.Link, e.Class, e.Reason);
        }));
        Receive<LinkParked>(e => Link(e, e.Link, r =>
        {
            r.Phase = LinkPhase.Parked;
            r.Pid = null;
            r.Interface = null;
            r.LastError = e.Reason;
            r.LastErrorAt = e.At;
            _health.Tell(e);
            Launched(e.Link);
        }));
        Receive<LinkStopped>(e => Link(e, e.Link, r =>
        {
            r.Phase = LinkPhase.Stopped;
            r.Pid = null;
            r.Interface = null;
            _health.Tell(e);
        }));
        Receive<RemotePreparationFailed>(Publish);
        Receive<EqlMasterUp>(e =>
        {
            Publish(e);
            if (!StartRoutes()) _routes.Tell(new ReconcileRoutes());
        });
        Receive<IBundleEvent>(Publish);
        Receive<EqlObserved>(m =>
        {
            _reconcilePasses++;
            _eqlView = m;
            _eqlSeenSinceStall = true;
            StartRoutes();
            EvaluateReadiness();
        });
        Receive<RoutesObserved>(m =>
        {
            _reconcilePasses++;
            _routesView = m;
            _routesSeenSinceStall = true;
            EvaluateReadiness();
        });
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void Publish(IBundleEvent e)
    {
        if (e is UploadRebalanced) _imbalancesHealed++;
        Context.System.EventStream.Publish(e);
    }

    private void Link(IBundleEvent e, int link, Action<LinkRecord> update)
    {
        if (_records.TryGetValue(link, out var record))
        {
            var phase = record.Phase;
            update(record);
            if (record.Phase != phase || record.LastChange is null) record.LastChange = e.At;
        }
        Publish(e);
    }

    private void Start(StartBundle start)
    {
        _tcpReorderingBefore = start.TcpReorderingBefore;
        _log.Info("Bundle {Bundle} starting with links {Links}", _ctx.Name, string.Join(",", _ctx.Config.EffectiveLinks));
        _phase = BundlePhase.Starting;
        _adoptedAny = false;
        _prepareRequested = false;
        _remotePrepared = false;
        _probeSent = false;
        _reported.Clear();
        _waiting.Clear();
        _launched.Clear();
        _eqlStarted = false;
        _routesStarted = false;
        Publish(new BundleStarting(_ctx.Name, Now));
        // The links first: the EQL and route actors' first passes follow once every pppd is launched (see
        // FirstPassesDelayMax), the routes after the EQL actor's pass brought the master up.
        _links.Tell(new StartLinks());
        _health.Tell(new ResumeProbes());
        Timers.StartSingleTimer("first-passes", new FirstPassesDue(), FirstPassesDelayMax);
        Become(Active);
    }

    /// <summary>A link's first attempt of this start launched (pppd started or adopted) or ended: once all did, the EQL pass.</summary>
    private void Launched(int link)
    {
        if (_eqlStarted || _phase is not (BundlePhase.Starting or BundlePhase.Running)) return;
        _launched.Add(link);
        if (_ctx.Config.EffectiveLinks.All(_launched.Contains)) StartEql();
    }

    private void StartEql()
    {
        if (_eqlStarted || _phase is not (BundlePhase.Starting or BundlePhase.Running)) return;
        _eqlStarted = true;
        Timers.Cancel("first-passes");
        _eql.Tell(new StartEql());
    }

    /// <summary>After the EQL actor's first pass (the routes go via its master): true if this sent the start.</summary>
    private bool StartRoutes()
    {
        if (!_eqlStarted || _routesStarted || _phase is not (BundlePhase.Starting or BundlePhase.Running)) return false;
        _routesStarted = true;
        _routes.Tell(new StartRoutes(_tcpReorderingBefore));
        return true;
    }

    /// <summary>A restarted child starts idle: give it what the running bundle had given its old instance.</summary>
    private void Reactivate(IActorRef child)
    {
        _log.Warning("Bundle {Bundle}: re-activating restarted {Child}", _ctx.Name, child.Path.Name);
        if (child.Equals(_eql))
        {
            if (!_eqlStarted) return; // its start is still to come (FirstPassesDelayMax), with every LinkUp kept
            _eql.Tell(new StartEql());
            foreach (var (link, r) in _records)
                if (r is { Phase: LinkPhase.Up, Pid: { } pid, Interface: { } ifname }) _eql.Tell(new LinkUp(_ctx.Name, link, pid, ifname, Now));
        }
        else if (child.Equals(_routes))
        {
            if (!_routesStarted) return;
            _routes.Tell(new StartRoutes(_tcpReorderingBefore));
            // the new instance knows no request: let its pass answer the last one, or readiness would wait for a LinkUp
            _routes.Tell(new ReconcileRoutes(_routesRequested));
        }
        else if (child.Equals(_health))
        {
            foreach (var (link, r) in _records)
                if (r is { Phase: LinkPhase.Up, Pid: { } pid, Interface: { } ifname }) _health.Tell(new LinkUp(_ctx.Name, link, pid, ifname, Now));
        }
        else if (child.Equals(_links)) _links.Tell(new StartLinks());
        else if (child.Equals(_remote) && _prepareRequested && !_remotePrepared) _remote.Tell(new PrepareRemote(KillStale: !_adoptedAny));
    }

    private void ReadyToStart(int link, IActorRef actor)
    {
        if (_records.TryGetValue(link, out var record)) record.Phase = LinkPhase.WaitingForGoAhead;
        _reported.Add(link);
        if (_remotePrepared)
        {
            actor.Tell(new StartLink(link));
            return;
        }
        _waiting[link] = actor;
        MaybePrepareRemote();
    }

    /// <summary>
    /// Once every link said whether it adopted a chain. With the unix-socket attach every link starts at once
    /// and its own ssh command prepares host_B (rc files; on a clean start unit 0 ends stale slirp processes and
    /// the other units wait for its socket: <see cref="StartLink.Generation"/>); slirp is probed afterwards, off
    /// the critical path. The TCP attach needs the password file written first, so there the preparation gates.
    /// </summary>
    private void MaybePrepareRemote()
    {
        if (_prepareRequested || !_ctx.Config.EffectiveLinks.All(_reported.Contains)) return;
        _prepareRequested = true;
        if (_ctx.Config.Remote.Attach == SlirpAttach.Tcp)
        {
            _remote.Tell(new PrepareRemote(KillStale: !_adoptedAny));
            return;
        }
        _remotePrepared = true;
        _phase = BundlePhase.Running;
        // Deterministic (virtual time in the simulation), distinct per start: no unit waits for an older main slirp.
        var generation = _adoptedAny ? null : Now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (link, actor) in _waiting) actor.Tell(new StartLink(link, generation));
        _waiting.Clear();
    }

    /// <summary>
    /// The probe of host_B's slirp (units, bookworm's select() bug, the patched build's features) once per start:
    /// after the bundle is ready or at the first link failure, so that its ssh session never competes with a start.
    /// </summary>
    private void ProbeRemoteOnce()
    {
        if (_probeSent || _ctx.Config.Remote.Attach == SlirpAttach.Tcp || _phase != BundlePhase.Running) return;
        _probeSent = true;
        _remote.Tell(new PrepareRemote(KillStale: false) { ProbeOnly = true });
    }

    private void RetryRemoteIfParked()
    {
        if (_prepareRequested && !_remotePrepared)
            _remote.Tell(new PrepareRemote(KillStale: !_adoptedAny));
    }

    private void EvaluateReadiness()
    {
        // Only on the way to ready: a pass that has not yet answered the last LinkUp is no news about a ready bundle.
        var missing = MissingPieces() ?? (!_ready && _routesView.Answers < _routesRequested ? "routes not yet checked since a link came up" : null);
        var ready = _phase == BundlePhase.Running && missing is null;
        if (ready == _ready) return;
        _ready = ready;
        if (ready)
        {
            _log.Info("Bundle {Bundle} ready: every link enslaved, every route present and none shadowed", _ctx.Name);
            ProbeRemoteOnce();
            Publish(new BundleReady(_ctx.Name, Now));
            if (_degradedSince is { } since)
            {
                var took = Now - since;
                _degradedSince = null;
                _recoveries++;
                _recoverySecondsTotal += took.TotalSeconds;
                _lastRecoverySeconds = took.TotalSeconds;
                for (var i = 0; i < _recoveryBuckets.Length; i++)
                    if (took.TotalSeconds <= BundleStats.RecoveryBucketBounds[i]) _recoveryBuckets[i]++;
                Publish(new BundleRecovered(_ctx.Name, took, Now));
            }
        }
        else if (_phase == BundlePhase.Running)
        {
            _degradedSince = Now;
            _log.Warning("Bundle {Bundle} degraded: {Reason}", _ctx.Name, missing);
            Publish(new BundleDegraded(_ctx.Name, missing!, Now));
        }
    }

    private string? MissingPieces()
    {
        if (!_eqlView.MasterUp) return "eql master down";
        var notEnslaved = _ctx.Config.EffectiveLinks.Where(l => !_eqlView.Enslaved.ContainsKey(l)).ToList();
        if (notEnslaved.Count > 0) return $"links {string.Join(",", notEnslaved)} not enslaved";
        if (_routesView.Missing.Count > 0) return $"routes missing: {string.Join(", ", _routesView.Missing)}";
        if (_routesView.Shadowing.Count > 0) return $"routes shadowed by {string.Join(", ", _routesView.Shadowing)}";
        return null;
    }

    private BundleStatus Status()
    {
        var links = _records.OrderBy(kv => kv.Key).Select(kv =>
        {
            var r = kv.Value;
            var enslaved = _eqlView.Enslaved.TryGetValue(kv.Key, out var slave) && slave == r.Interface;
            long tx = 0;
            double? share = null;
            if (r.Interface is { } ifname)
            {
                tx = _eqlView.TxBytes.GetValueOrDefault(ifname);
                share = _eqlView.Shares.TryGetValue(ifname, out var s) ? s : null;
            }
            return new LinkStatus(kv.Key, r.Phase, r.Pid, r.Interface, enslaved, Math.Max(0, r.Starts - 1), r.LastError, tx, share)
            {
                Failures = new Dictionary<string, long>(r.Failures),
                LastChange = r.LastChange,
                SecondsSinceChange = r.LastChange is { } changed ? Math.Max(0, (Now - changed).TotalSeconds) : null,
                Counters = r.Counters,
                Probe = r.Probe,
                LastErrorAt = r.LastErrorAt,
                LastErrorClass = r.LastErrorClass,
            };
        }).ToList();
        var routes = _desiredRoutes.Select(spec => new RouteStatus(spec, _routesView.Present.Contains(spec))).ToList();
        return new BundleStatus(_ctx.Name, _phase, _ready, links, new MasterStatus(_ctx.Config.Eql.Device, _eqlView.MasterUp), routes, _routesView.TcpReordering, Now)
        {
            Stats = new BundleStats(_reconcilePasses, _imbalancesHealed, _recoveries, _recoverySecondsTotal, _lastRecoverySeconds, _healthView?.RemoteLan, _healthView?.RemoteLanVerdict)
            {
                RecoveryBuckets = [.. _recoveryBuckets],
            },
        };
    }

    private void BeginStop(IActorRef requester)
    {
        _stopRequesters.Add(requester);
        _log.Info("Bundle {Bundle} stopping", _ctx.Name);
        _phase = BundlePhase.Stopping;
        _ready = false;
        _degradedSince = null;
        _waiting.Clear();
        _linksNotStopped = [];
        Timers.Cancel("first-passes");
        // The links go down on purpose from here: a probe failing now must not restart one (nor log an error).
        _health.Tell(new PauseProbes());
        Step(StopStep.Routes);
    }

    private IActorRef StepTarget(StopStep step) => step switch
    {
        StopStep.Routes => _routes,
        StopStep.Slaves or StopStep.Master => _eql,
        StopStep.Links => _links,
        _ => _remote,
    };

    private void Step(StopStep step)
    {
        object request = step switch
        {
            StopStep.Routes => new StopRoutes(),
            StopStep.Slaves => new ReleaseSlaves(),
            StopStep.Links => new StopLinks(),
            StopStep.Remote => new CleanRemote(),
            _ => new RemoveEqlMaster(),
        };
        StepTarget(step).Tell(request);
        Become(() => Stopping(step));
    }

    private void Finish()
    {
        _phase = BundlePhase.Stopped;
        var stopped = new BundleStopped(_ctx.Name, Now) { LinksNotStopped = _linksNotStopped };
        if (_linksNotStopped.Count > 0) _log.Error("Bundle {Bundle} stopped, but links {Links} did not confirm their stop", _ctx.Name, string.Join(",", _linksNotStopped));
        else _log.Info("Bundle {Bundle} stopped", _ctx.Name);
        Publish(stopped);
        foreach (var r in _stopRequesters) r.Tell(stopped);
        _stopRequesters.Clear();
        Become(StoppedState);
    }
}

using Akka.Actor;
using Akka.Event;
using EqlActors.Messages;
using EqlActors.Ports;

namespace EqlActors.Actors;

/// <summary>
/// Owns one link's pppd chain (pppd, its exec'd ssh, the slirp unit on host_B). Adopts a chain left running by an
/// earlier daemon, else asks the bundle for the go-ahead and starts one. Any failure stops the whole old chain
/// first (a surviving ssh keeps the remote unit attached and every new attach fails), then either reports
/// <see cref="LinkAttemptFailed"/> to its <see cref="LinkBackoff"/> and stops itself (the next attempt is a new actor),
/// or, for a permanent failure, parks until <see cref="RestartLink"/>. A <see cref="StopLink"/> ends the chain and
/// then the actor: it never terminates while a chain it started may still run, so its termination is the proof.
/// </summary>
public sealed class LinkActor : PortActor
{
    // What the chain and the kernel report may reach this actor after it ended (a stopped pppd's exit, its last lines,
    // an interface event in flight): expected, not lost, so never logged as dead letters.
    private sealed record PppExited(PppExit Exit) : IDeadLetterSuppression;
    private sealed record PppOutput(int Pid, string Line) : IDeadLetterSuppression;
    private sealed record PppInterfaceAssigned(int Pid, string Interface) : IDeadLetterSuppression;
    private sealed record InterfaceChanged(LinkChanged Change) : IDeadLetterSuppression;
    private sealed record UpTimedOut(int Pid);
    private sealed record ReconcileTick : ICoalesced;
    private sealed record ExitGraceOver(int Pid, string Reason);

    // The kernel reports the interface down, then gone, a moment before pppd's exit is seen: wait that long for
    // the better reason before blaming the interface.
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The chain's reports, told to the actor until it ends (<see cref="Close"/>); pppd's lines are logged even after:
    /// a stopped pppd's last words ("Terminating on signal 15") come when the actor that stopped it is gone.
    /// </summary>
    private sealed class EventsToActor(IActorRef self, ILoggingAdapter log) : IPppEvents
    {
        private volatile bool _closed;

        public void Close() => _closed = true;

        public void Exited(PppExit exit)
        {
            if (!_closed) self.Tell(new PppExited(exit));
        }

        public void InterfaceAssigned(int link, int pid, string ifname)
        {
            if (!_closed) self.Tell(new PppInterfaceAssigned(pid, ifname));
        }

        // pppd's own words ("Modem hangup", "LCP terminated by peer") are what an operator reads first. The logging
        // adapter publishes to the event stream, which is safe from the port's reader thread.
        public void Output(int link, int pid, string line)
        {
            log.Info("pppd link {Link} pid {Pid}: {PppdOutput}", link, pid, line);
            if (!_closed) self.Tell(new PppOutput(pid, line));
        }
    }

    private readonly BundleContext _ctx;
    private readonly int _link;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EventsToActor _events;
    private IDisposable? _subscription;
    private PppProcess? _process;
    private string? _interface;
    /// <summary>The ifindex <see cref="_interface"/> had when the link came up on it (0 until then).</summary>
    private int _interfaceIndex;
    private LinkPhase _phase = LinkPhase.Adopting;
    // The pppd was left by an earlier daemon: its output reaches nobody and its exit status is unknown.
    private bool _adopted;
    // An interface read is in flight / an event asked for another look meanwhile (CheckInterface).
    private bool _reading;
    private bool _readAgain;
    // This attempt's output (pppd's and, through it, ssh's stderr), bounded: the words that explain a failure.
    private readonly Queue<string> _lines = new();

    public LinkActor(BundleContext ctx, int link)
    {
        _ctx = ctx;
        _link = link;
        _events = new EventsToActor(Self, _log);
        Become(Adopting);
    }

    public static Props Props(BundleContext ctx, int link) => ctx.Apply(Akka.Actor.Props.Create(() => new LinkActor(ctx, link)));

    private PppLaunch Launch => new(_link, _ctx.Config);

    // Longer than the link supervisor's bound on a stop (twice the grace plus 10 s), so that a chain whose end is
    // not confirmed is named there; past this the actor gives up on it too.
    private TimeSpan StopTimeout => _ctx.Config.Supervision.StopGrace * 2 + TimeSpan.FromSeconds(20);

    protected override void PreStart()
    {
        var self = Self;
        _subscription = _ctx.Ports.Links.Subscribe(change => self.Tell(new InterfaceChanged(change)));
        Timers.StartPeriodicTimer("reconcile", new ReconcileTick(), _ctx.Config.Supervision.ReconcileInterval);
        RunPort(ct => _ctx.Ports.Ppp.AdoptAsync(Launch, _events, ct), Adopted, ex =>
        {
            _log.Warning("Link {Link}: looking for a pppd to adopt failed: {Reason}", _link, ex.Message);
            AskForGoAhead();
        });
    }

    protected override void PostStop()
    {
        _events.Close();
        _subscription?.Dispose();
    }

    /// <summary>
    /// Every link hears every interface's events (another link's ppp, or any before this one has an interface), and
    /// its reconcile tick fires in states with nothing to reconcile (waiting for the go-ahead, parked): hints for
    /// nobody here, not lost messages. Counted as unhandled, each was a dead-letter log line at every start.
    /// </summary>
    protected override void Unhandled(object message)
    {
        if (message is InterfaceChanged or ReconcileTick) return;
        base.Unhandled(message);
    }

    private void Adopting()
    {
        HandleStop();
    }

    private void Adopted(PppProcess? process)
    {
        if (process is null)
        {
            AskForGoAhead();
            return;
        }
        _process = process;
        _interface = process.Interface;
        _adopted = true;
        _log.Info("Link {Link}: adopted pppd {Pid} on {Interface}", _link, process.Pid, process.Interface ?? "(no interface yet)");
        _ctx.Bundle.Tell(new LinkAdopted(_ctx.Name, _link, process.Pid, process.Interface, Now));
        EnterStarting(process);
        CheckInterface();
    }

    private void AskForGoAhead()
    {
        _phase = LinkPhase.WaitingForGoAhead;
        _ctx.Bundle.Tell(new LinkReadyToStart(_link));
        Become(() =>
        {
            Receive<StartLink>(m => StartPppd(m.Generation));
            HandleStop();
        });
    }

    private void StartPppd(string? generation)
    {
        _phase = LinkPhase.Starting;
        _adopted = false;
        _lines.Clear();
        var launch = Launch with { Generation = generation };
        if (generation is not null)
        {
            // A clean start (nothing adopted): a master left by an earlier daemon belongs to no chain of this one.
            EndConnection(() => RunStart(launch));
            return;
        }
        RunStart(launch);
    }

    private void RunStart(PppLaunch launch)
    {
        RunPort(ct => _ctx.Ports.Ppp.StartAsync(launch, _events, ct), process =>
        {
            _log.Info("Link {Link}: pppd {Pid} started", _link, process.Pid);
            _ctx.Bundle.Tell(new LinkStarting(_ctx.Name, _link, process.Pid, Now));
            EnterStarting(process);
            // A chain the host launched before this actor existed (PrelaunchedPpp) may have its interface up already,
            // before this actor subscribed to interface events: look once, as for an adopted chain.
            _interface = process.Interface;
            CheckInterface();
        }, ex => Fail($"pppd could not be started: {ex.Message}", ex is PortException { Kind: FailureKind.Permanent }, FailureClass.StartFailed));
    }

    private void HandleOutput()
    {
        Receive<PppOutput>(m => m.Pid == _process?.Pid, m =>
        {
            var line = FailureReasons.Bound(Redact(m.Line));
            if (line.Length == 0) return;
            _lines.Enqueue(line);
            while (_lines.Count > FailureReasons.MaxLines) _lines.Dequeue();
            if (line == ModemHangup) FailOnHangup();
        });
    }

    /// <summary>pppd's notice that its pty command closed the line: pppd is ending and will exit 16.</summary>
    public const string ModemHangup = "Modem hangup";

    /// <summary>
    /// pppd said "Modem hangup": its pty command (ssh, and through it slirp) has ended, so this attempt is over. pppd
    /// itself lingers a while longer (ip-down and its child wait: seconds in the guest), and the interface's "down"
    /// would only fail the link after <see cref="ExitGrace"/> with a vaguer reason; neither is waited for. Every line
    /// that explains the hangup (ssh's stderr, a hop's error) came before it on the same pipe (pppd gives its pty
    /// command its own log descriptor as stderr), so the reason is as good as the exit's (docs/facts.md, "Restarting
    /// one link").
    /// </summary>
    private void FailOnHangup()
    {
        if (_phase is not (LinkPhase.Starting or LinkPhase.Up)) return;
        var meaning = PppExitCodes.Explain(PppExitCodes.Hangup);
        Fail(Explain($"{meaning.Reason} (pppd: \"{ModemHangup}\")", meaning.Permanent, FailureClass.Hangup));
    }

    /// <summary>The TCP attach password never reaches a reason, whatever a remote or a hop echoes.</summary>
    private string Redact(string line) =>
        _ctx.Config.Remote.TcpPassword is { Length: > 0 } pw ? line.Replace(pw, "***", StringComparison.Ordinal) : line;

    /// <summary>The failure in the words of the attempt's output when they say more than <paramref name="fallback"/>.</summary>
    private LinkFailure Explain(string fallback, bool permanent, string cls)
    {
        if (FailureReasons.Explain([.. _lines], _ctx.Config.Remote) is { } f) return f;
        return new LinkFailure(fallback, permanent, cls);
    }

    private void EnterStarting(PppProcess process)
    {
        _process = process;
        _phase = LinkPhase.Starting;
        Timers.StartSingleTimer("up-timeout", new UpTimedOut(process.Pid), _ctx.Config.Supervision.LinkUpTimeout);
        Become(() =>
        {
            Receive<PppInterfaceAssigned>(m => m.Pid == _process?.Pid, m =>
            {
                _interface = m.Interface;
                CheckInterface();
            });
            // An event is only a hint that something changed: it may be late or overtaken by a newer one.
            Receive<InterfaceChanged>(m => m.Change.Name == _interface, _ => CheckInterface());
            Receive<UpTimedOut>(m => m.Pid == _process?.Pid, _ =>
                Fail(Explain($"the link did not come up within {_ctx.Config.Supervision.LinkUpTimeout.TotalSeconds:0} s", false, FailureClass.UpTimeout)));
            Receive<ReconcileTick>(_ => CheckInterface());
            HandleOutput();
            HandleExit();
            HandleRecycle();
            HandleStop();
        });
    }

    private void EnterUp()
    {
        if (_process is not { } process || _interface is not { } ifname) return;
        _phase = LinkPhase.Up;
        Timers.Cancel("up-timeout");
        // What pppd said while negotiating does not explain a later failure: on a slow path it says "LCP: timeout
        // sending Config-Requests" and, being passive, goes on to come up; kept, that line named the main slirp's
        // death "the remote end never spoke PPP" in the guest (docs/benchmarks.md, "Link path").
        _lines.Clear();
        // Only a link that really came up earns a fresh backoff.
        Context.Parent.Tell(new ResetBackoff());
        _log.Info("Link {Link} up on {Interface} (pppd {Pid})", _link, ifname, process.Pid);
        _ctx.Bundle.Tell(new LinkUp(_ctx.Name, _link, process.Pid, ifname, Now));
        Become(() =>
        {
            Receive<InterfaceChanged>(m => m.Change.Name == _interface && !(m.Change.Exists && m.Change.IsUp), m => OnDownEvent(m.Change));
            Receive<ExitGraceOver>(m => m.Pid == _process?.Pid, m => ConfirmDown(m.Reason));
            Receive<ReconcileTick>(_ => CheckInterface());
            HandleOutput();
            HandleExit();
            HandleRecycle();
            HandleStop();
        });
    }

    /// <summary>
    /// Reconciliation: ask the kernel instead of trusting that no event was missed. A read, not an effect: pppd's lines
    /// and exit are handled while it is in flight. The read (RTM_GETLINK, under the kernel's RTNL, on a port thread)
    /// can take seconds in a slow guest while every pppN goes down at once; held back behind it, pppd's "Modem
    /// hangup" failed the link only when it returned (docs/benchmarks.md, "Start order and hangup to failure"). One
    /// read at a time: events that come meanwhile ask for one more look after it.
    /// </summary>
    private void CheckInterface()
    {
        if (_interface is not { } ifname) return;
        if (_reading)
        {
            _readAgain = true;
            return;
        }
        _reading = true;
        RunRead(ct => _ctx.Ports.Links.GetAsync(ifname, ct), state =>
        {
            Judge(ifname, state.Exists, state.IsUp, state.Index);
            ReadAgainIfAsked();
        }, ex =>
        {
            _log.Debug("Link {Link}: reading {Interface} failed: {Reason}", _link, ifname, ex.Message);
            ReadAgainIfAsked();
        });
    }

    /// <summary>The interface as a read or an event of its own saw it: <paramref name="index"/> is its ifindex (0: unknown).</summary>
    private void Judge(string ifname, bool exists, bool isUp, int index)
    {
        if (ifname != _interface) return;
        var up = exists && isUp;
        if (up && _phase == LinkPhase.Starting)
        {
            _interfaceIndex = index;
            EnterUp();
        }
        else if (!up && _phase == LinkPhase.Up) AwaitExitOrFail(exists ? $"{ifname} went down while pppd kept running" : $"{ifname} vanished");
    }

    /// <summary>
    /// An event says the link's interface is down or gone. One about the very interface the link came up on (same
    /// ifindex) is taken as it says: after the main slirp died, the read that would confirm it waited 0.8-1.5 s for the
    /// kernel's RTNL while every pppN went down at once in the guest. Any other (no index, or the index of a previous
    /// chain's interface of the same name, whose late "down" must not fail a healthy link) is judged against the
    /// interface as it is now. A non-adopted link still waits <see cref="ExitGrace"/> and reads again before it fails.
    /// </summary>
    private void OnDownEvent(LinkChanged change)
    {
        if (_interface is not { } ifname) return;
        if (change.Index != 0 && change.Index == _interfaceIndex)
            Judge(ifname, change.Exists, change.IsUp, change.Index);
        else CheckInterface();
    }

    private void ReadAgainIfAsked()
    {
        _reading = false;
        if (!_readAgain || _phase is not (LinkPhase.Starting or LinkPhase.Up)) return;
        _readAgain = false;
        CheckInterface();
    }

    /// <summary>
    /// Down or gone: pppd's exit, if it is ending, comes within the grace and gives the real reason. An adopted pppd's
    /// exit gives none (its status is unknown, its words unread), so its link fails at once: after the main slirp's
    /// death the adopted pppd linger in ip-down for seconds (docs/benchmarks.md, "A restart after a failure").
    /// </summary>
    private void AwaitExitOrFail(string reason)
    {
        if (_process is not { } process || Timers.IsTimerActive("exit-grace")) return;
        if (_adopted)
        {
            Fail(Explain(reason, false, FailureClass.InterfaceDown));
            return;
        }
        Timers.StartSingleTimer("exit-grace", new ExitGraceOver(process.Pid, reason), ExitGrace);
    }

    /// <summary>No exit within the grace: fail only if the interface is still not up (it may have come back).</summary>
    private void ConfirmDown(string reason)
    {
        if (_interface is not { } ifname) return;
        // A read too: pppd's hangup or exit, coming meanwhile, fails the link with its better reason at once.
        RunRead(ct => _ctx.Ports.Links.GetAsync(ifname, ct), state =>
        {
            if (ifname != _interface || _phase != LinkPhase.Up) return;
            if (state.Exists && state.IsUp) _log.Info("Link {Link}: {Interface} is up again", _link, ifname);
            else Fail(Explain(reason, false, FailureClass.InterfaceDown));
        }, ex =>
        {
            if (ifname == _interface && _phase == LinkPhase.Up) Fail(Explain(reason, false, FailureClass.InterfaceDown));
        });
    }

    private void HandleExit()
    {
        Receive<PppExited>(m => m.Exit.Pid == _process?.Pid, m =>
        {
            var cls = FailureClass.OfExitCode(m.Exit.ExitCode);
            var f = Explain($"{m.Exit.Reason} (pppd exit {m.Exit.ExitCode})", m.Exit.Kind == FailureKind.Permanent, cls);
            Fail(f with { Reason = f.Class == cls ? f.Reason : $"{f.Reason} (pppd exit {m.Exit.ExitCode})" });
        });
    }

    /// <summary>A restart asked for by the operator or the health probe: a transient failure with that reason.</summary>
    private void HandleRecycle()
    {
        Receive<RecycleLink>(m => m.Link == _link, m => Fail(m.Reason, false, FailureClass.Of(m.Reason)));
    }

    private void HandleStop()
    {
        Receive<StopLink>(_ => StopForGood());
    }

    private void Fail(string reason, bool permanent, string cls = FailureClass.Other) => Fail(new LinkFailure(reason, permanent, cls));

    private void Fail(LinkFailure failure)
    {
        var (reason, permanent) = (failure.Reason, failure.Permanent);
        var fate = ConnectionReuse.Decide(_phase == LinkPhase.Up, failure.Class, permanent, _adopted);
        _phase = LinkPhase.Stopping;
        Timers.Cancel("up-timeout");
        Timers.Cancel("exit-grace");
        // Logged by the bundle, once per distinct reason in a streak of failures (this actor lives one attempt).
        _log.Debug("Link {Link} down: {Reason}", _link, reason);
        var failedAt = Now;
        _ctx.Bundle.Tell(new LinkDown(_ctx.Name, _link, reason, permanent, failedAt) { Class = failure.Class });
        var checkConnection = fate == ConnectionFate.KeepIfItAnswers && _ctx.Config.Remote.ReuseConnection;
        StopChain(checkConnection, check => AfterStop(fate, check, () =>
        {
            if (!permanent)
            {
                // Not an exception: a stop request waiting in the stash must not be mistaken for a crash, and the
                // supervisor learns the reason. Whatever is stashed goes with the actor; the supervisor knows.
                Context.Parent.Tell(new LinkAttemptFailed(_link, reason, failure.Class) { FailedAt = failedAt });
                Context.Stop(Self);
                return;
            }
            _phase = LinkPhase.Parked;
            _log.Error("Link {Link} parked until its configuration changes or it is restarted: {Reason}", _link, reason);
            _ctx.Bundle.Tell(new LinkParked(_ctx.Name, _link, reason, Now));
            Become(() =>
            {
                Receive<RestartLink>(_ => AskForGoAhead());
                Receive<RecycleLink>(_ => AskForGoAhead());
                HandleStop();
            });
        }));
    }

    /// <summary>
    /// After a failed attempt's chain is gone: its ssh master stays for the next attempt or is ended (<see cref="ConnectionReuse"/>).
    /// <paramref name="check"/> is what the master said while the chain stopped, when its fate hangs on that.
    /// </summary>
    private void AfterStop(ConnectionFate fate, ConnectionCheck? check, Action then)
    {
        if (!_ctx.Config.Remote.ReuseConnection)
        {
            then();
            return;
        }
        switch (fate)
        {
            case ConnectionFate.Keep:
                _log.Debug("Link {Link}: keeping its ssh connection for the next attempt", _link);
                then();
                return;
            case ConnectionFate.KeepIfItAnswers when check is { Answers: true }:
                _log.Info("Link {Link}: its ssh connection answers: kept for the next attempt", _link);
                then();
                return;
            case ConnectionFate.KeepIfItAnswers when check is { Answers: false }:
                _log.Info("Link {Link}: its ssh connection does not answer (gone or frozen): the next attempt connects afresh", _link);
                EndConnection(then);
                return;
            case ConnectionFate.KeepIfItAnswers:
                _log.Info("Link {Link}: checking its ssh connection failed ({Reason}): the next attempt connects afresh", _link, check?.Error ?? "not asked");
                EndConnection(then);
                return;
            default:
                EndConnection(then);
                return;
        }
    }

    /// <summary>What the kept ssh connection said to the alive check: <see cref="Answers"/> null when the check itself failed.</summary>
    private readonly record struct ConnectionCheck(bool? Answers, string? Error);

    /// <summary>Ends the link's kept ssh connection (a no-op when there is none), then goes on whatever the outcome.</summary>
    private void EndConnection(Action then)
    {
        RunPort(ct => _ctx.Ports.Ppp.EndConnectionAsync(Launch, ct), then, ex =>
        {
            _log.Warning("Link {Link}: ending its ssh connection failed: {Reason}", _link, ex.Message);
            then();
        }, StopTimeout);
    }

    /// <summary>Ends the whole chain, even when pppd already exited: its ssh may still hold the remote unit.</summary>
    private void StopChain(Action then) => StopChain(false, _ => then());

    /// <summary>
    /// Ends the whole chain and, when <paramref name="checkConnection"/>, asks the link's kept ssh connection meanwhile
    /// whether it answers. The stop spares the master, so the two are independent: one after the other, the check
    /// (0.15-0.35 s in the guest) came on top of every restart after a failure that names no culprit, the links a
    /// restarted daemon adopted among them. A failed stop is logged and the link goes on, as the chain is forgotten.
    /// </summary>
    private void StopChain(bool checkConnection, Action<ConnectionCheck?> then)
    {
        var process = _process;
        if (process is null && !checkConnection)
        {
            then(null);
            return;
        }
        var (ppp, launch, grace) = (_ctx.Ports.Ppp, Launch, _ctx.Config.Supervision.StopGrace);
        RunPort(async ct =>
        {
            var check = checkConnection ? Check(ct) : null;
            string? stopFailed = null;
            if (process is not null)
            {
                try { await ppp.StopAsync(process, grace, ct).ConfigureAwait(false); }
                catch (Exception e) { stopFailed = e.Message; }
            }
            return (StopFailed: stopFailed, Check: check is null ? (ConnectionCheck?)null : await check.ConfigureAwait(false));
        }, done =>
        {
            if (done.StopFailed is { } reason) _log.Warning("Link {Link}: stopping pppd {Pid} failed: {Reason}", _link, process!.Pid, reason);
            Forget();
            then(done.Check);
        }, ex =>
        {
            if (process is not null) _log.Warning("Link {Link}: stopping pppd {Pid} failed: {Reason}", _link, process.Pid, ex.Message);
            Forget();
            then(checkConnection ? new ConnectionCheck(null, ex.Message) : null);
        }, StopTimeout);

        // Bounded twice: the check gives up after its own timeout, the effect's limit covers a stuck port.
        async Task<ConnectionCheck> Check(CancellationToken ct)
        {
            try { return new ConnectionCheck(await ppp.ConnectionAnswersAsync(launch, ConnectionReuse.CheckTimeout, ct).ConfigureAwait(false), null); }
            catch (Exception e) { return new ConnectionCheck(null, e.Message); }
        }
    }

    private void Forget()
    {
        _process = null;
        _interface = null;
        _interfaceIndex = 0;
    }

    private void StopForGood()
    {
        Timers.CancelAll();
        _phase = LinkPhase.Stopping;
        // The link is stopped for good: nothing may outlive it, its ssh master included.
        StopChain(() => EndConnection(() =>
        {
            _phase = LinkPhase.Stopped;
            _ctx.Bundle.Tell(new LinkStopped(_ctx.Name, _link, Now));
            Context.Stop(Self);
        }));
    }
}

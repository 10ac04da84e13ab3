using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Hosting;
using EqlActors.Actors;
using EqlActors.Host.Hosting;
using EqlActors.Messages;
using EqlActors.Simulation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EqlActors.Host.Control;

/// <summary>
/// Serves the control socket: accepts connections, refuses peers that are neither root nor the daemon's user
/// (SO_PEERCRED), and answers newline-delimited JSON requests (<see cref="ControlProtocol"/>).
/// Registered after the bundle service, so it is stopped (and the socket file removed) first at shutdown.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ControlServer(
    ControlListener listener,
    IRequiredActor<BundleActor> bundleRef,
    IRequiredActor<ProgressJournal> journalRef,
    DaemonState state,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<ControlServer> log) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _acceptLoop;
    private IActorRef _bundle = ActorRefs.Nobody;
    private IActorRef _journal = ActorRefs.Nobody;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _bundle = await bundleRef.GetAsync(cancellationToken);
        _journal = await journalRef.GetAsync(cancellationToken);
        _acceptLoop = Task.Run(AcceptLoop, CancellationToken.None);
        var systemd = SystemdStatus.Create(services);
        lifetime.ApplicationStarted.Register(() =>
        {
            systemd.Ready("serving " + listener.Path);
            state.Served.TrySetResult();
        });
        log.LogInformation("Control socket {SocketPath} serving", listener.Path);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        listener.Dispose(); // closes the socket and removes its file
        if (_acceptLoop is not null) await _acceptLoop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.Socket.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                log.LogWarning("Control socket accept failed: {Reason}", ex.Message);
                continue;
            }
            // A cap on concurrent clients: thousands of idle connections must not pile up tasks and buffers.
            if (Interlocked.Increment(ref _clients) > MaxClients)
            {
                Interlocked.Decrement(ref _clients);
                _ = Task.Run(() => Refuse(connection));
                continue;
            }
            _ = Task.Run(async () =>
            {
                try { await Serve(connection); }
                finally { Interlocked.Decrement(ref _clients); }
            });
        }
    }

    /// <summary>Most clients served at once; the next one is told "busy" and disconnected.</summary>
    public const int MaxClients = 32;

    /// <summary>How long a connection may stay silent while a request line is expected.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private int _clients;
    private int _refusedLogged;

    private async Task Refuse(Socket connection)
    {
        using var _ = connection;
        // Logged once per burst, not once per connection: a flood must not flood the journal too.
        if (Interlocked.Exchange(ref _refusedLogged, 1) == 0)
            log.LogWarning("Control socket: more than {MaxClients} clients at once; refusing new ones until some leave", MaxClients);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var line = Encoding.UTF8.GetBytes(ControlProtocol.Serialize(ControlResponse.Error("busy", $"the daemon serves at most {MaxClients} clients at once; try again")) + "\n");
            await connection.SendAsync(line, SocketFlags.None, cts.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private async Task Serve(Socket connection)
    {
        using var _ = connection;
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        try
        {
            var (pid, uid, _) = ControlSocket.PeerCredentials(connection);
            if (!ControlSocket.IsAllowed(uid))
            {
                log.LogWarning("Control connection from pid {PeerPid} uid {PeerUid} refused: root only", pid, uid);
                await Send(writer, ControlResponse.Error("forbidden", "permission denied: the control socket accepts root only (run as root)"));
                return;
            }
            using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 1024, leaveOpen: true);
            while (!_stopping.IsCancellationRequested)
            {
                string? line;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
                {
                    idle.CancelAfter(IdleTimeout);
                    try { line = await ReadLine(reader, idle.Token); }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                    {
                        log.LogDebug("Control connection from pid {PeerPid} closed: no complete request within {Seconds} s", pid, IdleTimeout.TotalSeconds);
                        return;
                    }
                    catch (IOException ex) when (ex.Message == TooLong)
                    {
                        await Send(writer, ControlResponse.Error("bad-request", $"a request line is at most {ControlProtocol.MaxRequestBytes} characters"));
                        return;
                    }
                }
                if (line is null) return;
                if (line.Length == 0) continue;
                ControlRequest? request;
                try { request = ControlProtocol.Deserialize<ControlRequest>(line); }
                catch (System.Text.Json.JsonException ex)
                {
                    await Send(writer, ControlResponse.Error("bad-request", "not a JSON request: " + ex.Message));
                    return;
                }
                if (request?.Request is null)
                {
                    await Send(writer, ControlResponse.Error("bad-request", "a request needs a \"request\" field"));
                    return;
                }
                log.LogDebug("Control request {Request} from pid {PeerPid} uid {PeerUid}", request.Request, pid, uid);
                if (!await Handle(request, writer)) return;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            log.LogDebug("Control connection closed: {Reason}", ex.Message);
        }
    }

    private const string TooLong = "request line too long";

    /// <summary>Reads one line of at most <see cref="ControlProtocol.MaxRequestBytes"/> characters; null at EOF.</summary>
    private static async Task<string?> ReadLine(StreamReader reader, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var buffer = new char[1];
        while (true)
        {
            var n = await reader.ReadAsync(buffer.AsMemory(), ct);
            if (n == 0) return sb.Length == 0 ? null : sb.ToString();
            if (buffer[0] == '\n') return sb.ToString().TrimEnd('\r');
            if (sb.Length >= ControlProtocol.MaxRequestBytes) throw new IOException(TooLong);
            sb.Append(buffer[0]);
        }
    }

    private static Task Send(StreamWriter writer, ControlResponse response) => writer.WriteLineAsync(ControlProtocol.Serialize(response));

    private DaemonInfo Info => new(Environment.ProcessId, Cli.EqlActorsCli.Version, state.Simulated, listener.Path, state.StartedAt);

    private int Configured => state.Config.EffectiveLinks.Length;

    private async Task<StatusView> Status() =>
        StatusView.From(await _bundle.Ask<BundleStatus>(new GetBundleStatus(), TimeSpan.FromSeconds(10)), Configured);

    /// <summary>Handles one request; false closes the connection.</summary>
    private async Task<bool> Handle(ControlRequest request, StreamWriter writer)
    {
        switch (request.Request)
        {
            case Requests.Hello:
                await Send(writer, new ControlResponse("hello") { Daemon = Info });
                return true;
            case Requests.Status:
                await Send(writer, new ControlResponse("status") { Daemon = Info, Status = await Status() });
                return true;
            case Requests.Start:
                await Start(request, writer);
                return true;
            case Requests.Stop:
                await Stop(writer);
                return false;
            case Requests.RestartLink:
                if (request.Link is not { } link || !state.Config.EffectiveLinks.Contains(link))
                {
                    await Send(writer, ControlResponse.Error("bad-request", $"restart-link needs \"link\": one of {string.Join(", ", state.Config.EffectiveLinks)}"));
                    return true;
                }
                await Send(writer, await RestartLink(link));
                return true;
            case Requests.RestartParked:
                var parked = (await Status()).Links.Where(l => l.Phase == LinkPhase.Parked).Select(l => l.Link).ToList();
                log.LogInformation("Control: restart parked links {Links}", string.Join(",", parked));
                _bundle.Tell(new RestartParkedLinks());
                await Send(writer, new ControlResponse("ok")
                {
                    Message = parked.Count == 0 ? "no link is parked" : $"parked links {string.Join(",", parked)} restarting",
                });
                return true;
            case Requests.SimulateFault:
                await Send(writer, SimulateFault(request));
                return true;
            default:
                await Send(writer, ControlResponse.Error("unknown-request", $"unknown request \"{request.Request}\""));
                return true;
        }
    }

    /// <summary>
    /// A parked link is woken (<see cref="Messages.RestartLink"/>); a running one has its chain stopped and started
    /// again (<see cref="RecycleLink"/>, counted as an <c>operator</c> failure); one between two attempts is already
    /// restarting; a stopping or stopped bundle restarts nothing.
    /// </summary>
    private async Task<ControlResponse> RestartLink(int link)
    {
        var status = await Status();
        if (status.Phase is not (BundlePhase.Starting or BundlePhase.Running))
            return ControlResponse.Error("not-running", $"the bundle is {status.Phase.ToString().ToLowerInvariant()}: nothing to restart");
        var phase = status.Links.FirstOrDefault(l => l.Link == link)?.Phase;
        switch (phase)
        {
            case null or LinkPhase.Parked:
                log.LogInformation("Control: restart parked link {Link}", link);
                _bundle.Tell(new RestartLink(link));
                return new ControlResponse("ok") { Message = $"link {link} restarting (it was parked)" };
            case LinkPhase.Starting or LinkPhase.Up:
                log.LogInformation("Control: restart running link {Link}", link);
                _bundle.Tell(new RecycleLink(link, FailureClass.OperatorReason));
                return new ControlResponse("ok") { Message = $"link {link} restarting (its chain is stopped and started again)" };
            default:
                return new ControlResponse("ok") { Message = $"link {link} is {Kebab(phase.Value)}: it is restarting already" };
        }
    }

    private static string Kebab(LinkPhase phase) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(phase.ToString());

    /// <summary>
    /// Brings the bundle up (a no-op if it is already starting or running) and streams its events until it is
    /// ready or the timeout passes. Attaches to the journal before asking for the status, so no event is lost;
    /// events from before the request (a daemon just spawned by <c>eqlactors start</c>) are replayed first, but
    /// only a new <c>BundleReady</c> or the current status counts as ready.
    /// </summary>
    private async Task Start(ControlRequest request, StreamWriter writer)
    {
        var timeout = TimeSpan.FromSeconds(Math.Clamp(request.TimeoutSeconds ?? 120, 1, 3600));
        var events = Channel.CreateUnbounded<JournalEntry>();
        await _journal.Ask<ProgressJournal.Attached>(new ProgressJournal.Attach(events.Writer), TimeSpan.FromSeconds(10));
        try
        {
            log.LogInformation("Control: start (waiting at most {Seconds} s for ready)", timeout.TotalSeconds);
            _bundle.Tell(new StartBundle());
            var status = await Status();
            if (status.Ready && status.Phase == BundlePhase.Running)
            {
                await Send(writer, new ControlResponse("ready") { Status = status, Message = "EQL ready" });
                return;
            }
            using var deadline = new CancellationTokenSource(timeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _stopping.Token);
            try
            {
                await foreach (var (e, replayed) in events.Reader.ReadAllAsync(linked.Token))
                {
                    await Send(writer, new ControlResponse("event") { Event = EventView.From(e) });
                    if (replayed) continue;
                    if (e is BundleReady)
                    {
                        await Send(writer, new ControlResponse("ready") { Status = await Status(), Message = "EQL ready" });
                        return;
                    }
                    if (e is BundleStopped)
                    {
                        await Send(writer, ControlResponse.Error("failed", "the bundle was stopped while starting"));
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                var now = await Status();
                var missing = now.Links.Where(l => !l.Enslaved).Select(l => l.LastError is null ? $"link {l.Link} {l.Phase.ToString().ToLowerInvariant()}" : $"link {l.Link}: {l.LastError}");
                await Send(writer, new ControlResponse("timeout")
                {
                    Status = now,
                    Message = $"not ready after {timeout.TotalSeconds:0} s ({now.Enslaved}/{now.Configured} links enslaved): {string.Join("; ", missing)}",
                });
            }
        }
        finally
        {
            _journal.Tell(new ProgressJournal.Detach(events.Writer));
        }
    }

    /// <summary>Tears the bundle down, answers once it is clean, then stops the daemon.</summary>
    private async Task Stop(StreamWriter writer)
    {
        log.LogInformation("Control: stop requested");
        try
        {
            var stopped = await _bundle.Ask<BundleStopped>(new StopBundle(), ServiceHost.TeardownTimeout);
            await Send(writer, new ControlResponse("stopped") { Daemon = Info, Message = EventView.StoppedMessage(stopped) });
        }
        catch (AskTimeoutException)
        {
            state.TeardownIncomplete = true;
            await Send(writer, ControlResponse.Error("failed", $"teardown did not finish within {ServiceHost.TeardownTimeout.TotalSeconds:0} s; the daemon exits anyway"));
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    /// <summary>The names <c>simulate-fault</c> accepts: every <see cref="FaultKind"/> and every <see cref="SimulatedCondition"/>.</summary>
    public static IReadOnlyList<string> SimulatedFaultNames => [.. Enum.GetNames<FaultKind>(), .. Enum.GetNames<SimulatedCondition>()];

    private ControlResponse SimulateFault(ControlRequest request)
    {
        if (state.Simulation is not { } sim)
            return ControlResponse.Error("bad-request", "simulate-fault works only on a daemon started with --simulated");
        var link = request.Link ?? state.Config.EffectiveLinks[0];
        if (Named<SimulatedCondition>(request.Fault) is { } condition)
        {
            log.LogWarning("Control: simulated condition {Condition} (link {Link})", condition, link);
            return sim.Apply(condition, link) is { } now ? new ControlResponse("ok") { Message = now } : ControlResponse.Error("failed", $"{condition} cannot be set now (link {link} not up?)");
        }
        if (Named<FaultKind>(request.Fault) is not { } kind)
            return ControlResponse.Error("bad-request", $"\"fault\" must be one of {string.Join(", ", SimulatedFaultNames)}");
        log.LogWarning("Control: injecting simulated fault {Fault} on link {Link}", kind, link);
        var done = sim.Inject(kind, link, route: Actors.DesiredRoutes.For(state.Config)[^1]);
        return done ? new ControlResponse("ok") { Message = $"{kind} injected" } : ControlResponse.Error("failed", $"{kind} could not be injected now (link {link} not running?)");
    }

    /// <summary>A value of <typeparamref name="T"/> by its name, any case; numbers and combinations are not names.</summary>
    private static T? Named<T>(string? name) where T : struct, Enum =>
        Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) is { } found ? Enum.Parse<T>(found) : null;
}

/// <summary>The bound control socket, created before the host so a second daemon fails before touching anything.</summary>
[SupportedOSPlatform("linux")]
public sealed class ControlListener(Socket socket, string path) : IDisposable
{
    private int _disposed;
    public Socket Socket { get; } = socket;
    public string Path { get; } = path;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Socket.Dispose();
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

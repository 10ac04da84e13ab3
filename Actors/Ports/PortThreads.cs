using System.Collections.Concurrent;

namespace EqlActors.Ports;

/// <summary>
/// A few dedicated threads for the Linux ports' calls. Several of them block behind their Task signature (a
/// netlink poll, a /proc scan, sysctl file IO, joining a reader thread): on these threads they never hold up an
/// actor or a thread of Akka's default dispatcher (the .NET pool), and a slow call cannot starve the others' timers.
/// </summary>
public sealed class PortThreads : TaskScheduler, IDisposable
{
    public const string ThreadNamePrefix = "eqlactors-port-";

    /// <summary>The process's one set: background threads for its lifetime, however many bundles there are.</summary>
    public static PortThreads Shared => SharedThreads.Value;

    private static readonly Lazy<PortThreads> SharedThreads = new(() => new PortThreads());

    /// <summary>
    /// The process's set for the pppd port (chains' starts and stops, their ssh masters): its calls read /proc and
    /// start processes, and must not queue behind the netlink and ioctl calls that wait for the kernel's RTNL. After
    /// the main slirp died every pppN went down at once, the EQL and route actors' calls held all of the shared
    /// threads for up to a second, and the three links' stops started 0.2-0.6 s late in the guest.
    /// </summary>
    public static PortThreads Processes => ProcessThreads.Value;

    private static readonly Lazy<PortThreads> ProcessThreads = new(() => new PortThreads(lane: "ppp-"));

    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread[] _threads;

    /// <param name="lane">Inserted in the threads' names after <see cref="ThreadNamePrefix"/>: which set a thread is of.</param>
    public PortThreads(int threads = 4, string lane = "")
    {
        _threads = [.. Enumerable.Range(0, threads).Select(i => new Thread(Work) { IsBackground = true, Name = $"{ThreadNamePrefix}{lane}{i}" })];
        foreach (var t in _threads) t.Start();
    }

    /// <summary>True on one of these threads (tests assert it inside port calls).</summary>
    public static bool OnPortThread => Thread.CurrentThread.Name?.StartsWith(ThreadNamePrefix, StringComparison.Ordinal) == true;

    public override int MaximumConcurrencyLevel => _threads.Length;

    private void Work()
    {
        foreach (var task in _queue.GetConsumingEnumerable()) TryExecuteTask(task);
    }

    protected override void QueueTask(Task task) => _queue.Add(task);

    // A task queued here runs here: never inline on whatever thread happens to wait for it.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => OnPortThread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _queue];

    /// <summary>Runs <paramref name="call"/> on a port thread; the returned task completes when the call's task does.</summary>
    public Task<T> Run<T>(Func<Task<T>> call) => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    public Task Run(Func<Task> call) => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    public void Dispose() => _queue.CompleteAdding();
}

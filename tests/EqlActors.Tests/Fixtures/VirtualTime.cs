using Akka.Actor;

namespace EqlActors.Tests.Fixtures;

/// <summary>Work a test fake schedules at a point of the simulation's virtual time.</summary>
public static class VirtualTime
{
    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="delay"/> of virtual time from now, without the caller's
    /// SynchronizationContext (the TestKit installs its own again with every new probe). .NET runs an awaiting port
    /// call's continuation inline only where there is none; elsewhere it goes to the thread pool and the actor goes on
    /// there, outside virtual time, while the test moves the clock on (the suite failed once so: a pppd start
    /// released at 8 s never reached its link within 30 s of virtual time, 14 ms of wall time).
    /// </summary>
    public static void Schedule(IScheduler clock, TimeSpan delay, Action action) =>
        clock.Advanced.ScheduleOnce(delay, () =>
        {
            var context = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(null);
            try
            {
                action();
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(context);
            }
        });
}

using System.Diagnostics;
using System.Runtime.Versioning;
using EqlActors.Messages;

namespace EqlActors.Bench;

/// <summary>
/// Goals 1-3 on this host with real processes (<see cref="HostHarness"/>): detection latency and recovery after a
/// stand-in pppd is terminated or its interface set down, a single link's cold bring-up, and N links in parallel.
/// </summary>
[SupportedOSPlatform("linux")]
public static class HostBench
{
    private const string B = "host";

    public static void Run(Report report, BenchOptions o)
    {
        report.Note($"host harness: load before {Machine.Load()}");
        using var h = new HostHarness();
        var fastUp = o.Quick ? 0.3 : 0.5;
        var trials = o.Trials ?? (o.Quick ? 10 : 50);

        // A single link's cold bring-up with the same stand-in delay as the fault trials: the recovery goal's yardstick.
        var cold = new List<double>();
        for (var i = 0; i < (o.Quick ? 3 : 10); i++)
        {
            var (bundle, _, ms) = h.StartBundle(1, fastUp);
            cold.Add(ms);
            if (!HostHarness.StopBundle(bundle)) report.Note("StopBundle did not answer within 30 s");
        }
        report.Add(B, $"1 link cold bring-up, stand-in up delay {fastUp} s: median", Stats.Median(cold), "ms", $"StartBundle -> BundleReady, n={cold.Count}");

        foreach (var kind in new[] { "pppd-exit", "iface-down" })
            Faults(report, h, kind, trials, fastUp, Stats.Median(cold));

        // Bring-up of N links in parallel with the guest's measured ~2 s from pppd start to link up.
        var n1 = new List<double>();
        var n3 = new List<double>();
        for (var i = 0; i < (o.Quick ? 2 : 5); i++)
        {
            foreach (var (n, list) in new[] { (1, n1), (3, n3) })
            {
                var (bundle, _, ms) = h.StartBundle(n, 2.0);
                list.Add(ms);
                if (!HostHarness.StopBundle(bundle)) report.Note("StopBundle did not answer within 30 s");
            }
        }
        var m1 = Stats.Median(n1);
        var m3 = Stats.Median(n3);
        report.Add(B, "bring-up 1 link (stand-in up after 2 s): median", m1, "ms", $"StartBundle -> BundleReady, n={n1.Count}");
        report.Add(B, "bring-up 3 links in parallel (up after 2 s each): median", m3, "ms", $"n={n3.Count}, alternated with the 1-link runs");
        report.Add(B, "bring-up 3 links / 1 link", m3 / m1, "x", "goal <= 1.5x");
        report.Add(B, "bring-up 3 links / (3 x 1 link)", m3 / (3 * m1), "x", "sequential start would be 1.0");
        report.Note($"host harness: load after {Machine.Load()}");
    }

    private static void Faults(Report report, HostHarness h, string kind, int trials, double upDelay, double coldMedian)
    {
        var (bundle, name, _) = h.StartBundle(1, upDelay);
        var ev = h.Events;
        var timeout = TimeSpan.FromSeconds(30);
        var up = ev.WaitFor<LinkUp>(0, e => e.Bundle == name && e.Link == 0, timeout, "LinkUp").Event;
        var (detect, down, released, recovery, relaunch, gap, inject) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var reasons = new Dictionary<string, int>();
        var random = new Random(7);
        for (var i = 0; i < trials; i++)
        {
            Thread.Sleep(150 + random.Next(250)); // let the last recovery settle; desynchronise from timers
            var t0 = Stopwatch.GetTimestamp();
            if (kind == "pppd-exit") HostHarness.Terminate(up.Pid);
            else h.SetDown(up.Interface);
            var injected = Stopwatch.GetTimestamp();
            var d = ev.WaitFor<LinkDown>(t0, e => e.Bundle == name && e.Link == 0, timeout, "LinkDown");
            var r = ev.WaitFor<SlaveReleased>(t0, e => e.Bundle == name && e.Link == 0, timeout, "SlaveReleased");
            var s = ev.WaitFor<LinkStarting>(t0, e => e.Bundle == name && e.Link == 0, timeout, "LinkStarting");
            var u = ev.WaitFor<LinkUp>(t0, e => e.Bundle == name && e.Link == 0, timeout, "LinkUp");
            var en = ev.WaitFor<SlaveEnslaved>(u.At, e => e.Bundle == name && e.Link == 0, timeout, "SlaveEnslaved");
            up = u.Event;
            inject.Add(EventLog.Ms(t0, injected));
            down.Add(EventLog.Ms(t0, d.At));
            released.Add(EventLog.Ms(t0, r.At));
            detect.Add(EventLog.Ms(t0, Math.Max(d.At, r.At)));
            recovery.Add(EventLog.Ms(t0, en.At));
            relaunch.Add(EventLog.Ms(s.At, en.At));
            gap.Add(EventLog.Ms(Math.Max(d.At, r.At), s.At));
            var reason = d.Event.Reason.Length > 60 ? d.Event.Reason[..60] : d.Event.Reason;
            reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        }
        if (!HostHarness.StopBundle(bundle)) report.Note("StopBundle did not answer within 30 s");

        var how = kind == "pppd-exit" ? "SIGTERM to the stand-in pppd (its veth goes, exit 5)" : "`ip -n NS link set pppN down` (t0 before ip is spawned)";
        report.Add(B, $"{kind}: detection (LinkDown and SlaveReleased) median", Stats.Median(detect), "ms", $"n={trials}; {how}");
        report.Add(B, $"{kind}: detection p95", Stats.Percentile(detect, 95), "ms", $"max {Stats.Percentile(detect, 100):0.0} ms");
        report.Add(B, $"{kind}: LinkDown published, median", Stats.Median(down), "ms", "");
        report.Add(B, $"{kind}: SlaveReleased published, median", Stats.Median(released), "ms", "");
        if (kind != "pppd-exit") report.Add(B, $"{kind}: fault injection itself (ip run), median", Stats.Median(inject), "ms", "included in the detection figures");
        report.Add(B, $"{kind}: recovery to SlaveEnslaved, median", Stats.Median(recovery), "ms", $"p95 {Stats.Percentile(recovery, 95):0} ms");
        report.Add(B, $"{kind}: released -> next pppd started (backoff), median", Stats.Median(gap), "ms", "configured first backoff 1 s x (1..1.2)");
        report.Add(B, $"{kind}: next pppd started -> enslaved, median", Stats.Median(relaunch), "ms", $"stand-in up delay {upDelay} s");
        report.Add(B, $"{kind}: recovery - cold bring-up (medians)", Stats.Median(recovery) - coldMedian, "ms", "goal <= first backoff (1000 ms, 1200 ms with randomFactor 0.2)");
        report.Note($"{kind} reasons: {string.Join("; ", reasons.Select(kv => $"{kv.Value}x \"{kv.Key}\""))}");
    }
}

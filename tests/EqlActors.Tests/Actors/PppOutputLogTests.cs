using Akka.Configuration;
using Akka.Event;
using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>pppd's own words ("Modem hangup") reach the log, tagged with the link and pid.</summary>
public class PppOutputLogTests() : BundleSpec(ConfigurationFactory.ParseString("akka.loglevel = INFO"))
{
    [Fact]
    public void What_pppd_says_reaches_the_log_with_its_link_and_pid()
    {
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs, typeof(Info));
        CreateBundle();
        AdvanceUntilHealthy();
        var pid = Sim.PppStarts.Last(s => s.Link == 1).Pid;

        Sim.InjectPppdExit(1, PppExitCodes.Hangup);
        AdvanceUntilHealthy();

        logs.FishForMessage<Info>(
            i => i.Message.ToString()!.Contains($"pppd link 1 pid {pid}:") && i.Message.ToString()!.Contains("hangup", StringComparison.OrdinalIgnoreCase),
            TimeSpan.FromSeconds(5));
    }
}

using System.CommandLine;
using EqlActors.Host.Doctor;
using EqlActors.Host.Hosting;

namespace EqlActors.Host.Cli;

/// <summary><c>eqlactors doctor [--json]</c>: every prerequisite of a real bundle, with a fix for each failure.</summary>
public static class DoctorCommand
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON on stdout" };
        var command = new Command("doctor",
            "Check every prerequisite of a real bundle and say how to fix each failure (exit 0: a start can proceed, 1: something blocks it, 2: invalid configuration)");
        command.Options.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            var config = ConfigCommand.LoadOrReport(parse);
            if (config is null) return EqlActorsCli.InvalidConfiguration;
            using var log = Logging.Create(Logging.ParseLevel(config.Control.LogLevel), config.Control.LogFile);
            var context = new DoctorContext(config, new LinuxLocalSystem(), new SshRemoteInspector(config));
            var report = await DoctorRunner.RunAsync(context, DoctorRunner.AllChecks(), log, ct);
            var output = parse.InvocationConfiguration.Output;
            output.Write(parse.GetValue(json) ? DoctorRunner.RenderJson(report) : DoctorRunner.RenderText(report));
            return report.Blocked ? EqlActorsCli.Failed : EqlActorsCli.Ok;
        });
        return command;
    }
}

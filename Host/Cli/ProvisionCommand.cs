using System.CommandLine;
using EqlActors.Host.Hosting;
using EqlActors.Host.Provision;
using EqlActors.Ports;

namespace EqlActors.Host.Cli;

/// <summary><c>eqlactors provision [--build-slirp SOURCE.tar.gz]</c>: prepares host_B for a bundle.</summary>
public static class ProvisionCommand
{
    public static Command Build()
    {
        var build = new Option<FileInfo?>("--build-slirp")
        {
            Description = "Upload this slirp source archive (tar, .tar.gz, .tar.xz, .tar.bz2) to host_B, build it multi-unit there and install it at remote.slirpCommand",
            HelpName = "SOURCE.tar.gz",
        };
        var command = new Command("provision",
            "Write host_B's slirp rc files; with --build-slirp also build and install a multi-unit slirp there (exit 0: done, 1: a step failed, 2: invalid configuration)");
        command.Options.Add(build);
        command.SetAction(async (parse, ct) =>
        {
            var config = ConfigCommand.LoadOrReport(parse);
            if (config is null) return EqlActorsCli.InvalidConfiguration;
            var (output, error) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            using var log = Logging.Create(Logging.ParseLevel(config.Control.LogLevel), config.Control.LogFile);
            try
            {
                var outcome = await new Provisioner(config, line => output.WriteLine(line), log).RunAsync(parse.GetValue(build), ct);
                output.WriteLine(outcome is null
                    ? "provisioned: rc files written"
                    : $"provisioned: rc files written, slirp installed at {config.Remote.SlirpCommand} (link_down() fix: {SlirpBuildMarker.Name(outcome.LinkDown)}; features: {(outcome.Features.Length == 0 ? "none" : outcome.Features)})");
                return EqlActorsCli.Ok;
            }
            catch (Exception e) when (e is ProvisionException or PortException)
            {
                error.WriteLine($"eqlactors provision: {e.Message}");
                return EqlActorsCli.Failed;
            }
        });
        return command;
    }
}

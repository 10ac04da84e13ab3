using EqlActors.Host.Cli;

return await EqlActorsCli.Build().Parse(args).InvokeAsync();

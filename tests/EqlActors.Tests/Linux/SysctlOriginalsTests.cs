using System.Runtime.Versioning;
using EqlActors.Actors;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

/// <summary>
/// The sysctl value found before the product's first change, kept in a 0600 file of the runtime directory
/// (<see cref="SysctlOriginalsFile"/>): what a daemon that replaced a killed one puts back at stop. The sysctl
/// itself is a namespace's own, which the test creates.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SysctlOriginalsTests : IDisposable
{
    private const string Key = RoutePass.TcpReordering;
    private readonly TempDir _dir = new("eqla-kept-");
    private readonly NetnsFixture _ns = new();

    public void Dispose()
    {
        _ns.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task The_first_value_is_kept_in_a_file_only_root_reads_and_a_new_instance_finds_it_until_it_is_forgotten()
    {
        var first = new SysctlOriginalsFile(_dir.Path);
        await first.KeepAsync(Key, "3");
        // A later change keeps the first: that is the one to put back.
        await first.KeepAsync(Key, "127");

        var path = first.PathOf(Key);
        Assert.Equal(Path.Combine(_dir.Path, "sysctl-before.net.ipv4.tcp_reordering"), path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["sysctl-before.net.ipv4.tcp_reordering"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
        // Another daemon (a new process: a new instance over the same directory) reads it.
        var second = SysctlOriginalsFile.ForSocket(_dir.File("control.sock"));
        Assert.Equal("3", await second.ReadAsync(Key));

        await second.ForgetAsync(Key);
        Assert.Null(await first.ReadAsync(Key));
        Assert.False(File.Exists(path));
        await second.ForgetAsync(Key);
    }

    [Fact]
    public async Task A_file_that_holds_no_sysctl_value_is_not_put_back_and_a_key_cannot_name_another_file()
    {
        var kept = new SysctlOriginalsFile(_dir.Path);
        File.WriteAllText(kept.PathOf(Key), "3\n4\n");
        Assert.Null(await kept.ReadAsync(Key));
        File.WriteAllText(kept.PathOf(Key), new string('9', 300));
        Assert.Null(await kept.ReadAsync(Key));

        await Assert.ThrowsAsync<PortException>(() => kept.KeepAsync("net.ipv4/../../etc", "1"));
        Assert.Throws<PortException>(() => kept.PathOf(".."));
    }

    [Fact]
    public async Task A_daemon_that_replaced_a_killed_one_puts_the_namespace_sysctl_back_as_the_first_found_it()
    {
        var before = await new LinuxSysctl(_ns.Name).ReadAsync(Key);
        Assert.NotNull(before);
        var wanted = before == "127" ? "126" : "127";

        // The first daemon's pass: kept, then set; then it is killed (nothing more of it runs).
        using (var routes = new LinuxRoutes(_ns.Name))
        {
            var pass = await RoutePass.RunAsync(routes, new LinuxSysctl(_ns.Name), new SysctlOriginalsFile(_dir.Path), [], "eql", wanted);
            Assert.True(pass.SysctlWritten);
            Assert.Equal(before, pass.SysctlFound);
        }

        // The next daemon: new ports, no memory of the first; its pass finds the sysctl as it wants it.
        using var routes2 = new LinuxRoutes(_ns.Name);
        var sysctl = new LinuxSysctl(_ns.Name);
        var kept = new SysctlOriginalsFile(_dir.Path);
        var again = await RoutePass.RunAsync(routes2, sysctl, kept, [], "eql", wanted);
        Assert.False(again.SysctlWritten);

        await RoutePass.RemoveAsync(routes2, sysctl, kept, [], original: null, wanted);

        Assert.Equal(before, await sysctl.ReadAsync(Key));
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }
}

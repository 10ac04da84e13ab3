using EqlActors.Configuration;
using EqlActors.Host.Configuration;
using static EqlActors.Tests.Configuration.ConfigTestSupport;

namespace EqlActors.Tests.Configuration;

/// <summary>Each rule with hostile input: the value is refused and the error names its key.</summary>
public class ConfigValidationTests
{
    [Theory]
    // ssh user: [a-z_][a-z0-9_.-]*, max 32
    [InlineData("remote.account", "a;b@host", "remote.account", "';'")]
    [InlineData("remote.account", "$(reboot)@host", "remote.account", "'$'")]
    [InlineData("remote.account", "`id`@host", "remote.account", "backtick")]
    [InlineData("remote.account", "-oProxyCommand=x@host", "remote.account", "starts with '-'")]
    [InlineData("remote.account", "Root@host", "remote.account", "starts with 'R'")]
    [InlineData("remote.account", "us er@host", "remote.account", "a space")]
    [InlineData("remote.account", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@host", "remote.account", "longer than 32")]
    [InlineData("remote.account", "@host", "remote.account", "empty")]
    [InlineData("remote.account", "host", "remote.account", "user@host")]
    // host: DNS labels, IPv4, [IPv6]
    [InlineData("remote.account", "u@-oProxyCommand=sh", "remote.account", "starts with '-'")]
    [InlineData("remote.account", "u@host;reboot", "remote.account", "';'")]
    [InlineData("remote.account", "u@host\nx", "remote.account", "a newline")]
    [InlineData("remote.account", "u@ho\0st", "remote.account", "NUL")]
    [InlineData("remote.account", "u@a..b", "remote.account", "empty label")]
    [InlineData("remote.account", "u@host_b", "remote.account", "'_'")]
    [InlineData("remote.account", "u@-a.b", "remote.account", "'-'")]
    [InlineData("remote.account", "u@a-.b", "remote.account", "starts or ends with '-'")]
    [InlineData("remote.account", "u@300.1.1.1", "remote.account", "IPv4")]
    [InlineData("remote.account", "u@[::g]", "remote.account", "IPv6")]
    [InlineData("remote.account", "u@[::1", "remote.account", "brackets")]
    [InlineData("remote.account", "u@h'x'", "remote.account", "quote")]
    [InlineData("remote.jumpHosts", "ok@fw bad@\"fw\"", "remote.jumpHosts[1]", "quote")]
    [InlineData("remote.jumpHosts", "a@b|c", "remote.jumpHosts[0]", "'|'")]
    // port 1-65535
    [InlineData("remote.account", "u@h:0", "remote.account", "1-65535")]
    [InlineData("remote.account", "u@h:65536", "remote.account", "1-65535")]
    [InlineData("remote.account", "u@h:22x", "remote.account", "not a number")]
    [InlineData("remote.tcpPort", "70000", "remote.tcpPort", "1-65535")]
    // remote slirp path
    [InlineData("remote.slirpCommand", "bin/slirp;reboot", "remote.slirpCommand", "';'")]
    [InlineData("remote.slirpCommand", "bin/slirp -l 0", "remote.slirpCommand", "a space")]
    [InlineData("remote.slirpCommand", "-x", "remote.slirpCommand", "starts with '-'")]
    [InlineData("remote.slirpCommand", "../bin/slirp", "remote.slirpCommand", "'..'")]
    [InlineData("remote.slirpCommand", "~/bin/slirp", "remote.slirpCommand", "'~'")]
    [InlineData("remote.slirpCommand", "bin//slirp", "remote.slirpCommand", "empty segment")]
    [InlineData("remote.slirpCommand", "$HOME/slirp", "remote.slirpCommand", "'$'")]
    // local paths: absolute
    [InlineData("remote.sshPath", "ssh", "remote.sshPath", "absolute")]
    [InlineData("remote.sshPath", "/usr/bin/ssh -oProxyCommand=x", "remote.sshPath", "a space")]
    [InlineData("remote.identityFile", "/root/.ssh/id;rm", "remote.identityFile", "';'")]
    [InlineData("remote.knownHostsFile", "/root/../etc/passwd", "remote.knownHostsFile", "'..'")]
    [InlineData("ppp.pppdPath", "/usr/sbin/pppd`id`", "ppp.pppdPath", "backtick")]
    [InlineData("control.socketPath", "run/control.sock", "control.socketPath", "absolute")]
    // each link's ssh master socket beside the control socket: ssh's unix socket limit (path + 17)
    [InlineData("control.socketPath", "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/control.sock", "remote.reuseConnection", "longer than 90 bytes")]
    [InlineData("remote.reuseConnection", "perhaps", "remote.reuseConnection", "")]
    [InlineData("control.logFile", "/var/log/a b", "control.logFile", "a space")]
    // TCP password
    [InlineData("remote.tcpPassword", "se cret", "remote.tcpPassword", "a space")]
    [InlineData("remote.tcpPassword", "a,b", "remote.tcpPassword", "','")]
    [InlineData("remote.tcpPassword", "***", "remote.tcpPassword", "mask")]
    // ssh KexAlgorithms: names of [A-Za-z0-9@._-], commas, one leading + - ^ (it reaches pppd's pty command)
    [InlineData("remote.sshKexAlgorithms", "curve25519-sha256;touch x", "remote.sshKexAlgorithms", "';'")]
    [InlineData("remote.sshKexAlgorithms", "curve25519-sha256 -oProxyCommand=x", "remote.sshKexAlgorithms", "a space")]
    [InlineData("remote.sshKexAlgorithms", "$(reboot)", "remote.sshKexAlgorithms", "'$'")]
    [InlineData("remote.sshKexAlgorithms", "a,,b", "remote.sshKexAlgorithms", "empty name")]
    [InlineData("remote.sshKexAlgorithms", "curve25519-sha256,", "remote.sshKexAlgorithms", "empty name")]
    [InlineData("remote.sshKexAlgorithms", "^+a", "remote.sshKexAlgorithms", "'+'")]
    [InlineData("remote.sshKexAlgorithms", "a\nProxyCommand=x", "remote.sshKexAlgorithms", "a newline")]
    // pppd extra options
    [InlineData("ppp.extraOptions", "pty /bin/sh", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "connect x", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "init", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "disconnect", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "plugin", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "file", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "call", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "ip-up-script", "ppp.extraOptions[0]", "never allowed")]
    [InlineData("ppp.extraOptions", "debug persist", "ppp.extraOptions[1]", "restarts failed links")]
    [InlineData("ppp.extraOptions", "mtu 1400", "ppp.extraOptions[0]", "ppp.mtu")]
    [InlineData("ppp.extraOptions", "updetach", "ppp.extraOptions[0]", "nodetach")]
    [InlineData("ppp.extraOptions", "noauth", "ppp.extraOptions[0]", "always passed")]
    [InlineData("ppp.extraOptions", "mru", "ppp.extraOptions[0]", "needs a value")]
    [InlineData("ppp.extraOptions", "mru 99999", "ppp.extraOptions[1]", "68-1500")]
    [InlineData("ppp.extraOptions", "mru $(x)", "ppp.extraOptions[1]", "needs an integer")]
    [InlineData("ppp.extraOptions", "debug;reboot", "ppp.extraOptions[0]", "';'")]
    [InlineData("ppp.extraOptions", "frobnicate", "ppp.extraOptions[0]", "allow-list")]
    [InlineData("ppp.extraOptions", "Debug", "ppp.extraOptions[0]", "'D'")]
    // links: 0-3, unique, non-empty, at most 4
    [InlineData("links", "", "links", "at least one")]
    [InlineData("links", "4", "links", "0-3")]
    [InlineData("links", "-1", "links", "0-3")]
    [InlineData("links", "0 0", "links", "more than once")]
    [InlineData("links", "0 1 2 3 3", "links", "at most 4")]
    [InlineData("links", "0;1", "links[0]", "integer")]
    // MTU
    [InlineData("ppp.mtu", "67", "ppp.mtu", "68-1500")]
    [InlineData("ppp.mtu", "1501", "ppp.mtu", "68-1500")]
    [InlineData("eql.mtu", "1400", "eql.mtu", "refuses to enslave")]
    // addresses, CIDRs, netmask
    [InlineData("ppp.localAddress", "10.0.2", "ppp.localAddress", "IPv4")]
    [InlineData("ppp.localAddress", "0x0a.0.2.15", "ppp.localAddress", "IPv4")]
    [InlineData("ppp.localAddress", "10.0.2.2", "ppp.remoteAddress", "equals ppp.localAddress")]
    [InlineData("ppp.remoteAddress", "224.0.0.1", "ppp.remoteAddress", "multicast")]
    [InlineData("eql.address", "0.0.0.0", "eql.address", "not a usable")]
    [InlineData("eql.address", "172.16.1.0", "eql.address", "network address")]
    [InlineData("eql.address", "172.16.1.1;id", "eql.address", "IPv4")]
    [InlineData("eql.netmask", "255.0.255.0", "eql.netmask", "contiguous")]
    [InlineData("eql.netmask", "0.0.0.0", "eql.netmask", "0.0.0.0")]
    [InlineData("routes.remoteLans", "192.168.1.1/24", "routes.remoteLans[0]", "host bits")]
    [InlineData("routes.remoteLans", "192.168.1.0/33", "routes.remoteLans[0]", "0-32")]
    [InlineData("routes.remoteLans", "192.168.1.0", "routes.remoteLans[0]", "address/prefix")]
    [InlineData("routes.remoteLans", "10.0.0.0/8 10.0.0.0/8", "routes.remoteLans", "more than once")]
    [InlineData("routes.managementNetwork", "10.0.2.1/28", "routes.managementNetwork", "host bits")]
    [InlineData("routes.managementGateway", "10.0.2.2/28", "routes.managementGateway", "IPv4")]
    [InlineData("routes.tcpReordering", "1000", "routes.tcpReordering", "1-300")]
    // supervision
    [InlineData("supervision.minBackoffSeconds", "0", "supervision.minBackoffSeconds", "greater than 0")]
    [InlineData("supervision.maxBackoffSeconds", "0.5", "supervision.maxBackoffSeconds", "smaller than supervision.minBackoffSeconds")]
    [InlineData("supervision.randomFactor", "1.5", "supervision.randomFactor", "between 0 and 1")]
    [InlineData("supervision.randomFactor", "-0.1", "supervision.randomFactor", "between 0 and 1")]
    [InlineData("supervision.randomFactor", "NaN", "supervision.randomFactor", "decimal number")]
    [InlineData("supervision.maxRestarts", "-1", "supervision.maxRestarts", "0-")]
    // priorities
    [InlineData("eql.priority", "0", "eql.priority", "greater than 0")]
    [InlineData("eql.linkPriorities.1", "-5", "eql.linkPriorities.1", "greater than 0")]
    [InlineData("eql.linkPriorities.3", "100", "eql.linkPriorities.3", "not in links")]
    [InlineData("eql.linkPriorities.7", "100", "eql.linkPriorities.7", "0-3")]
    // health
    [InlineData("health.target", "10.0.2.2", "health.target", "host:port")]
    [InlineData("health.target", "10.0.2.2:0", "health.target", "1-65535")]
    [InlineData("health.target", "$(id):22", "health.target", "'$'")]
    [InlineData("health.timeoutSeconds", "60", "health.timeoutSeconds", "longer than health.intervalSeconds")]
    [InlineData("health.imbalanceTolerance", "1", "health.imbalanceTolerance", "less than 1")]
    [InlineData("health.failuresBeforeRestart", "0", "health.failuresBeforeRestart", "1-")]
    [InlineData("health.remoteLanTarget", "192.168.1.10", "health.remoteLanTarget", "host:port")]
    [InlineData("health.remoteLanTarget", "`id`:80", "health.remoteLanTarget", "backtick")]
    // metrics
    [InlineData("metrics.listen", "localhost:9477", "metrics.listen", "IP address literal")]
    [InlineData("metrics.listen", "127.0.0.1", "metrics.listen", "IP:PORT")]
    [InlineData("metrics.listen", "127.0.0.1:0", "metrics.listen", "1-65535")]
    [InlineData("metrics.listen", "127.0.0.1:+9477", "metrics.listen", "1-65535")]
    [InlineData("metrics.listen", "::1:9477", "metrics.listen", "brackets")]
    [InlineData("metrics.listen", "[fe80::1%eth0]:9477", "metrics.listen", "IP address literal")]
    // names
    [InlineData("eql.device", "eql0123456789abc", "eql.device", "15")]
    [InlineData("eql.device", "eq l", "eql.device", "a space")]
    [InlineData("eql.device", "-eql", "eql.device", "starts with '-'")]
    [InlineData("ppp.linkNamePrefix", "../x", "ppp.linkNamePrefix", "starts with '.'")]
    [InlineData("ppp.linkNamePrefix", "a/b", "ppp.linkNamePrefix", "'/'")]
    [InlineData("control.logLevel", "Loud", "control.logLevel", "Information")]
    [InlineData("ppp.lcpEchoFailure", "0", "ppp.lcpEchoFailure", "at least 1")]
    public void A_hostile_or_wrong_value_is_refused_naming_its_key(string key, string value, string path, string message)
    {
        var result = LoadSets($"{key}={value}");
        Assert.Null(result.Config);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
        Assert.DoesNotContain('\n', string.Join("", result.Errors.Select(e => e.ToString())));
        Assert.DoesNotContain('\0', string.Join("", result.Errors.Select(e => e.ToString())));
    }

    [Fact]
    public void The_tcp_attach_form_needs_a_password_and_the_password_is_never_echoed()
    {
        Assert.Contains(LoadSets("remote.attach=tcp").Errors, e => e.Path == "remote.tcpPassword" && e.Message.Contains("required"));
        var bad = Assert.Single(LoadSets("remote.attach=tcp", "remote.tcpPassword=top secret").Errors);
        Assert.Equal("***", bad.Value);
        Assert.True(LoadSets("remote.attach=tcp", "remote.tcpPassword=s3cr.et_-X").IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("^sntrup761x25519-sha512@openssh.com,curve25519-sha256")]
    [InlineData("-diffie-hellman-group14-sha256")]
    [InlineData(RemoteConfig.ClassicSshKexAlgorithms)]
    public void A_key_exchange_list_of_plain_names_is_accepted(string list)
    {
        var result = LoadSets("remote.sshKexAlgorithms=" + list);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
    }

    [Theory]
    [InlineData("remote.account=root@host-b.example.org:2222")]
    [InlineData("remote.account=_svc.x-1@10.1.2.3")]
    [InlineData("remote.account=u@[fe80::1]")]
    [InlineData("remote.jumpHosts=fireman@firewall a@b.c:2022")]
    [InlineData("remote.slirpCommand=/opt/slirp-4.1/bin/slirp+fix")]
    [InlineData("ppp.extraOptions=debug kdebug 1 mru 1400 asyncmap 0 lcp-max-configure 20 noccp")]
    [InlineData("links=3")]
    [InlineData("links=0 1 2 3")]
    [InlineData("eql.netmask=255.255.255.255")]
    [InlineData("routes.remoteLans=0.0.0.0/0")]
    [InlineData("health.target=host-b.lan:22")]
    public void Ordinary_values_are_accepted(string set)
    {
        var result = LoadSets(set);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }

    [Fact]
    public void A_programmatic_configuration_is_validated_the_same_way()
    {
        var config = new BundleConfig { Links = [0, 5], Remote = new RemoteConfig { Account = new SshEndpoint("x;y", "h") } };
        var paths = ConfigValidator.Validate(config).Select(e => e.Path).ToList();
        Assert.Contains("links", paths);
        Assert.Contains("remote.account", paths);
    }
}

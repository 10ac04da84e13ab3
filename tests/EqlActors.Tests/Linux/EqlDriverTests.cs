using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using EqlActors.Host.Linux;
using EqlActors.Ports;
using EqlActors.Tests.Fixtures;

namespace EqlActors.Tests.Linux;

public class EqlStructLayoutTests
{
    [Fact]
    public void Sizes_and_ioctl_numbers_match_if_eql_h()
    {
        Assert.Equal(40, EqlStructs.IfReqSize);
        Assert.Equal(16, EqlStructs.IfReqDataOffset);
        Assert.Equal(24, EqlStructs.SlaveConfig("ppp0", 1).Length);
        Assert.Equal(24, EqlStructs.MasterConfig("eql", 4, 1).Length);
        Assert.Equal(8, IntPtr.Size); // the layouts below are LP64's
        Assert.Equal(
            [0x89F0u, 0x89F1u, 0x89F2u, 0x89F3u, 0x89F4u, 0x89F5u],
            [EqlStructs.EQL_ENSLAVE, EqlStructs.EQL_EMANCIPATE, EqlStructs.EQL_GETSLAVECFG, EqlStructs.EQL_SETSLAVECFG, EqlStructs.EQL_GETMASTRCFG, EqlStructs.EQL_SETMASTRCFG]);
    }

    [Fact]
    public void Slave_config_is_a_nul_padded_name_then_a_little_endian_long()
    {
        byte[] expected = [(byte)'p', (byte)'p', (byte)'p', (byte)'1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x96, 0x98, 0, 0, 0, 0, 0];
        Assert.Equal(expected, EqlStructs.SlaveConfig("ppp1", 10_000_000));
        Assert.Equal(("ppp1", 10_000_000L), EqlStructs.ReadSlaveConfig(expected));
    }

    [Fact]
    public void Master_config_is_a_name_then_max_and_min_slaves()
    {
        var b = EqlStructs.MasterConfig("eql", 4, 1);
        Assert.Equal((byte)'e', b[0]);
        Assert.Equal(0, b[3]);
        Assert.Equal([4, 0, 0, 0, 1, 0, 0, 0], b[16..24]);
        Assert.Equal(("eql", 4, 1), EqlStructs.ReadMasterConfig(b));
    }

    [Fact]
    public void Ifreq_holds_the_name_at_0_and_the_union_at_16()
    {
        var r = EqlStructs.IfReq("eql");
        EqlStructs.SetData(r, new IntPtr(0x1122334455667788));
        Assert.Equal([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11], r[16..24]);
        EqlStructs.SetAddress(r, IPAddress.Parse("172.16.1.1"));
        Assert.Equal([2, 0, 0, 0, 172, 16, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], r[16..32]);
        Assert.Equal(IPAddress.Parse("172.16.1.1"), EqlStructs.GetAddress(r));
        Assert.Equal("eql", EqlStructs.ReadName(r));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("a/b")]
    [InlineData("a b")]
    public void Impossible_interface_names_are_refused(string name)
    {
        var e = Assert.Throws<PortException>(() => EqlStructs.SlaveConfig(name, 1));
        Assert.Equal(FailureKind.Permanent, e.Kind);
    }
}

/// <summary>
/// The real ioctls on this kernel, which has no EQL: inside a namespace of the test's own, a missing master
/// gives ENODEV and a veth named like the master answers the EQL ioctls with EOPNOTSUPP; the interface
/// ioctls (address, netmask, MTU, up) work for real on that veth.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class EqlDriverNetnsTests : IDisposable
{
    private readonly NetnsFixture _ns = new();
    private readonly LinuxEqlDriver _driver;

    public EqlDriverNetnsTests()
    {
        _driver = new LinuxEqlDriver(_ns.Name);
    }

    public void Dispose()
    {
        _driver.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public async Task Missing_master_is_reported_clearly()
    {
        var e = await Assert.ThrowsAsync<PortException>(() => _driver.EnslaveAsync("eql", "ppp0", 10_000_000));
        Assert.Contains("EQL master eql does not exist (ENODEV)", e.Message);

        var raw = Assert.Throws<PortException>(() =>
            LinuxEqlDriver.Check(_driver.IoctlData("eql", EqlStructs.EQL_GETSLAVECFG, EqlStructs.SlaveConfig("ppp0", 0)), "read slave ppp0", "eql", "ppp0"));
        Assert.Equal("cannot read slave ppp0: no such device: eql or ppp0 does not exist (ENODEV)", raw.Message);

        Assert.False((await _driver.GetMasterAsync("eql")).Loaded);
        var ensure = await Assert.ThrowsAsync<PortException>(() =>
            _driver.EnsureMasterAsync(new EqlMasterSpec("eql", IPAddress.Parse("172.16.1.1"), IPAddress.Parse("255.255.255.0"), 1500)));
        Assert.Contains("does not exist", ensure.Message);
    }

    [Fact]
    public async Task Master_address_netmask_mtu_and_up_are_set_by_ioctl()
    {
        _ns.Ip("link", "add", "eql", "type", "veth", "peer", "name", "eqlpeer");
        await _driver.EnsureMasterAsync(new EqlMasterSpec("eql", IPAddress.Parse("172.16.1.1"), IPAddress.Parse("255.255.255.0"), 1400));

        using var doc = JsonDocument.Parse(_ns.Ip("-json", "addr", "show", "dev", "eql"));
        var dev = doc.RootElement[0];
        Assert.Equal(1400, dev.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", dev.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var addr = dev.GetProperty("addr_info").EnumerateArray().Single(a => a.GetProperty("family").GetString() == "inet");
        Assert.Equal(("172.16.1.1", 24), (addr.GetProperty("local").GetString(), addr.GetProperty("prefixlen").GetInt32()));

        // Idempotent: a second call changes nothing, so routes through the master survive it.
        _ns.Ip("route", "add", "192.168.1.0/24", "via", "172.16.1.2", "dev", "eql");
        await _driver.EnsureMasterAsync(new EqlMasterSpec("eql", IPAddress.Parse("172.16.1.1"), IPAddress.Parse("255.255.255.0"), 1400));
        Assert.Contains("192.168.1.0/24", _ns.Ip("-4", "route", "show"));
        // A different netmask is applied.
        await _driver.EnsureMasterAsync(new EqlMasterSpec("eql", IPAddress.Parse("172.16.1.1"), IPAddress.Parse("255.255.0.0"), 1400));
        Assert.Contains("172.16.1.1/16", _ns.Ip("-4", "addr", "show", "dev", "eql"));

        var notEql = await Assert.ThrowsAsync<PortException>(() => _driver.GetMasterAsync("eql"));
        Assert.Contains("eql is not an EQL master", notEql.Message);

        await _driver.RemoveMasterAsync("eql");
        using var after = JsonDocument.Parse(_ns.Ip("-json", "link", "show", "dev", "eql"));
        Assert.DoesNotContain("UP", after.RootElement[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Mtu_mismatch_is_refused_before_the_driver_sees_it_and_a_non_eql_master_is_named()
    {
        _ns.Ip("link", "add", "eql", "mtu", "1500", "type", "veth", "peer", "name", "ppp0", "mtu", "1400");
        var mismatch = await Assert.ThrowsAsync<PortException>(() => _driver.EnslaveAsync("eql", "ppp0", 10_000_000));
        Assert.Equal(FailureKind.Permanent, mismatch.Kind);
        Assert.Contains("MTU mismatch (master 1500, slave 1400)", mismatch.Message);

        _ns.Ip("link", "set", "ppp0", "mtu", "1500");
        var e = await Assert.ThrowsAsync<PortException>(() => _driver.EnslaveAsync("eql", "ppp0", 10_000_000));
        Assert.Equal("cannot enslave ppp0 to eql: eql is not an EQL master (the device does not know the EQL ioctls) (EOPNOTSUPP)", e.Message);
        Assert.Equal(FailureKind.Permanent, e.Kind);

        var slave = await Assert.ThrowsAsync<PortException>(() => _driver.EnslaveAsync("eql", "ppp9", 10_000_000));
        Assert.Contains("slave ppp9 does not exist (ENODEV)", slave.Message);
    }
}

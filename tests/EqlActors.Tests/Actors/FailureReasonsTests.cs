using System.Collections.Immutable;
using EqlActors.Actors;
using EqlActors.Configuration;

using EqlActors.Messages;

namespace EqlActors.Tests.Actors;

/// <summary>Failures named in ssh's, slirp's and pppd's own words, classified; hostile output stays bounded.</summary>
public sealed class FailureReasonsTests
{
    // The system test's topology: both sshds on 127.0.0.1, told apart by port and user.
    private static readonly RemoteConfig Remote = new()
    {
        Account = new SshEndpoint("hostb", "127.0.0.1", 2201),
        JumpHosts = [new SshEndpoint("fireman", "127.0.0.1", 2202)],
    };

    private static LinkFailure Explain(params string[] lines) => FailureReasons.Explain(lines, Remote)!;

    [Fact]
    public void A_refused_key_is_permanent_and_names_the_account_and_hop()
    {
        var f = Explain("Using interface ppp1", "hostb@127.0.0.1: Permission denied (publickey).", "Modem hangup");
        Assert.Equal(FailureClass.AuthRefused, f.Class);
        Assert.True(f.Permanent);
        Assert.Contains("host_B for account hostb@127.0.0.1:2201", f.Reason);

        var jump = Explain("fireman@127.0.0.1: Permission denied (publickey).");
        Assert.Contains("jump host fireman@127.0.0.1:2202", jump.Reason);
    }

    [Fact]
    public void Connection_refused_names_the_hop_by_port_or_as_seen_from_the_jump_host()
    {
        var jump = Explain("ssh: connect to host 127.0.0.1 port 2202: Connection refused", "Connection terminated.");
        Assert.Equal(FailureClass.ConnectionRefused, jump.Class);
        Assert.False(jump.Permanent);
        Assert.Contains("jump host fireman@127.0.0.1:2202", jump.Reason);

        var b = Explain("channel 0: open failed: connect failed: Connection refused", "stdio forwarding failed",
            "kex_exchange_identification: Connection closed by remote host");
        Assert.Equal(FailureClass.ConnectionRefused, b.Class);
        Assert.Contains("host_B (hostb@127.0.0.1:2201)", b.Reason);

        // What the guest showed with host_B's sshd stopped (the jump's "open failed" is below LogLevel=ERROR).
        var seen = Explain("stdio forwarding failed", "kex_exchange_identification: Connection closed by remote host",
            "Connection closed by UNKNOWN port 65535");
        Assert.Equal(FailureClass.ConnectionRefused, seen.Class);
        Assert.Contains("host_B (hostb@127.0.0.1:2201)", seen.Reason);

        Assert.Equal(FailureClass.TimedOut, Explain("ssh: connect to host 10.9.9.9 port 22: Connection timed out").Class);
        Assert.Equal(FailureClass.Unreachable, Explain("ssh: connect to host 10.9.9.9 port 22: No route to host").Class);
    }

    [Fact]
    public void A_changed_host_key_is_permanent()
    {
        var f = Explain("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
            "Host key for [127.0.0.1]:2201 has changed and you have requested strict checking.", "Host key verification failed.");
        Assert.Equal(FailureClass.HostKey, f.Class);
        Assert.True(f.Permanent);
        Assert.Contains("host_B", f.Reason);
    }

    [Fact]
    public void Pppd_own_reason_beats_the_interface_going_down()
    {
        var f = Explain("No response to 3 echo-requests", "Serial link appears to be disconnected.", "Connection terminated.");
        Assert.Equal(FailureClass.LcpEchoTimeout, f.Class);
        Assert.Contains("No response to 3 echo-requests", f.Reason);
    }

    [Fact]
    public void A_pppd_killed_from_outside_says_so()
    {
        var f = Explain("Terminating on signal 15", "Connect time 1.2 minutes.", "Connection terminated.");
        Assert.Equal(FailureClass.PppdExit, f.Class);
        Assert.Contains("signal 15", f.Reason);
    }

    [Fact]
    public void Plain_hangup_lines_explain_nothing_beyond_the_exit_code()
    {
        Assert.Null(FailureReasons.Explain(["Using interface ppp0", "Connect: ppp0 <--> /dev/pts/3", "Modem hangup", "Connection terminated."], Remote));
    }

    [Theory]
    [InlineData("Slirp v1.0.17 (BETA) FULL_BOLT\n\nError:: 0 Unit already attached\n", "slirp-attach", false)]
    [InlineData("Error:: 0 Unit out of range (must be between 0 and 0, inclusive)\n", "slirp-attach", true)]
    [InlineData("sh: 1: exec: bin/slirp: not found\n", "remote-command", false)]
    [InlineData("Slirp v1.0.17 (BETA)\nError: this slirp is broken on purpose\n", "remote-command", false)]
    public void Host_Bs_error_file_is_classified_by_its_first_error_line(string text, string cls, bool permanent)
    {
        var f = FailureReasons.ExplainRemote(text)!;
        Assert.Equal(cls, f.Class);
        Assert.Equal(permanent, f.Permanent);
    }

    [Fact]
    public void A_healthy_slirps_banner_is_no_diagnosis()
    {
        Assert.Null(FailureReasons.ExplainRemote("Slirp v1.0.17 (BETA) FULL_BOLT\n\nCopyright (c) 1995,1996 Danny Gasparovski and others.\nConnected: 1 /dev/pts/3\n"));
    }

    [Fact]
    public void Hostile_output_is_bounded_and_stripped_of_control_characters()
    {
        var line = FailureReasons.Bound("\u001b]0;pwned\u0007" + new string('x', 100_000) + "\r\n");
        Assert.True(line.Length <= FailureReasons.MaxLineLength + 3);
        Assert.DoesNotContain('\u001b', line);
        Assert.DoesNotContain('\u0007', line);

        var huge = FailureReasons.ExplainRemote(string.Concat(Enumerable.Repeat("Error: " + new string('y', 5000) + "\n", 1000)))!;
        Assert.True(huge.Reason.Length < 1000);
        // A fake "Permission denied" inside a remote's banner with an odd account still yields a bounded reason.
        var odd = Explain("$(rm -rf /)@`x`: Permission denied (publickey).");
        Assert.Equal(FailureClass.AuthRefused, odd.Class);
        Assert.Null(FailureReasons.Explain(ImmutableArray<string>.Empty, Remote));
    }

    [Fact]
    public void The_hop_to_check_during_a_backoff_is_the_one_a_failure_to_reach_names()
    {
        var hostB = Explain("stdio forwarding failed", "Connection terminated.");
        Assert.Equal(Remote.Account, FailureReasons.HopToCheck(hostB.Class, hostB.Reason, Remote));
        var jump = Explain("ssh: connect to host 127.0.0.1 port 2202: Connection refused");
        Assert.Equal(Remote.JumpHosts[0], FailureReasons.HopToCheck(jump.Class, jump.Reason, Remote));
        // Lost without saying which: the first hop, the only one this host can reach for sure.
        Assert.Equal(Remote.JumpHosts[0], FailureReasons.HopToCheck(FailureClass.ConnectionLost, "ssh connection closed before login", Remote));
        Assert.Equal(Remote.Account, FailureReasons.HopToCheck(FailureClass.TimedOut, "timed out", Remote with { JumpHosts = [] }));
    }

    [Theory]
    [InlineData(FailureClass.AuthRefused)]
    [InlineData(FailureClass.SlirpAttach)]
    [InlineData(FailureClass.RemoteCommand)]
    [InlineData(FailureClass.Hangup)]
    [InlineData(FailureClass.LcpEchoTimeout)]
    public void A_hop_that_answers_says_nothing_about_other_failures(string cls) =>
        Assert.Null(FailureReasons.HopToCheck(cls, "connection refused by host_B (hostb@127.0.0.1:2201)", Remote));
}

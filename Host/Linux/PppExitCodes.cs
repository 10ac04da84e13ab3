using EqlActors.Ports;

namespace EqlActors.Host.Linux;

/// <summary>pppd(8) EXIT STATUS, mapped to a reason for the operator and whether retrying can help.</summary>
public static class PppExitCodes
{
    public static (string Reason, FailureKind Kind) Describe(int code) => code switch
    {
        0 => ("pppd ended normally (link terminated by peer or idle)", FailureKind.Transient),
        1 => ("pppd fatal error", FailureKind.Transient),
        2 => ("pppd option error (the generated command line or /etc/ppp/options is wrong)", FailureKind.Permanent),
        3 => ("pppd is not setuid-root and was run by a normal user", FailureKind.Permanent),
        4 => ("the kernel does not support PPP (no ppp_generic/ppp_async)", FailureKind.Permanent),
        5 => ("pppd terminated by a signal (SIGINT, SIGTERM or SIGHUP)", FailureKind.Transient),
        6 => ("the serial port could not be locked", FailureKind.Transient),
        7 => ("the serial port could not be opened", FailureKind.Transient),
        8 => ("the connect script failed", FailureKind.Transient),
        9 => ("the pty command (ssh to host_B) could not be run", FailureKind.Transient),
        10 => ("PPP negotiation failed (no network protocol came up)", FailureKind.Transient),
        11 => ("the peer system failed or refused to authenticate itself", FailureKind.Permanent),
        12 => ("the link was idle and was terminated", FailureKind.Transient),
        13 => ("the link reached its maximum connect time", FailureKind.Transient),
        14 => ("callback negotiated, an incoming call should arrive", FailureKind.Transient),
        15 => ("the peer stopped answering LCP echo requests (dead link)", FailureKind.Transient),
        16 => ("modem hangup: the pty command (ssh or slirp) ended", FailureKind.Transient),
        17 => ("the PPP negotiation failed because serial loopback was detected", FailureKind.Transient),
        18 => ("the init script failed", FailureKind.Transient),
        19 => ("pppd failed to authenticate itself to the peer", FailureKind.Permanent),
        _ when code > 128 && code < 128 + 65 => ($"pppd killed by signal {code - 128}", FailureKind.Transient),
        _ => ($"pppd exited with unknown status {code}", FailureKind.Transient),
    };
}

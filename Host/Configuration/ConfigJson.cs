using System.Text;
using System.Text.Json;
using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>Writes a configuration as the JSON that <see cref="ConfigLoader"/> reads (the keys of docs/configuration.md).</summary>
public static class ConfigJson
{
    public const string Mask = Secrets.Mask;

    /// <summary>The whole configuration; the TCP password is written as <see cref="Mask"/> unless <paramref name="revealSecrets"/>.</summary>
    public static string Write(BundleConfig c, bool revealSecrets = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("links"); foreach (var l in c.Links) w.WriteNumberValue(l); w.WriteEndArray();
            w.WriteBoolean("singleLink", c.SingleLink);

            var r = c.Remote;
            w.WriteStartObject("remote");
            w.WriteString("account", r.Account.ToString());
            w.WriteStartArray("jumpHosts"); foreach (var j in r.JumpHosts) w.WriteStringValue(j.ToString()); w.WriteEndArray();
            w.WriteString("slirpCommand", r.SlirpCommand);
            w.WriteString("attach", r.Attach.ToString().ToLowerInvariant());
            w.WriteNumber("tcpPort", r.TcpPort);
            if (r.TcpPassword is null) w.WriteNull("tcpPassword"); else w.WriteString("tcpPassword", revealSecrets ? r.TcpPassword : Mask);
            w.WriteString("sshPath", r.SshPath);
            w.WriteString("identityFile", r.IdentityFile);
            w.WriteString("knownHostsFile", r.KnownHostsFile);
            w.WriteBoolean("acceptNewHostKeys", r.AcceptNewHostKeys);
            w.WriteNumber("connectTimeoutSeconds", r.ConnectTimeout.TotalSeconds);
            w.WriteNumber("keepAliveIntervalSeconds", r.KeepAliveInterval.TotalSeconds);
            w.WriteEndObject();

            var p = c.Ppp;
            w.WriteStartObject("ppp");
            w.WriteString("pppdPath", p.PppdPath);
            w.WriteNumber("mtu", p.Mtu);
            w.WriteString("localAddress", p.LocalAddress.ToString());
            w.WriteString("remoteAddress", p.RemoteAddress.ToString());
            w.WriteStartArray("extraOptions"); foreach (var o in p.ExtraOptions) w.WriteStringValue(o); w.WriteEndArray();
            w.WriteNumber("lcpEchoInterval", p.LcpEchoInterval);
            w.WriteNumber("lcpEchoFailure", p.LcpEchoFailure);
            w.WriteString("linkNamePrefix", p.LinkNamePrefix);
            w.WriteEndObject();

            var e = c.Eql;
            w.WriteStartObject("eql");
            w.WriteString("device", e.Device);
            w.WriteString("address", e.Address.ToString());
            w.WriteString("netmask", e.Netmask.ToString());
            w.WriteNumber("mtu", e.Mtu);
            w.WriteNumber("priority", e.Priority);
            w.WriteStartObject("linkPriorities");
            foreach (var (link, priority) in e.LinkPriorities.OrderBy(kv => kv.Key)) w.WriteNumber(link.ToString(System.Globalization.CultureInfo.InvariantCulture), priority);
            w.WriteEndObject();
            w.WriteEndObject();

            var rt = c.Routes;
            w.WriteStartObject("routes");
            w.WriteStartArray("remoteLans"); foreach (var n in rt.RemoteLans) w.WriteStringValue(n.ToString()); w.WriteEndArray();
            w.WriteBoolean("managementRoute", rt.ManagementRoute);
            w.WriteString("managementNetwork", rt.ManagementNetwork.ToString());
            w.WriteString("managementGateway", rt.ManagementGateway.ToString());
            if (rt.TcpReordering is int t) w.WriteNumber("tcpReordering", t); else w.WriteNull("tcpReordering");
            w.WriteEndObject();

            var s = c.Supervision;
            w.WriteStartObject("supervision");
            w.WriteNumber("minBackoffSeconds", s.MinBackoff.TotalSeconds);
            w.WriteNumber("maxBackoffSeconds", s.MaxBackoff.TotalSeconds);
            w.WriteNumber("randomFactor", s.RandomFactor);
            w.WriteNumber("maxRestarts", s.MaxRestarts);
            w.WriteNumber("restartWindowSeconds", s.RestartWindow.TotalSeconds);
            w.WriteNumber("reconcileIntervalSeconds", s.ReconcileInterval.TotalSeconds);
            w.WriteNumber("linkUpTimeoutSeconds", s.LinkUpTimeout.TotalSeconds);
            w.WriteNumber("stopGraceSeconds", s.StopGrace.TotalSeconds);
            w.WriteEndObject();

            var h = c.Health;
            w.WriteStartObject("health");
            w.WriteBoolean("enabled", h.Enabled);
            w.WriteString("target", h.Target);
            w.WriteNumber("intervalSeconds", h.Interval.TotalSeconds);
            w.WriteNumber("timeoutSeconds", h.Timeout.TotalSeconds);
            w.WriteNumber("failuresBeforeRestart", h.FailuresBeforeRestart);
            w.WriteNumber("imbalanceTolerance", h.ImbalanceTolerance);
            w.WriteNumber("imbalanceWindowSeconds", h.ImbalanceWindow.TotalSeconds);
            w.WriteEndObject();

            var ctl = c.Control;
            w.WriteStartObject("control");
            w.WriteString("socketPath", ctl.SocketPath);
            if (ctl.LogFile is null) w.WriteNull("logFile"); else w.WriteString("logFile", ctl.LogFile);
            w.WriteString("logLevel", ctl.LogLevel);
            w.WriteEndObject();

            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

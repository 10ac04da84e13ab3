using System.Text;
using System.Text.Json;
using EqlActors.Configuration;

namespace EqlActors.Host.Configuration;

/// <summary>Writes a configuration as the JSON that <see cref="ConfigLoader"/> reads: every key of <see cref="ConfigKeys"/>, in its order.</summary>
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
            var section = "";
            foreach (var key in ConfigKeys.All)
            {
                if (key.Section != section)
                {
                    if (section.Length > 0) w.WriteEndObject();
                    if (key.Section.Length > 0) w.WriteStartObject(key.Section);
                    section = key.Section;
                }
                key.Write(w, key.Leaf, c, revealSecrets);
            }
            if (section.Length > 0) w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

using System.Security.Cryptography;
using System.Text;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// A stable id for the machine the client runs on, for binding a <see cref="DeviceProfile"/> to it: a profile file
/// copied to another machine then names a device that is not this one and is refused.
/// </summary>
public static class LocalDeviceId
{
    private const string Label = "mpc-signer/device-id/v1";

    /// <summary>
    /// "device-" and 24 hex digits of SHA-256 over a label and the machine's id (/etc/machine-id or
    /// /var/lib/dbus/machine-id on Linux; the host name elsewhere or when neither exists). Hashed with our own label,
    /// as systemd asks of applications, so the raw machine id is never shown or stored. Containers that share an
    /// image may share a machine id: give those an explicit device id instead.
    /// </summary>
    public static string OfThisMachine()
    {
        string source = MachineId() ?? "host:" + Environment.MachineName;
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(Label + "\n" + source));
        return "device-" + Convert.ToHexStringLower(digest)[..24];
    }

    private static string? MachineId()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        foreach (string path in new[] { "/etc/machine-id", "/var/lib/dbus/machine-id" })
        {
            try
            {
                string id = File.ReadAllText(path).Trim();
                if (id.Length > 0)
                {
                    return "machine-id:" + id;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not readable here (a minimal container): try the next source.
            }
        }
        return null;
    }
}

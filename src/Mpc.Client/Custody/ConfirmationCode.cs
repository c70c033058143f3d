using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The short codes a person carries between two devices to confirm that both see the same thing, one in each
/// direction: the new device's enrolment request (<see cref="EnrolmentRequest.ConfirmationCode"/>, typed into the
/// existing device) and the existing device's handover (<see cref="SealedHandover.HandoverCode"/>, typed into the new
/// device). 80 bits as 16 Crockford base-32 characters in groups of four ("7K3F-9QXD-M2PA-R8TN").
/// </summary>
public static class ConfirmationCode
{
    /// <summary>Domain of the request's code. Each code has its own label, so one can never stand in for the other.</summary>
    internal const string RequestLabel = "mpc-signer/device-enrolment/confirmation-code";

    /// <summary>Domain of the handover's code.</summary>
    internal const string HandoverLabel = "mpc-signer/device-handover/handover-code";

    private const uint Version = 2;
    private const int CodeBytes = 10;
    private const int CodeCharacters = CodeBytes * 8 / 5;
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>
    /// Argon2id makes every guess at a matching code cost 64 MiB and tens of milliseconds, on top of the 80-bit
    /// code length, for an attacker who substitutes a request or a handover and needs its code to equal the genuine one.
    /// Fixed by the format version: both devices must compute the same code.
    /// </summary>
    private static readonly Argon2idParameters Kdf = Argon2idParameters.Unchecked(1, 64 * 1024, 1, EnrolmentRequest.RequestIdLength);

    /// <summary>
    /// True when <paramref name="typed"/> is the code <paramref name="expected"/>, read the way people type it:
    /// case, spaces and dashes do not matter, and O, I and L stand for 0, 1 and 1. Compared in constant time.
    /// </summary>
    public static bool Matches(string expected, string typed)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(typed);
        static byte[] Normalise(string code) => System.Text.Encoding.ASCII.GetBytes(new string([.. code.ToUpperInvariant()
            .Where(c => c is not ('-' or ' '))
            .Select(c => c switch { 'O' => '0', 'I' or 'L' => '1', _ => c })
            .Select(c => c < 128 ? c : '?')]));
        return CryptographicOperations.FixedTimeEquals(Normalise(expected), Normalise(typed));
    }

    /// <summary>
    /// The code of <paramref name="fields"/> (the encoded public fields it vouches for) in the domain <paramref name="label"/>
    /// (<see cref="RequestLabel"/> or <see cref="HandoverLabel"/>), with <paramref name="salt"/> (the request id).
    /// </summary>
    internal static string Derive(string label, ReadOnlySpan<byte> fields, byte[] salt)
    {
        byte[] transcript = SHA256.HashData(new WireWriter().WriteString(label).WriteUInt32(Version).WriteBytes(fields).WrittenSpan);
        byte[] output = new byte[CodeBytes];
        Kdf.Derive(transcript, salt, output);
        var code = new System.Text.StringBuilder(CodeCharacters + 3);
        int buffer = 0, bits = 0;
        foreach (byte b in output)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                if (code.Length is 4 or 9 or 14)
                {
                    code.Append('-');
                }
                code.Append(Crockford[(buffer >> bits) & 31]);
            }
        }
        return code.ToString();
    }
}

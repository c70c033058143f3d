using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>`mpc cert`, `mpc timestamp`, and the CMS (CAdES-BES, or -B-T with a time-stamp) forms of `mpc sign` and `mpc verify`.</summary>
internal static class DocumentCommands
{
    public static Command Cert()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected();
        var keyFile = new Option<string>("--key") { Description = "Key file", Required = true };
        var subject = new Option<string>("--subject") { Description = "Distinguished name, e.g. \"CN=Alice,O=Example\"", Required = true };
        var days = new Option<int>("--days") { Description = "Validity in days from now", DefaultValueFactory = _ => 365 };
        var output = new Option<string>("--out") { Description = "Where to write the certificate (PEM)", Required = true };
        var command = new Command("cert", "Make a self-signed certificate for a split key, store it in the server's key record and write it as PEM.")
        {
            server, token, keyFile, subject, days, output, passphraseEnv, unprotected,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            X500DistinguishedName name = ParseSubject(parse.GetValue(subject)!);
            int validDays = parse.GetValue(days);
            if (validDays is < 1 or > 36500)
            {
                throw CliException.Usage("--days must be between 1 and 36500");
            }
            ClientKeyShare share = OpenedKeyFile.Open(parse.GetValue(keyFile)!, parse.GetValue(passphraseEnv), parse.GetValue(unprotected)).Share;
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            using MpcKey key = client.OpenKey(share);
            // Back-dated a little so that a verifier whose clock is slightly behind accepts it at once.
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(key, name, now.AddMinutes(-5), now.AddDays(validDays), cancellationToken);
            await OutputFile.WriteAsync(parse.GetValue(output)!, System.Text.Encoding.UTF8.GetBytes(SignerCertificates.ToPem([certificate])), cancellationToken);
            Console.Error.WriteLine($"Certificate stored in the record of key {key.KeyId} and written to {parse.GetValue(output)}.");
            Console.WriteLine($"Subject: {certificate.Subject}");
            Console.WriteLine($"Serial: {certificate.SerialNumber}");
            Console.WriteLine($"Valid: {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}");
            Console.WriteLine($"SHA-256 fingerprint: {certificate.GetCertHashString(HashAlgorithmName.SHA256)}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// `mpc timestamp`: a signature time-stamp added to an existing detached CMS, such as one a browser made. Needs no
    /// key and no server: the time-stamp is over the (public) signature value.
    /// </summary>
    public static Command Timestamp()
    {
        var input = new Option<string>("--in") { Description = "The document the CMS signs", Required = true };
        var signatureFile = new Option<string>("--sig", "--signature") { Description = "The detached CMS (DER, .p7s)", Required = true };
        var tsa = new Option<string>("--tsa") { Description = "An RFC 3161 time-stamping authority's http(s) URL", Required = true };
        Option<string?> tsaCa = TsaCaOption("the new time-stamp must chain to one");
        var output = new Option<string>("--out") { Description = "Where to write the time-stamped CMS (CAdES-B-T)", Required = true };
        var command = new Command("timestamp", "Add an RFC 3161 signature time-stamp to a detached CMS that verifies (CAdES-BES becomes CAdES-B-T); no key or server needed.")
        {
            input, signatureFile, tsa, tsaCa, output,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var request = new TimestampRequest(TimestampAuthorityUrl(parse.GetValue(tsa)!), parse.GetValue(tsaCa));
            byte[] document = await File.ReadAllBytesAsync(parse.GetValue(input)!, cancellationToken);
            byte[] signature = await File.ReadAllBytesAsync(parse.GetValue(signatureFile)!, cancellationToken);
            try
            {
                // Before anything is sent: what was given must be a signature over the document.
                CadesSignature.Verify(document, signature);
            }
            catch (MpcSignerException e)
            {
                throw CliException.VerificationFailed($"{e.Message.TrimEnd('.')}: nothing was time-stamped");
            }
            (byte[] stamped, string stampedBy) = await request.StampAsync(document, signature, cancellationToken);
            await OutputFile.WriteAsync(parse.GetValue(output)!, stamped, cancellationToken);
            Console.Error.WriteLine($"Time-stamped {stampedBy}; CMS (CAdES-B-T, detached) written to {parse.GetValue(output)}.");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// `mpc sign --format cms`: a detached DER CMS, with the key record's chain or the one in <paramref name="certificateFile"/>,
    /// time-stamped by <paramref name="timestampAuthority"/> when given. Nothing is written unless every step succeeded.
    /// </summary>
    public static async Task SignCms(
        MpcSignerClient client, MpcKey key, byte[] document, string? certificateFile, TimestampRequest? timestampAuthority, string outPath, CancellationToken cancellationToken)
    {
        X509Certificate2[] chain;
        if (certificateFile is not null)
        {
            chain = [.. ReadCertificates(certificateFile, "--cert")];
        }
        else
        {
            MpcKeyInfo info = await client.GetKeyAsync(key.KeyId, cancellationToken);
            chain = info.CertificateChain.Count > 0
                ? [.. info.CertificateChain]
                : throw CliException.Usage($"Key {key.KeyId} has no certificate: run mpc cert or import a PKCS#12 with one, or pass --cert.");
        }
        try
        {
            byte[] cms = await client.SignCmsAsync(key, document, chain, cancellationToken);
            string profile = "CAdES-BES, detached";
            if (timestampAuthority is not null)
            {
                (cms, string stampedBy) = await timestampAuthority.StampAsync(document, cms, cancellationToken);
                profile = $"CAdES-B-T, detached, time-stamped {stampedBy}";
            }
            await OutputFile.WriteAsync(outPath, cms, cancellationToken);
            Console.Error.WriteLine($"Signed {document.Length} bytes with key {key.KeyId} as {chain[0].Subject}; CMS ({profile}) written to {outPath}.");
        }
        finally
        {
            foreach (X509Certificate2 certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>
    /// `mpc verify --format cms`. Who signed is established only against --ca; --untrusted checks that the
    /// document is intact and says plainly that the signer is unverified.
    /// </summary>
    public static async Task<int> VerifyCms(string documentFile, string signatureFile, string? caFile, bool untrusted, string? tsaCaFile, CancellationToken cancellationToken)
    {
        if (caFile is null && !untrusted)
        {
            throw CliException.Usage("pass --ca CERT to check who signed, or --untrusted to check only that the document is intact");
        }
        if (caFile is not null && untrusted)
        {
            throw CliException.Usage("--ca and --untrusted exclude each other: give one");
        }
        byte[] document = await File.ReadAllBytesAsync(documentFile, cancellationToken);
        byte[] signature = await File.ReadAllBytesAsync(signatureFile, cancellationToken);
        X509Certificate2Collection? anchors = caFile is null ? null : ReadCertificates(caFile, "--ca");
        X509Certificate2Collection? timestampAnchors = tsaCaFile is null ? null : ReadCertificates(tsaCaFile, "--tsa-ca");
        CadesVerification result;
        try
        {
            result = CadesSignature.Verify(document, signature, anchors, timestampAnchors: timestampAnchors);
        }
        catch (MpcSignerException e)
        {
            string message = e.Message;
            if (tsaCaFile is not null)
            {
                message = message.Replace("the given time-stamp trust anchors", tsaCaFile, StringComparison.Ordinal)
                    .Replace("time-stamp trust anchors were given", $"--tsa-ca {tsaCaFile} was given", StringComparison.Ordinal);
            }
            if (caFile is not null)
            {
                message = message.Replace("the given trust anchors", caFile, StringComparison.Ordinal);
            }
            Console.WriteLine($"Verification failure: {message}");
            return (int)CliExit.VerificationFailed;
        }
        string time = (result.Timestamp is { } stamp
                ? $"; time-stamped {stamp.Time.UtcDateTime:u} by {stamp.Authority.Subject}"
                    + (stamp.ChainValidated ? $", trusted through {tsaCaFile}" : " (its authority NOT checked against any trust anchor: pass --tsa-ca)")
                : "")
            + (result.SigningTime is { } at ? $"; signing time {at.UtcDateTime:u} (as claimed by the signer)" : "");
        if (result.ChainValidated)
        {
            string when = result.Timestamp is { ChainValidated: true } stamp2 && result.ChainValidatedAt == stamp2.LatestTime
                ? $" (valid when time-stamped, {stamp2.LatestTime.UtcDateTime:u}; no longer valid now)"
                : "";
            Console.WriteLine($"Verified OK: signed by {result.SignerCertificate.Subject}, trusted through {caFile}{when}{time}");
        }
        else
        {
            Console.WriteLine($"Signature intact; signer NOT verified: the certificate {result.SignerCertificate.Subject} was not checked against any trust anchor{time}");
        }
        return 0;
    }

    /// <summary>`mpc verify --format jws`: the JWS must verify under the key and sign the document (as its payload, or detached).</summary>
    public static int VerifyJws(string jws, byte[] subjectPublicKeyInfo, byte[] document)
    {
        JwsVerification result;
        try
        {
            result = JwsSignature.VerifyDetached(jws, subjectPublicKeyInfo, document);
        }
        catch (MpcSignerException e)
        {
            Console.WriteLine($"Verification failure: {e.Message}");
            return (int)CliExit.VerificationFailed;
        }
        Console.WriteLine($"Verified OK: {result.Algorithm}, payload {(result.PayloadWasDetached ? "detached" : "embedded")}, header {result.Header}");
        return 0;
    }

    /// <summary>--tsa-ca of `mpc sign`, `mpc timestamp` and `mpc verify`.</summary>
    public static Option<string?> TsaCaOption(string what) => new("--tsa-ca")
    {
        Description = $"Trusted time-stamping authority certificate(s), PEM or DER: {what}",
    };

    /// <summary>--tsa and --tsa-ca: where to ask for a time-stamp, and whom to trust for it.</summary>
    internal sealed record TimestampRequest(Uri Url, string? CaFile)
    {
        /// <summary>The CMS with a new signature time-stamp, and "TIME by AUTHORITY, trusted through FILE" (or why it was not checked).</summary>
        public async Task<(byte[] Cms, string StampedBy)> StampAsync(byte[] document, byte[] cms, CancellationToken cancellationToken)
        {
            X509Certificate2Collection? anchors = CaFile is null ? null : ReadCertificates(CaFile, "--tsa-ca");
            using var authority = new TimestampAuthority(Url);
            TimestampedSignature stamped;
            try
            {
                stamped = await CadesSignature.AddTimestampAsync(document, cms, authority, anchors, cancellationToken);
            }
            catch (MpcSignerException e) when (CaFile is not null && e.Reason == MpcErrorReason.TimestampRefused)
            {
                throw new CliException(e.Message.Replace("the given time-stamp trust anchors", CaFile, StringComparison.Ordinal));
            }
            // The new time-stamp, not the earliest the CMS carries (mpc timestamp may add one beside another).
            CadesTimestamp stamp = stamped.Timestamp;
            return (stamped.Signature, $"{stamp.Time.UtcDateTime:u} by {stamp.Authority.Subject}"
                + (stamp.ChainValidated ? $", trusted through {CaFile}" : " (its authority NOT checked against any trust anchor: pass --tsa-ca)"));
        }
    }

    /// <summary>The --tsa value as an absolute http(s) URL, or a usage error.</summary>
    public static Uri TimestampAuthorityUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw CliException.Usage($"--tsa \"{value}\" is not an http:// or https:// URL of a time-stamping authority");

    private static X500DistinguishedName ParseSubject(string subject)
    {
        try
        {
            var name = new X500DistinguishedName(subject);
            return name.RawData.Length > 2 ? name : throw CliException.Usage("--subject is empty; give a name such as \"CN=Alice,O=Example\"");
        }
        catch (CryptographicException)
        {
            throw CliException.Usage($"--subject \"{subject}\" is not a distinguished name such as \"CN=Alice,O=Example\"");
        }
    }

    private static X509Certificate2Collection ReadCertificates(string path, string option)
    {
        try
        {
            X509Certificate2Collection certificates = SignerCertificates.Read(File.ReadAllBytes(path));
            return certificates.Count > 0 ? certificates : throw CliException.LocalInput($"{option} {path} holds no certificate: give a PEM or DER certificate file");
        }
        catch (CryptographicException)
        {
            throw CliException.LocalInput($"{option} {path} is not a PEM or DER certificate: give a certificate file");
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mpc.Cli;

/// <summary>`mpc keygen`, `pubkey`, `sign`, `verify` (their CMS forms are in <see cref="DocumentCommands"/>).</summary>
internal static class KeyCommands
{
    public static Command KeyGen()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.StoreUnprotected();
        var curve = new Option<string>("--curve") { Description = "secp256k1, p256 or p384", DefaultValueFactory = _ => "p256" };
        var output = new Option<string>("--out") { Description = "Key file to write (the client share, encrypted)", Required = true };
        Option<bool> verbose = DeviceProfileCli.Verbose();
        var command = new Command("keygen",
            $"Create a split key with the server; the client share goes to --out. This device's proof parameters are kept in {DeviceProfileCli.FileName} beside it (made on first use).")
        {
            server, token, curve, output, passphraseEnv, unprotected, verbose,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            CurveKind curveKind = EcCurve.Parse(parse.GetValue(curve)!);
            string outPath = parse.GetValue(output)!;
            // Held to the end: OUT.unconfirmed has a fixed name, and another keygen to OUT would replace its share.
            using KeyFileLock held = KeyFileLock.Acquire(outPath);
            if (File.Exists(outPath))
            {
                throw CliException.LocalInput($"{outPath} exists; choose another --out (a key file is never overwritten)");
            }
            string tokenValue = CommonOptions.TokenValue(parse.GetValue(token));
            string user = CommonOptions.UserOf(tokenValue);
            // One Argon2id for the command: the key file is sealed under the device profile's derivation (docs/key-custody.md).
            using var derivedKeys = new PassphraseKeyCache();
            KeyFileProtection protection = CommonOptions.Protection(parse.GetValue(passphraseEnv), parse.GetValue(unprotected), confirm: true)
                .WithDerivedKeys(derivedKeys);
            bool isVerbose = parse.GetValue(verbose);
            using MpcSignerClient client = CommonOptions.Client(parse, server, tokenValue, DeviceProfileCli.For(outPath, protection, isVerbose));
            var clock = Stopwatch.StartNew();
            var unconfirmed = new UnconfirmedKeyFile(outPath, user, protection);
            using MpcKey key = await unconfirmed.SettleAsync(client, curveKind, cancellationToken) ?? await unconfirmed.CreateAsync(client, curveKind, cancellationToken);
            unconfirmed.Keep(key);
            DeviceProfileCli.PrintLocal(isVerbose, unconfirmed.Writing);
            Console.Error.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0} s; client share written to {outPath}.");
            Console.WriteLine($"Key id: {key.KeyId}");
            Console.Write(key.PublicKeyPem);
            return 0;
        }));
        return command;
    }

    public static Command PublicKey()
    {
        var keyFile = new Option<string>("--key") { Description = "Key file", Required = true };
        Option<string?> passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected();
        var unverified = new Option<bool>("--unverified") { Description = "Print the file's clear header without the passphrase, marked UNVERIFIED (anyone who can edit the file can change it)" };
        var command = new Command("pubkey", "Print a key file's public key (PEM), authenticated with the passphrase.") { keyFile, passphraseEnv, unprotected, unverified };
        command.SetAction((parse, _) => CliErrors.Run(parse, () =>
        {
            string path = parse.GetValue(keyFile)!;
            if (parse.GetValue(unverified))
            {
                string pem = ClientKeyFile.ReadPublicInfo(path).PublicKeyPem;
                Console.Error.WriteLine("warning: UNVERIFIED public key: read from the clear header without the passphrase; do not publish or certify it");
                Console.WriteLine("# UNVERIFIED: read without the passphrase; anyone who can edit the key file can change it");
                Console.Write(pem);
                return Task.FromResult(0);
            }
            // Decrypting proves the header: the public key shown is the one the share belongs to.
            OpenedKeyFile opened = OpenedKeyFile.Open(path, parse.GetValue(passphraseEnv), parse.GetValue(unprotected));
            opened.Share.Dispose();
            if (!opened.Info.IsProtected)
            {
                Console.Error.WriteLine("warning: this key file is unprotected, so nothing in it is authenticated: anyone who can edit it can change this key");
            }
            Console.Write(opened.Info.PublicKeyPem);
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>`mpc keys`: the user's keys as the server holds them, so a frozen key shows before a signature is refused.</summary>
    public static Command ListKeys()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        Option<bool> json = CommonOptions.Json("the keys");
        var command = new Command("keys", "List your keys on the server: id, curve, status (active or frozen), creation time and certificate subject.") { server, token, json };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            KeyJson[] keys = [.. (await client.ListKeysAsync(cancellationToken)).OrderBy(k => k.CreatedAt).Select(KeyJson.Of)];
            if (parse.GetValue(json))
            {
                await CliJson.WriteAsync(Console.Out, new KeysJson(keys));
            }
            else
            {
                Console.WriteLine($"{"KEY",-32} {"CURVE",-9} {"STATUS",-7} {"CREATED",-20} CERTIFICATE");
                foreach (KeyJson key in keys)
                {
                    string origin = key.Imported ? " (imported)" : "";
                    Console.WriteLine($"{key.KeyId,-32} {key.Curve,-9} {key.Status,-7} {key.CreatedAt:yyyy-MM-dd HH:mm:ss}  {key.CertificateSubject ?? "-"}{origin}");
                }
            }
            if (keys.Any(k => k.Status == KeyJson.Frozen))
            {
                Console.Error.WriteLine("A frozen key signs nothing until an operator lifts the freeze (mpc admin unfreeze); docs/service.md says why keys freeze.");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>`mpc keys --json` (<see cref="CliJson"/>): <c>{"keys": [...]}</c>, oldest first, as the text lists them.</summary>
    internal sealed record KeysJson(IReadOnlyList<KeyJson> Keys);

    /// <summary>One key as `mpc keys` shows it: its curve by name, "active" or "frozen", its certificate's subject or null.</summary>
    internal sealed record KeyJson(string KeyId, string Curve, string Status, DateTimeOffset CreatedAt, string? CertificateSubject, bool Imported)
    {
        public const string Frozen = "frozen";

        public static KeyJson Of(MpcKeyInfo key) => new(
            key.KeyId, EcCurve.NameOf(key.Curve), key.Frozen ? Frozen : "active", key.CreatedAt,
            key.CertificateChain.Count > 0 ? key.CertificateChain[0].Subject : null, key.Imported);
    }

    public static Command Sign()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected();
        var keyFile = new Option<string>("--key") { Description = "Key file", Required = true };
        var input = new Option<string>("--in") { Description = "Document to sign", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the signature", Required = true };
        var highSAllowed = new Option<bool>("--high-s-allowed")
        {
            Description = "Allow s in the upper half of the order (plain ECDSA); by default s is low, as libsecp256k1 and @noble/curves require",
        };
        Option<string> format = Format("der: DER ECDSA signature; raw: r||s; cms: detached CMS (CAdES-BES) with the key's certificate; jws: compact JWS (ES256, ES384 or ES256K) with the document as payload");
        var cert = new Option<string?>("--cert") { Description = "With --format cms: signer certificate (PEM or DER; a PEM chain leaf first) instead of the key record's" };
        var tsa = new Option<string?>("--tsa")
        {
            Description = "With --format cms: an RFC 3161 time-stamping authority's http(s) URL; the CMS gets its signature time-stamp (CAdES-B-T)",
        };
        Option<string?> tsaCa = DocumentCommands.TsaCaOption("with --tsa, the new time-stamp must chain to one");
        var command = new Command("sign", "Sign a document (SHA-256; SHA-384 for P-384) with the server; writes a DER ECDSA signature, r||s, or a CMS.")
        {
            server, token, keyFile, input, output, passphraseEnv, unprotected, highSAllowed, format, cert, tsa, tsaCa,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string formatValue = parse.GetValue(format)!;
            if (parse.GetValue(cert) is not null && formatValue != "cms")
            {
                throw CliException.Usage("--cert applies only to --format cms");
            }
            DocumentCommands.TimestampRequest? timestampAuthority = parse.GetValue(tsa) is { } tsaValue
                ? new(DocumentCommands.TimestampAuthorityUrl(tsaValue), parse.GetValue(tsaCa))
                : parse.GetValue(tsaCa) is null ? null : throw CliException.Usage("--tsa-ca applies only with --tsa");
            if (timestampAuthority is not null && formatValue != "cms")
            {
                throw CliException.Usage("--tsa applies only to --format cms");
            }
            byte[] document = await File.ReadAllBytesAsync(parse.GetValue(input)!, cancellationToken);
            // The key file decrypts on its own thread while the connection is made and the server's first commitment
            // fetched (docs/key-custody.md, "A refresh while the key file opens": a signature gains the same way).
            KeyFileOpening opening = KeyFileOpening.Begin(parse.GetValue(keyFile)!, parse.GetValue(passphraseEnv), parse.GetValue(unprotected), derivedKeys: null, inBackground: true);
            MpcSignerClient? connected = null;
            MpcKey key;
            try
            {
                connected = CommonOptions.Client(parse, server, token);
                key = await connected.OpenKeyFileAsync(opening.Header, opening.Share, cancellationToken);
            }
            catch
            {
                connected?.Dispose();
                await opening.DisposeShareAsync();
                throw;
            }
            using MpcSignerClient client = connected;
            using MpcKey _ = key;
            if (formatValue == "cms")
            {
                await DocumentCommands.SignCms(client, key, document, parse.GetValue(cert), timestampAuthority, parse.GetValue(output)!, cancellationToken);
                return 0;
            }
            if (formatValue == "jws")
            {
                string jws = await client.SignJwsAsync(key, document, cancellationToken: cancellationToken);
                await OutputFile.WriteAsync(parse.GetValue(output)!, System.Text.Encoding.ASCII.GetBytes(jws), cancellationToken);
                Console.Error.WriteLine($"Signed {document.Length} bytes with key {key.KeyId}; JWS ({Mpc.Client.Documents.JwsSignature.AlgorithmFor(key.Curve)}, compact) written to {parse.GetValue(output)}.");
                return 0;
            }
            MpcSignature signature = await client.SignDataAsync(key, document, new MpcSignOptions { LowS = !parse.GetValue(highSAllowed) }, cancellationToken);
            byte[] encoded = formatValue == "raw" ? signature.ToP1363() : signature.ToDer();
            await OutputFile.WriteAsync(parse.GetValue(output)!, encoded, cancellationToken);
            Console.Error.WriteLine($"Signed {document.Length} bytes with key {key.KeyId}; signature written to {parse.GetValue(output)}.");
            return 0;
        }));
        return command;
    }

    public static Command Verify()
    {
        var publicKey = new Option<string?>("--pub") { Description = "Public key PEM (der and raw formats)" };
        var input = new Option<string>("--in") { Description = "Document", Required = true };
        var signatureFile = new Option<string>("--sig", "--signature") { Description = "Signature file", Required = true };
        Option<string> format = Format("der: DER ECDSA signature; raw: r||s; cms: detached CMS (CAdES-BES or -B-T); jws: compact JWS whose payload is the document (or detached)");
        var ca = new Option<string?>("--ca") { Description = "With --format cms: trusted certificate(s), PEM or DER; the signer's certificate must chain to one" };
        var untrusted = new Option<bool>("--untrusted") { Description = "With --format cms: check only that the document is intact, not who signed" };
        Option<string?> tsaCa = DocumentCommands.TsaCaOption("with --format cms, the CMS must carry a signature time-stamp that chains to one");
        var command = new Command("verify", "Verify a signature over a document (SHA-256; SHA-384 for P-384): DER or r||s ECDSA, or a CMS.")
        {
            publicKey, input, signatureFile, format, ca, untrusted, tsaCa,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            if (parse.GetValue(format) == "cms")
            {
                return parse.GetValue(publicKey) is null
                    ? await DocumentCommands.VerifyCms(parse.GetValue(input)!, parse.GetValue(signatureFile)!, parse.GetValue(ca), parse.GetValue(untrusted), parse.GetValue(tsaCa), cancellationToken)
                    : throw CliException.Usage("--pub does not apply to --format cms: the certificate is in the signature; pass --ca");
            }
            if (parse.GetValue(ca) is not null || parse.GetValue(untrusted) || parse.GetValue(tsaCa) is not null)
            {
                throw CliException.Usage("--ca, --untrusted and --tsa-ca apply only to --format cms");
            }
            string publicKeyFile = parse.GetValue(publicKey) ?? throw CliException.Usage("--pub is required for --format der, raw and jws");
            (EcCurve curve, Org.BouncyCastle.Math.EC.ECPoint q) = ReadPublicKey(await File.ReadAllTextAsync(publicKeyFile, cancellationToken));
            byte[] document = await File.ReadAllBytesAsync(parse.GetValue(input)!, cancellationToken);
            if (parse.GetValue(format) == "jws")
            {
                return DocumentCommands.VerifyJws(
                    await File.ReadAllTextAsync(parse.GetValue(signatureFile)!, cancellationToken), PublicKeyEncoding.ToSubjectPublicKeyInfo(curve, q), document);
            }
            byte[] der = await File.ReadAllBytesAsync(parse.GetValue(signatureFile)!, cancellationToken);
            (Org.BouncyCastle.Math.BigInteger r, Org.BouncyCastle.Math.BigInteger s) = parse.GetValue(format) == "raw" ? ParseRaw(der, curve) : ParseDer(der, curve);
            bool ok = curve.Verify(q, Digest.Parse(MpcSignerClient.HashFor(curve.Kind, document)), r, s);
            Console.WriteLine(ok ? "Verified OK" : "Verification failure");
            return (int)(ok ? CliExit.Ok : CliExit.VerificationFailed);
        }));
        return command;
    }

    internal static (EcCurve Curve, Org.BouncyCastle.Math.EC.ECPoint Q) ReadPublicKey(string pem)
    {
        var reader = new Org.BouncyCastle.OpenSsl.PemReader(new StringReader(pem));
        if (reader.ReadObject() is not ECPublicKeyParameters key || key.PublicKeyParamSet is null)
        {
            throw CliException.LocalInput("--pub is not an EC public key PEM with a named curve: give the public key keygen or pubkey printed");
        }
        CurveKind kind = PublicKeyEncoding.CurveOf(key.PublicKeyParamSet)
            ?? throw CliException.LocalInput($"--pub is on curve {key.PublicKeyParamSet.Id}; mpc verifies P-256, P-384 and secp256k1 keys");
        EcCurve curve = EcCurve.Get(kind);
        return (curve, curve.DecodePoint(key.Q.GetEncoded(true), "public key"));
    }

    private static Option<string> Format(string description)
    {
        var format = new Option<string>("--format") { Description = description, DefaultValueFactory = _ => "der" };
        format.AcceptOnlyFromAmong("der", "raw", "cms", "jws");
        return format;
    }

    private static (Org.BouncyCastle.Math.BigInteger R, Org.BouncyCastle.Math.BigInteger S) ParseRaw(byte[] raw, EcCurve curve) =>
        raw.Length == 2 * curve.ScalarLength
            ? (new Org.BouncyCastle.Math.BigInteger(1, raw, 0, curve.ScalarLength), new Org.BouncyCastle.Math.BigInteger(1, raw, curve.ScalarLength, curve.ScalarLength))
            : throw CliException.VerificationFailed($"--sig is not a {2 * curve.ScalarLength}-byte r||s signature, so it does not verify (check --format)");

    private static (Org.BouncyCastle.Math.BigInteger R, Org.BouncyCastle.Math.BigInteger S) ParseDer(byte[] der, EcCurve curve)
    {
        try
        {
            return EcdsaDer.Decode(der, curve);
        }
        catch (Mpc.Crypto.MpcProtocolException e)
        {
            throw CliException.VerificationFailed($"--sig is {e.Message.TrimEnd('.')}, so it does not verify (check --format)");
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Cli;

/// <summary>
/// `mpc demo`: both parties of the protocol in this one process, every message through its wire
/// encoding: key generation, one signature over a sample document, and an independent check.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var curveOption = new Option<string>("--curve") { Description = "secp256k1, p256 or p384", DefaultValueFactory = _ => "p256" };
        var outOption = new Option<DirectoryInfo?>("--out") { Description = "Directory for the document, signature and public key (default: a new temporary directory)" };
        var command = new Command("demo", "Generate a split key, sign a sample document and verify it, all in this process.")
        {
            curveOption,
            outOption,
        };
        command.SetAction(parse => Run(parse.GetValue(curveOption)!, parse.GetValue(outOption)));
        return command;
    }

    private static int Run(string curveName, DirectoryInfo? outDirectory)
    {
        try
        {
            CurveKind curveKind = EcCurve.Parse(curveName);
            EcCurve curve = EcCurve.Get(curveKind);
            IBigNumBackend backend = BigNumBackends.Default;
            Console.WriteLine($"Big-number backend: {backend.Name}");

            var clock = Stopwatch.StartNew();
            Console.Write("Client: generating ring-Pedersen parameters (two safe primes, once per device)... ");
            using RingPedersenSecret auxiliary = RingPedersenSecret.Generate(backend);
            Console.WriteLine($"{clock.ElapsedMilliseconds} ms");

            clock.Restart();
            Console.Write($"Distributed key generation on {curve.Name} (Paillier key, Πprm, Πmod, Πfac, Πlog*)... ");
            (ServerKeyShare serverKey, ClientKeyShare clientKey) = KeyGen(curveKind, auxiliary, backend);
            Console.WriteLine($"{clock.ElapsedMilliseconds} ms");

            byte[] document = System.Text.Encoding.UTF8.GetBytes(
                $"Sample document signed by mpc-signer at {DateTimeOffset.UtcNow:O}.\nNeither party ever held the whole key.\n");
            byte[] digest = curveKind == CurveKind.P384 ? SHA384.HashData(document) : SHA256.HashData(document);

            clock.Restart();
            Console.Write("Two-party signature (5 messages)... ");
            EcdsaSignature signature = Sign(serverKey, clientKey, digest);
            Console.WriteLine($"{clock.ElapsedMilliseconds} ms");

            if (!curve.Verify(clientKey.PublicKey, digest, signature.R, signature.S))
            {
                Console.Error.WriteLine("error: the signature does not verify");
                return 1;
            }

            string directory = outDirectory?.FullName ?? Directory.CreateTempSubdirectory("mpc-demo-").FullName;
            Directory.CreateDirectory(directory);
            string docPath = Path.Combine(directory, "document.txt");
            string sigPath = Path.Combine(directory, "signature.der");
            string pemPath = Path.Combine(directory, "public.pem");
            File.WriteAllBytes(docPath, document);
            File.WriteAllBytes(sigPath, signature.ToDer());
            File.WriteAllText(pemPath, PublicKeyEncoding.ToPem(curve, clientKey.PublicKey));

            Console.WriteLine();
            Console.WriteLine($"Key id:     {clientKey.KeyId}");
            Console.WriteLine($"Public key ({pemPath}):");
            Console.Write(PublicKeyEncoding.ToPem(curve, clientKey.PublicKey));
            Console.WriteLine($"Signature (DER, {sigPath}):");
            Console.WriteLine($"  {Convert.ToHexStringLower(signature.ToDer())}");
            Console.WriteLine($"Document:   {docPath}");
            Console.WriteLine();
            Console.WriteLine("Verify it independently with OpenSSL:");
            string digestFlag = curveKind == CurveKind.P384 ? "-sha384" : "-sha256";
            Console.WriteLine($"  openssl dgst {digestFlag} -verify {pemPath} -signature {sigPath} {docPath}");
            serverKey.Dispose();
            clientKey.Dispose();
            return 0;
        }
        catch (MpcProtocolException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    private static (ServerKeyShare, ClientKeyShare) KeyGen(CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend)
    {
        using var server = new KeyGenServerSession(KeyIds.New(), backend);
        using var client = new KeyGenClientSession(curve, auxiliary, backend);
        KeyGenRequest request = KeyGenRequest.Decode(client.Start().Encode());
        KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(request).Encode());
        KeyGenClientShare share = KeyGenClientShare.Decode(client.HandleCommitment(commitment).Encode(), curve);
        KeyGenServerOutput output = server.HandleClientShare(share);
        return (output.Share, client.HandleServerShare(KeyGenServerShare.Decode(output.Message.Encode(), curve)));
    }

    private static EcdsaSignature Sign(ServerKeyShare serverKey, ClientKeyShare clientKey, byte[] digest)
    {
        CurveKind curve = serverKey.Curve;
        var server = new SignServerSession(serverKey);
        var client = new SignClientSession(clientKey, digest);
        SignNonce nonce = SignNonce.Decode(client.HandleCommitment(SignCommitment.Decode(server.Commitment.Encode())).Encode(), curve);
        SignOpening opening = SignOpening.Decode(server.HandleNonce(nonce).Encode(), curve);
        SignServerOutcome outcome = server.HandleCiphertext(SignCiphertext.Decode(client.HandleOpening(opening).Encode()));
        SignResult result = outcome.Message ?? throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed,
            "The server's final check failed; the key must be frozen.");
        return client.HandleResult(SignResult.Decode(result.Encode(), curve));
    }
}

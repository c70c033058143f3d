using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Testing;

namespace Mpc.Client.Tests.Documents;

/// <summary>
/// Signatures someone else made, under mutation: a time-stamped CAdES signature (its unsigned time-stamp included,
/// which anyone handling the file can change), a compact JWS and the public key it is checked under. Each mutant is
/// refused with the documented error (<see cref="MpcErrorReason.DocumentSignature"/>, or <see cref="ArgumentException"/>
/// for a key) or verifies as the original did. Found before these tests: SignedCms decodes its certificates lazily, and
/// a certificate that did not decode escaped from <see cref="CadesSignature.Verify"/> as a CryptographicException.
/// </summary>
public sealed class DocumentFuzzTests
{
    [Fact]
    public void A_mutated_time_stamped_cades_signature_is_refused_or_verifies_as_the_original()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 tsaRoot = HandMadeTimestamps.Ca("Fuzz TSA Root", now.AddYears(-1), now.AddYears(5));
        using X509Certificate2 authority = HandMadeTimestamps.Authority(tsaRoot, "Fuzz TSA", now.AddYears(-1), now.AddYears(1));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Fuzz Signer", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        using X509Certificate2 signer = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        byte[] document = "a contract under mutation"u8.ToArray();
        byte[] cms = CadesSignature.Sign(document, key, [signer]);
        byte[] stamped = HandMadeTimestamps.WithToken(document, cms,
            HandMadeTimestamps.Token(authority, HandMadeTimestamps.SignatureValue(document, cms), now.AddMinutes(-1)));
        CadesVerification original = CadesSignature.Verify(document, stamped, [signer], timestampAnchors: [tsaRoot]);

        var fuzz = new Mutations("CAdES-B-T signature");
        foreach (Mutant mutant in fuzz.Of(stamped, Mutations.Iterations(400)))
        {
            fuzz.Check(mutant, bytes =>
            {
                // Whatever still verifies names the same signer and the same document digest: the signed part held.
                CadesVerification unanchored = CadesSignature.Verify(document, bytes);
                Assert.Equal(original.SignerCertificate.Thumbprint, unanchored.SignerCertificate.Thumbprint);
                CadesVerification anchored = CadesSignature.Verify(document, bytes, [signer], timestampAnchors: [tsaRoot]);
                Assert.True(anchored.ChainValidated);
                Assert.Equal(original.Timestamp!.Authority.Thumbprint, anchored.Timestamp!.Authority.Thumbprint);
            }, e => e is MpcSignerException { Reason: MpcErrorReason.DocumentSignature });
        }
    }

    [Fact]
    public void A_mutated_jws_or_public_key_is_refused_or_verifies_with_the_original_payload()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] spki = key.ExportSubjectPublicKeyInfo();
        byte[] payload = "pay 10 to Bob"u8.ToArray();
        string input = System.Buffers.Text.Base64Url.EncodeToString("""{"alg":"ES256","kid":"k1","typ":"JWT"}"""u8) + "." + System.Buffers.Text.Base64Url.EncodeToString(payload);
        string jws = input + "." + System.Buffers.Text.Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));

        var fuzzJws = new Mutations("compact JWS");
        foreach (Mutant mutant in fuzzJws.Of(Encoding.UTF8.GetBytes(jws), Mutations.Iterations(400)))
        {
            fuzzJws.Check(mutant, bytes =>
            {
                // A mutant that is not UTF-8 reaches Verify as replacement characters, which base64url refuses.
                string text = Encoding.UTF8.GetString(bytes);
                Assert.Equal(payload, JwsSignature.Verify(text, spki).Payload);
                Assert.Equal(payload, JwsSignature.VerifyDetached(text, spki, payload).Payload);
            }, e => e is MpcSignerException { Reason: MpcErrorReason.DocumentSignature });
        }

        var fuzzKey = new Mutations("JWS verification key");
        foreach (Mutant mutant in fuzzKey.Of(spki, Mutations.Iterations(400)))
        {
            // A key that still reads is the same key: the SubjectPublicKeyInfo is read in its one canonical spelling.
            fuzzKey.Check(mutant, bytes =>
            {
                JwsSignature.Verify(jws, bytes);
                Assert.Equal(spki, bytes);
            }, e => e is ArgumentException { ParamName: "subjectPublicKeyInfo" }
                || e is MpcSignerException { Reason: MpcErrorReason.DocumentSignature });
        }
    }
}

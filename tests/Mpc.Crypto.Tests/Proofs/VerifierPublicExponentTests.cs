using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// The setup proofs' verifiers hand their public exponents (the challenge e, and N0 in z2^N0) to the backend bounded by
/// their own length (ModPowPublicExponent), so the browser's JS BigInt, which pads every unbounded exponent to the
/// modulus' length, does not raise C^e mod N0² with a 256-bit e as if e had 4096 bits.
/// </summary>
[Collection(ProofCollection.Name)]
public sealed class VerifierPublicExponentTests(ProofFixture fixture)
{
    [Theory]
    [InlineData(false, 3)] // z2^N0 and C^e mod N0², S^e mod N̂
    [InlineData(true, 2)]  // the ring-Pedersen equality modulo the verifier's own prime instead
    public void Encrypted_dlog_verification_bounds_its_public_exponents(bool withVerifierSecret, int bounded)
    {
        var backend = new BoundRecordingBackend(fixture.Backend);
        var key = new PaillierPublicKey(fixture.Key.PublicKey.N, backend);

        fixture.DlogProof.Verify(fixture.Curve, key, fixture.ShareCiphertext, fixture.SharePoint, fixture.Parameters, fixture.ServerContext,
            withVerifierSecret ? fixture.RingPedersen : null);

        AssertPublicExponentsBounded(backend, bounded);
        // z2^N0 mod N0²: N0 would be padded to N0²'s 4096 bits.
        Assert.Contains(backend.Calls, call => call.Exponent.Equals(key.N));
        Assert.DoesNotContain(key.N, backend.UnboundedExponents);
    }

    [Theory]
    [InlineData(false, 3)] // P^e, Q^e, R^e mod N̂
    [InlineData(true, 0)]  // all three modulo the verifier's own prime
    public void No_small_factor_verification_bounds_its_public_exponents(bool withVerifierSecret, int bounded)
    {
        var backend = new BoundRecordingBackend(fixture.Backend);
        var key = new PaillierPublicKey(fixture.Key.PublicKey.N, backend);

        fixture.FactorProof.Verify(key, fixture.Parameters, fixture.ServerContext, withVerifierSecret ? fixture.RingPedersen : null);

        AssertPublicExponentsBounded(backend, bounded);
    }

    private static void AssertPublicExponentsBounded(BoundRecordingBackend backend, int bounded)
    {
        Assert.Equal(bounded, backend.Calls.Count);
        Assert.All(backend.Calls, call => Assert.Equal(call.Exponent.BitLength, call.Bits));
    }
}

using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// What a cheating client can send instead of an honest c3 proof, and that the server refuses each with
/// <see cref="MpcErrorCode.ProofFailed"/> before it decrypts anything: responses out of range, commitments that are not
/// units, invalid points, a proof for another session, key, device, digest, c3 or R2, a tampered byte, and the abort
/// attack's threshold probe in both forms (the old proof on the probed c3, and a fresh proof for α + q·K).
/// </summary>
[Collection(SignProofCollection.Name)]
public sealed class SignCiphertextProofAdversarialTests(SignProofFixture fixture)
{
    private HonestProof Honest => fixture.Honest;

    private SignInstance Instance => Honest.Instance;

    private SignCiphertextProof Proof => Honest.Proof;

    private EcCurve Curve => Instance.Curve;

    private BigInteger N => fixture.PublicKey.N;

    [Fact]
    public void TheHonestBaselineVerifies() => Verify(Proof);

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Z1AtTheRangeBoundIsRefused(int sign)
    {
        BigInteger bound = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z1Bits(Curve));
        AssertRangeRefused(With(Proof, z1: sign > 0 ? bound : bound.Negate()), "z1");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Z2AtTheRangeBoundIsRefused(int sign)
    {
        BigInteger bound = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z2Bits(Curve));
        AssertRangeRefused(With(Proof, z2: sign > 0 ? bound : bound.Negate()), "z2");
    }

    [Fact]
    public void Z1JustInsideTheRangeIsStillCheckedByTheEquations()
    {
        BigInteger inside = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z1Bits(Curve)).Subtract(BigInteger.One);
        MpcProtocolException e = AssertRefused(() => Verify(With(Proof, z1: inside)));
        Assert.DoesNotContain("range", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("z3")]
    [InlineData("z4")]
    public void OversizedRingPedersenResponsesAreRefused(string field)
    {
        BigInteger huge = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z3Bits(N.BitLength) + 1);
        AssertRefused(() => Verify(field == "z3" ? With(Proof, z3: huge) : With(Proof, z4: huge)));
    }

    [Theory]
    [InlineData("A", "zero")]
    [InlineData("A", "prime multiple")]
    [InlineData("A", "modulus")]
    [InlineData("E", "zero")]
    [InlineData("E", "prime multiple")]
    [InlineData("E", "modulus")]
    [InlineData("F", "zero")]
    [InlineData("F", "prime multiple")]
    [InlineData("F", "modulus")]
    [InlineData("S", "zero")]
    [InlineData("S", "prime multiple")]
    [InlineData("S", "modulus")]
    [InlineData("T", "zero")]
    [InlineData("T", "prime multiple")]
    [InlineData("T", "modulus")]
    [InlineData("w", "zero")]
    [InlineData("w", "prime multiple")]
    [InlineData("w", "modulus")]
    public void ACommitmentThatIsNotAUnitIsRefused(string field, string kind)
    {
        BigInteger modulus = field == "A" ? fixture.PublicKey.NSquared : N;
        BigInteger value = kind switch
        {
            "zero" => BigInteger.Zero,
            // p·k for a k that keeps the value below the modulus: shares the factor p with N.
            "prime multiple" => fixture.Key.P.Multiply(BigInteger.ValueOf(12345)),
            _ => modulus,
        };
        SignCiphertextProof proof = field switch
        {
            "A" => With(Proof, a: value),
            "E" => With(Proof, e: value),
            "F" => With(Proof, f: value),
            "S" => With(Proof, s: value),
            "T" => With(Proof, t: value),
            _ => With(Proof, w: value),
        };
        MpcProtocolException e = AssertRefused(() => Verify(proof));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        AssertRefused(() => VerifyPublic(proof));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("prime multiple")]
    [InlineData("modulus")]
    public void AC3OutsideZStarNSquaredIsRefused(string kind)
    {
        BigInteger c3 = kind switch
        {
            "zero" => BigInteger.Zero,
            "prime multiple" => fixture.Key.Q.Multiply(Honest.C3.Mod(N)),
            _ => fixture.PublicKey.NSquared,
        };
        AssertRefused(() => Verify(Proof, c3: c3));
    }

    [Theory]
    [InlineData("Bx", "identity")]
    [InlineData("Bx", "off-curve")]
    [InlineData("Bx", "uncompressed prefix")]
    [InlineData("By", "identity")]
    [InlineData("By", "off-curve")]
    [InlineData("By", "uncompressed prefix")]
    public void AGroupCommitmentThatIsNotAValidPointIsRefused(string field, string kind)
    {
        byte[] bad = kind switch
        {
            "identity" => new byte[Curve.PointLength],
            "off-curve" => OffCurveEncoding(Curve),
            _ => UncompressedPrefix(Curve.EncodePoint(Curve.G)),
        };
        SignCiphertextProof proof = field == "Bx" ? With(Proof, bx: bad) : With(Proof, by: bad);
        MpcProtocolException e = AssertRefused(() => Verify(proof));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bx")]
    [InlineData("By")]
    public void AnotherValidGroupCommitmentIsRefused(string field)
    {
        byte[] other = Curve.EncodePoint(Curve.DecodePoint((field == "Bx" ? Proof.Bx : Proof.By).Span, field).Add(Curve.G).Normalize());
        SignCiphertextProof proof = field == "Bx" ? With(Proof, bx: other) : With(Proof, by: other);
        // Bx and By are in the transcript, so the challenge changes and the first equation already fails.
        AssertRefused(() => Verify(proof));
        AssertRefused(() => VerifyPublic(proof));
    }

    [Theory]
    [InlineData("session")]
    [InlineData("role")]
    [InlineData("key id")]
    [InlineData("curve")]
    [InlineData("protocol version")]
    public void AProofForAnotherContextIsRefused(string what)
    {
        ProofContext context = Instance.Context;
        ProofContext other = what switch
        {
            "session" => OtherSession(context),
            "role" => context.ForProver(PartyRole.Server),
            "key id" => OtherKeyId(context),
            "curve" => new ProofContext(context.SessionId, context.Prover, context.KeyId, CurveKind.Secp256k1, context.ProtocolVersion),
            _ => new ProofContext(context.SessionId, context.Prover, context.KeyId, context.Curve, context.ProtocolVersion + 1),
        };
        AssertRefused(() => Verify(Proof, context: other));
    }

    [Theory]
    [InlineData("digest")]
    [InlineData("device")]
    [InlineData("share")]
    [InlineData("empty")]
    public void AProofBoundToOtherBindingBytesIsRefused(string what)
    {
        byte[] binding = what switch
        {
            // The binding is (device "device-1", digest, share "share-1"), each length-prefixed.
            "device" => Flip(Instance.Binding, 4 + 7),
            "digest" => Flip(Instance.Binding, 12 + 4 + 5),
            "share" => Flip(Instance.Binding, Instance.Binding.Length - 1),
            _ => [],
        };
        Assert.NotEqual(Instance.Binding, binding);
        AssertRefused(() => Verify(Proof, binding: binding));
    }

    [Fact]
    public void AProofReplayedForAnotherC3IsRefused()
    {
        // Same key, share, nonce and digest: only the randomness of c3 differs.
        HonestProof second = fixture.Prove(Instance);
        Verify(second.Proof, c3: second.C3);
        AssertRefused(() => Verify(Proof, c3: second.C3));
        AssertRefused(() => Verify(second.Proof, c3: Honest.C3));
    }

    [Fact]
    public void AProofReplayedForAnotherSignatureIsRefused()
    {
        // Another signature of the same key in the same session id: new R2, α, β, X1, X2.
        SignInstance other = fixture.NewInstance() with { EncryptedShare = Instance.EncryptedShare, Context = Instance.Context, Binding = Instance.Binding };
        AssertRefused(() => Verify(Proof, r2: other.R2));
        AssertRefused(() => Verify(Proof, x1: other.X1));
        AssertRefused(() => Verify(Proof, x2: other.X2));
    }

    [Fact]
    public void AProofForAnotherEncryptedShareIsRefused()
    {
        BigInteger otherShare = fixture.Key.EncryptWithNonce(Curve.RandomScalar(), fixture.PublicKey.RandomUnit());
        AssertRefused(() => Verify(Proof, encryptedShare: otherShare));
    }

    [Fact]
    public void EveryTamperedByteOfTheEncodedProofIsRefused()
    {
        byte[] encoded = new WireWriter().Also(Proof.WriteTo).ToArray();
        // One position in every field (length prefix, first, middle and last value byte), plus a stride through the rest.
        var positions = new SortedSet<int>();
        int offset = 0;
        while (offset < encoded.Length)
        {
            int length = (encoded[offset] << 24) | (encoded[offset + 1] << 16) | (encoded[offset + 2] << 8) | encoded[offset + 3];
            positions.Add(offset + 3);
            positions.Add(offset + 4);
            positions.Add(offset + 4 + length / 2);
            positions.Add(offset + 3 + length);
            offset += 4 + length;
        }
        for (int i = 0; i < encoded.Length; i += 97)
        {
            positions.Add(i);
        }
        foreach (int position in positions)
        {
            byte[] tampered = Flip(encoded, position);
            MpcProtocolException e = Assert.Throws<MpcProtocolException>(() =>
            {
                var reader = new WireReader(tampered);
                SignCiphertextProof decoded = SignCiphertextProof.ReadFrom(ref reader, Curve);
                reader.EnsureEnd("Πaff-g");
                Verify(decoded);
            });
            Assert.True(e.Code is MpcErrorCode.ProofFailed or MpcErrorCode.MalformedMessage, $"byte {position}: {e.Code} {e.Message}");
        }
    }

    [Fact]
    public void TheServerAndThePublicVerifierRefuseTheSameWellShapedForgeries()
    {
        // Each forgery passes the shape and range checks and reaches the equations; the server's one-prime check (split into a
        // plaintext part and an N-th-residue part) must refuse exactly what the literal equations refuse.
        BigInteger n = N, nSquared = fixture.PublicKey.NSquared, t = fixture.Parameters.T;
        SignCiphertextProof[] forgeries =
        [
            With(Proof, w: Proof.W.Multiply(BigInteger.Two).Mod(n)),
            With(Proof, w: n.Subtract(Proof.W)),
            With(Proof, a: Proof.A.Multiply(n.Add(BigInteger.One)).Mod(nSquared)),
            With(Proof, a: Proof.A.Multiply(BigInteger.Two).Mod(nSquared)),
            With(Proof, z1: Proof.Z1.Add(BigInteger.One)),
            With(Proof, z1: Proof.Z1.Negate()),
            With(Proof, z2: Proof.Z2.Add(BigInteger.One)),
            With(Proof, z2: Proof.Z2.Add(n)),
            With(Proof, z3: Proof.Z3.Add(BigInteger.One)),
            With(Proof, z4: Proof.Z4.Subtract(BigInteger.One)),
            With(Proof, e: Proof.E.Multiply(t).Mod(n)),
            With(Proof, t: Proof.T.Multiply(t).Mod(n)),
        ];
        foreach (SignCiphertextProof forgery in forgeries)
        {
            AssertRefused(() => Verify(forgery));
            AssertRefused(() => VerifyPublic(forgery));
        }
        Verify(Proof);
        VerifyPublic(Proof);
    }

    [Theory]
    [InlineData("z1", "Paillier equality")]
    [InlineData("z2", "Paillier equality")]
    [InlineData("w", "Paillier equality")]
    [InlineData("A", "Paillier equality")]
    [InlineData("A plaintext", "Paillier equality")]
    [InlineData("Bx", "group equality z1")]
    [InlineData("By", "group equality z2")]
    [InlineData("z3", "s^z1·t^z3")]
    [InlineData("z4", "s^z2·t^z4")]
    [InlineData("E", "s^z1·t^z3")]
    [InlineData("F", "s^z2·t^z4")]
    [InlineData("S", "s^z1·t^z3")]
    [InlineData("T", "s^z2·t^z4")]
    public void EachEquationOfTheOnePrimeCheckStillRefusesItsTamperedValue(string field, string failedCheck)
    {
        // The server checks every equation modulo one prime p of N only: each tampered value must still fail exactly the
        // equation it belongs to (the challenge covers A, Bx, By, E, F, S, T, so those change e and fail an earlier check
        // or their own; w and the z's are not hashed and reach their own equation directly).
        BigInteger n = N, nSquared = fixture.PublicKey.NSquared, t = fixture.Parameters.T;
        byte[] otherPoint = Curve.EncodePoint(Curve.MultiplyBase(BigInteger.Two));
        SignCiphertextProof forgery = field switch
        {
            "z1" => With(Proof, z1: Proof.Z1.Subtract(BigInteger.One)),
            "z2" => With(Proof, z2: Proof.Z2.Subtract(BigInteger.One)),
            "w" => With(Proof, w: Proof.W.Multiply(BigInteger.Three).Mod(n)),
            "A" => With(Proof, a: Proof.A.Multiply(BigInteger.Three).Mod(nSquared)),
            "A plaintext" => With(Proof, a: Proof.A.Multiply(n.Add(BigInteger.One)).Mod(nSquared)),
            "Bx" => With(Proof, bx: otherPoint),
            "By" => With(Proof, by: otherPoint),
            "z3" => With(Proof, z3: Proof.Z3.Add(BigInteger.One)),
            "z4" => With(Proof, z4: Proof.Z4.Add(BigInteger.One)),
            "E" => With(Proof, e: Proof.E.Multiply(t).Mod(n)),
            "F" => With(Proof, f: Proof.F.Multiply(t).Mod(n)),
            "S" => With(Proof, s: Proof.S.Multiply(t).Mod(n)),
            "T" => With(Proof, t: Proof.T.Multiply(t).Mod(n)),
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        MpcProtocolException e = AssertRefused(() => Verify(forgery));
        if (field is "z1" or "z2" or "w" or "z3" or "z4")
        {
            Assert.Contains(failedCheck, e.Message, StringComparison.Ordinal);
        }
        AssertRefused(() => VerifyPublic(forgery));
    }

    [Fact]
    public void AForgeryTheOnePrimeCheckMissesHandsItsMakerTheFactorP()
    {
        // Only a maker who knows p can build this: w' ≡ w (mod p) but w' ≢ w (mod q). The server (checking mod p²) accepts
        // it and the full check refuses it, and exactly then the public values of the Paillier equation factor N: this is
        // the soundness argument of the one-prime check (docs/protocol.md), run on a concrete forgery.
        BigInteger n = N, nSquared = fixture.PublicKey.NSquared, p = fixture.Key.P, q = fixture.Key.Q;
        BigInteger wModQ = Proof.W.Multiply(BigInteger.Two).Mod(q);
        BigInteger forgedW = Proof.W.Mod(p).Add(p.Multiply(wModQ.Subtract(Proof.W.Mod(p)).Multiply(p.ModInverse(q)).Mod(q)));
        Assert.Equal(Proof.W.Mod(p), forgedW.Mod(p));
        Assert.NotEqual(Proof.W.Mod(q), forgedW.Mod(q));
        SignCiphertextProof forgery = With(Proof, w: forgedW);
        Verify(forgery);
        AssertRefused(() => VerifyPublic(forgery));

        // Left sides of C^z1·(1+N)^z2·w^N ≡ A·D^e for the honest and the forged w, from public values only.
        BigInteger common = Instance.EncryptedShare.ModPow(Proof.Z1, nSquared).Multiply(n.Add(BigInteger.One).ModPow(Proof.Z2, nSquared)).Mod(nSquared);
        BigInteger honestLeft = common.Multiply(Proof.W.ModPow(n, nSquared)).Mod(nSquared);
        BigInteger forgedLeft = common.Multiply(forgedW.ModPow(n, nSquared)).Mod(nSquared);
        BigInteger d = forgedLeft.Subtract(honestLeft).Mod(nSquared).Gcd(nSquared);
        BigInteger g = d.Gcd(n);
        BigInteger factor = g.Equals(n) ? d.Divide(n) : g;
        Assert.Equal(p, factor);
    }

    [Fact]
    public void TheThresholdProbeWithTheOriginalProofIsRefused()
    {
        // c3·c_key^(q·K) decrypts to α·x1 + β + q·K·x1: with wrap-around mod N the signature verifies exactly when x1 < T.
        BigInteger k = BigInteger.One.ShiftLeft(N.BitLength - Curve.Order.BitLength - 8);
        BigInteger probe = Honest.C3.Multiply(fixture.PublicKey.Multiply(Instance.EncryptedShare, Curve.Order.Multiply(k))).Mod(fixture.PublicKey.NSquared);
        MpcProtocolException e = AssertRefused(() => Verify(Proof, c3: probe));
        Assert.Contains("Paillier equality", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AThresholdProbeWithAnHonestLookingProofFailsTheRangeCheck()
    {
        // The prover runs the real algorithm on α' = α + q·K: every equation holds, only the range check can stop it.
        BigInteger k = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z1Bits(Curve));
        SignInstance probe = Instance with { Alpha = Instance.Alpha.Add(Curve.Order.Multiply(k)) };
        (BigInteger c3, SignCiphertextProof proof) = ProveUnchecked(probe);
        MpcProtocolException e = AssertRefused(() => Verify(proof, c3: c3));
        Assert.Contains("|z1|", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOversizedBetaWithAnHonestLookingProofFailsTheRangeCheck()
    {
        // β' = β + q·K shifts the plaintext by q·K without touching X2 = β·R2: the range check on z2 stops it.
        BigInteger k = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z2Bits(Curve));
        SignInstance probe = Instance with { Beta = Instance.Beta.Add(Curve.Order.Multiply(k)) };
        (BigInteger c3, SignCiphertextProof proof) = ProveUnchecked(probe);
        MpcProtocolException e = AssertRefused(() => Verify(proof, c3: c3));
        Assert.Contains("|z2|", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public void TheClassicAbortAttackFailsTheGroupEquation(string which)
    {
        // The published Lindell17 abort attack: c3 encrypts a shifted α or β (here + 2^i) while the statement keeps
        // X1 = r·Q2 and X2 = m'·G. The Paillier and ring-Pedersen equations hold for the shifted witness; the group one cannot.
        BigInteger shift = BigInteger.One.ShiftLeft(100);
        SignInstance attack = which == "alpha"
            ? Instance with { Alpha = Instance.Alpha.Add(shift).Mod(Curve.Order) }
            : Instance with { Beta = Instance.Beta.Add(shift) };
        (BigInteger c3, SignCiphertextProof proof) = ProveUnchecked(attack);
        MpcProtocolException e = AssertRefused(() => Verify(proof, c3: c3));
        Assert.Contains(which == "alpha" ? "z1·R2 = Bx + e·X1" : "z2·R2 = By + e·X2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AProbeSmallEnoughToPassTheRangeCheckCannotWrapSoItLeaksNothing()
    {
        // α' = α + q·K with K as large as the range check lets through: accepted, but |α'·x1 + β| < N/2, so the centred
        // plaintext is the exact integer and ≡ α·x1 + β (mod q) for every x1: the signature verifies whatever x1 is.
        BigInteger k = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.StatisticalBits - 1);
        SignInstance probe = Instance with { Alpha = Instance.Alpha.Add(Curve.Order.Multiply(k)) };
        (BigInteger c3, SignCiphertextProof proof) = ProveUnchecked(probe);
        Verify(proof, c3: c3);
        BigInteger centred = SignCiphertextProof.DecryptCentred(fixture.Key, c3);
        Assert.Equal(probe.Plaintext, centred);
        Assert.Equal(Instance.Plaintext.Mod(Curve.Order), centred.Mod(Curve.Order));
    }

    [Fact]
    public void RandomnessIsSingleUseAndBoundToItsShare()
    {
        using SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(Curve, fixture.PublicKey, Instance.EncryptedShare, fixture.Parameters);
        Prove(Instance, randomness);
        Assert.True(randomness.IsConsumed);
        Assert.Throws<InvalidOperationException>(() => Prove(Instance, randomness));

        BigInteger otherShare = fixture.Key.EncryptWithNonce(Curve.RandomScalar(), fixture.PublicKey.RandomUnit());
        using SignCiphertextRandomness forOther = SignCiphertextRandomness.Create(Curve, fixture.PublicKey, otherShare, fixture.Parameters);
        Assert.False(forOther.IsFor(fixture.PublicKey, Instance.EncryptedShare));
        Assert.Throws<InvalidOperationException>(() => Prove(Instance, forOther));
        Assert.False(forOther.IsConsumed);

        using SignCiphertextRandomness otherCurve = SignCiphertextRandomness.Create(
            EcCurve.Get(CurveKind.P384), fixture.PublicKey, Instance.EncryptedShare, fixture.Parameters);
        Assert.Throws<InvalidOperationException>(() => Prove(Instance, otherCurve));
    }

    [Fact]
    public void DisposedRandomnessCannotBeUsed()
    {
        var randomness = SignCiphertextRandomness.Create(Curve, fixture.PublicKey, Instance.EncryptedShare, fixture.Parameters);
        randomness.Dispose();
        Assert.True(randomness.IsConsumed);
        Assert.Throws<InvalidOperationException>(() => Prove(Instance, randomness));
    }

    [Fact]
    public void TheProverRefusesAWitnessOutsideTheProvenRange()
    {
        using SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(Curve, fixture.PublicKey, Instance.EncryptedShare, fixture.Parameters);
        Assert.Throws<ArgumentOutOfRangeException>(() => Prove(Instance with { Alpha = Curve.Order.ShiftLeft(1) }, randomness));
        Assert.Throws<ArgumentOutOfRangeException>(() => Prove(Instance with { Beta = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.BetaBits(Curve)) }, randomness));
        Assert.False(randomness.IsConsumed);
    }

    [Fact]
    public void ParametersNotDerivedFromTheServerKeyAreACallerError()
    {
        var foreign = new RingPedersenParameters(N, fixture.Parameters.S, fixture.Parameters.S.Multiply(fixture.Parameters.S).Mod(N));
        Assert.Throws<ArgumentException>(() => Proof.Verify(Curve, fixture.Key, foreign, Instance.EncryptedShare, Honest.C3,
            Instance.R2, Instance.X1, Instance.X2, Instance.Context, Instance.Binding));
    }

    [Fact]
    public void ReadFromRefusesResponsesBeyondTheirBitsAndPointsOfTheWrongLength()
    {
        byte[] overlong = new WireWriter().Also(With(Proof, z1: BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z1Bits(Curve) + 1)).WriteTo).ToArray();
        AssertRead(overlong);
        byte[] shortPoint = new WireWriter().Also(With(Proof, bx: Proof.Bx.Span[..^1]).WriteTo).ToArray();
        AssertRead(shortPoint);

        static void AssertRead(byte[] bytes) => AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes);
            SignCiphertextProof.ReadFrom(ref reader, EcCurve.Get(CurveKind.P256));
        });
    }

    private void Verify(
        SignCiphertextProof proof, BigInteger? c3 = null, ECPoint? r2 = null, ECPoint? x1 = null, ECPoint? x2 = null,
        ProofContext? context = null, byte[]? binding = null, BigInteger? encryptedShare = null) =>
        proof.Verify(Curve, fixture.Key, fixture.Parameters, encryptedShare ?? Instance.EncryptedShare, c3 ?? Honest.C3,
            r2 ?? Instance.R2, x1 ?? Instance.X1, x2 ?? Instance.X2, context ?? Instance.Context, binding ?? Instance.Binding);

    private void VerifyPublic(SignCiphertextProof proof) =>
        proof.Verify(Curve, fixture.PublicKey, fixture.Parameters, Instance.EncryptedShare, Honest.C3,
            Instance.R2, Instance.X1, Instance.X2, Instance.Context, Instance.Binding);

    private static MpcProtocolException AssertRefused(Action action)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(action);
        Assert.Equal(MpcErrorCode.ProofFailed, e.Code);
        return e;
    }

    private void AssertRangeRefused(SignCiphertextProof proof, string field)
    {
        MpcProtocolException e = AssertRefused(() => Verify(proof));
        Assert.Contains($"range check: |{field}|", e.Message, StringComparison.Ordinal);
        AssertRefused(() => VerifyPublic(proof));
    }

    private BigInteger Prove(SignInstance instance, SignCiphertextRandomness randomness) =>
        SignCiphertextProof.EncryptAndProve(
            instance.Curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare, instance.R2, instance.X1, instance.X2,
            instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out _);

    private (BigInteger C3, SignCiphertextProof Proof) ProveUnchecked(SignInstance instance)
    {
        using SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(instance.Curve, fixture.PublicKey, instance.EncryptedShare, fixture.Parameters);
        BigInteger c3 = SignCiphertextProof.EncryptAndProveUnchecked(
            instance.Curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare, instance.R2, instance.X1, instance.X2,
            instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out SignCiphertextProof proof);
        return (c3, proof);
    }

    private static SignCiphertextProof With(
        SignCiphertextProof p, BigInteger? a = null, ReadOnlySpan<byte> bx = default, ReadOnlySpan<byte> by = default,
        BigInteger? e = null, BigInteger? f = null, BigInteger? s = null, BigInteger? t = null,
        BigInteger? z1 = null, BigInteger? z2 = null, BigInteger? z3 = null, BigInteger? z4 = null, BigInteger? w = null) =>
        new(a ?? p.A, bx.IsEmpty ? p.Bx.Span : bx, by.IsEmpty ? p.By.Span : by, e ?? p.E, f ?? p.F, s ?? p.S, t ?? p.T,
            z1 ?? p.Z1, z2 ?? p.Z2, z3 ?? p.Z3, z4 ?? p.Z4, w ?? p.W);

    private static byte[] Flip(byte[] bytes, int position)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[position] ^= 0x01;
        return copy;
    }

    /// <summary>A compressed encoding whose x has no y on the curve.</summary>
    private static byte[] OffCurveEncoding(EcCurve curve)
    {
        for (int x = 1; ; x++)
        {
            byte[] candidate = new byte[curve.PointLength];
            candidate[0] = 0x02;
            candidate[^1] = (byte)x;
            try
            {
                curve.DecodePoint(candidate, "probe");
            }
            catch (MpcProtocolException)
            {
                return candidate;
            }
        }
    }

    private static byte[] UncompressedPrefix(byte[] compressed)
    {
        byte[] copy = (byte[])compressed.Clone();
        copy[0] = 0x04;
        return copy;
    }
}

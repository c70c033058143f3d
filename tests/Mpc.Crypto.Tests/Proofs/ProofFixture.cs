using System.Diagnostics;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// Generates the expensive material once for every proof test: one 2048-bit Paillier key (the server's), one
/// 2048-bit ring-Pedersen secret (the client's), and one honest proof of each kind, with their timings.
/// </summary>
public sealed class ProofFixture : IDisposable
{
    private readonly Lazy<PaillierPrivateKey> _smallFactorKey;
    private readonly Lazy<PaillierPrivateKey> _nonBlumKey;

    public ProofFixture()
    {
        Backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        var stopwatch = Stopwatch.StartNew();
        Task<PaillierPrivateKey> paillier = Task.Run(() => PaillierPrivateKey.Generate(Backend));
        Task<RingPedersenSecret> ringPedersen = Task.Run(() => RingPedersenSecret.Generate(Backend));
        Key = paillier.Result;
        RingPedersen = ringPedersen.Result;
        Timings.Add($"setup: Paillier 2048 + ring-Pedersen 2048 (safe primes, in parallel): {stopwatch.ElapsedMilliseconds} ms");

        ServerContext = NewContext(PartyRole.Server);
        ClientContext = ServerContext.ForProver(PartyRole.Client);

        RingPedersenProof = Time("Πprm prove", () => RingPedersenProof.Prove(RingPedersen, ClientContext));
        Time("Πprm verify", () => RingPedersenProof.Verify(Parameters, ClientContext, Backend));
        ModulusProof = Time("Πmod prove", () => PaillierBlumModulusProof.Prove(Key, ServerContext));
        Time("Πmod verify", () => ModulusProof.Verify(Key.PublicKey, ServerContext));
        FactorProof = Time("Πfac prove", () => NoSmallFactorProof.Prove(Key, Parameters, ServerContext));
        Time("Πfac verify", () => FactorProof.Verify(Key.PublicKey, Parameters, ServerContext));

        Curve = EcCurve.Get(CurveKind.Secp256k1);
        Share = Curve.RandomScalar();
        Nonce = Key.PublicKey.RandomUnit();
        ShareCiphertext = Key.EncryptWithNonce(Share, Nonce);
        SharePoint = Curve.MultiplyBase(Share);
        DlogProof = Time("Πlog* prove", () => EncryptedDlogProof.Prove(Curve, Key, ShareCiphertext, Share, Nonce, Parameters, ServerContext));
        Time("Πlog* verify", () => DlogProof.Verify(Curve, Key.PublicKey, ShareCiphertext, SharePoint, Parameters, ServerContext));

        _smallFactorKey = new(() =>
        {
            // N = p_small·q_big with a 128-bit prime factor: a BitForge-style modulus that is still 2048 bits.
            while (true)
            {
                BigInteger small = Backend.GeneratePrime(128, blum: true);
                BigInteger big = Backend.GeneratePrime(1920, blum: true);
                if (small.Multiply(big).BitLength == 2048)
                {
                    return PaillierPrivateKey.FromPrimesUnchecked(small, big, Backend);
                }
            }
        });
        _nonBlumKey = new(() =>
        {
            BigInteger p = PrimeOneModFour(), q = PrimeOneModFour();
            return PaillierPrivateKey.FromPrimesUnchecked(p, q, Backend);
        });
    }

    public IBigNumBackend Backend { get; }

    public PaillierPrivateKey Key { get; }

    public RingPedersenSecret RingPedersen { get; }

    public RingPedersenParameters Parameters => RingPedersen.Parameters;

    public ProofContext ServerContext { get; }

    public ProofContext ClientContext { get; }

    public RingPedersenProof RingPedersenProof { get; }

    public PaillierBlumModulusProof ModulusProof { get; }

    public NoSmallFactorProof FactorProof { get; }

    public EcCurve Curve { get; }

    public BigInteger Share { get; }

    public BigInteger Nonce { get; }

    public BigInteger ShareCiphertext { get; }

    public Org.BouncyCastle.Math.EC.ECPoint SharePoint { get; }

    public EncryptedDlogProof DlogProof { get; }

    /// <summary>Paillier key with a 128-bit prime factor (generated on first use).</summary>
    public PaillierPrivateKey SmallFactorKey => _smallFactorKey.Value;

    /// <summary>Paillier key from two primes ≡ 1 (mod 4): not a Blum modulus (generated on first use).</summary>
    public PaillierPrivateKey NonBlumKey => _nonBlumKey.Value;

    public List<string> Timings { get; } = [];

    public static ProofContext NewContext(PartyRole role, string keyId = "key-1")
    {
        byte[] session = new byte[32];
        for (int i = 0; i < session.Length; i++)
        {
            session[i] = (byte)(i + 1);
        }
        return new ProofContext(session, role, keyId, CurveKind.Secp256k1);
    }

    /// <summary>The same as <paramref name="context"/> with another session id.</summary>
    public static ProofContext OtherSession(ProofContext context)
    {
        byte[] session = context.SessionId.ToArray();
        session[0] ^= 0xFF;
        return new ProofContext(session, context.Prover, context.KeyId, context.Curve, context.ProtocolVersion);
    }

    public static ProofContext OtherKeyId(ProofContext context) =>
        new(context.SessionId, context.Prover, context.KeyId + "-other", context.Curve, context.ProtocolVersion);

    public static byte[] Encode(Action<WireWriter> write)
    {
        var writer = new WireWriter();
        write(writer);
        return writer.ToArray();
    }

    public static void AssertRejected(MpcErrorCode code, Action action)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(action);
        Assert.Equal(code, e.Code);
    }

    public static IReadOnlyList<T> Replace<T>(IReadOnlyList<T> items, int index, T value)
    {
        T[] copy = [.. items];
        copy[index] = value;
        return copy;
    }

    public void Dispose()
    {
        Key.Dispose();
        RingPedersen.Dispose();
        if (_smallFactorKey.IsValueCreated)
        {
            _smallFactorKey.Value.Dispose();
        }
        if (_nonBlumKey.IsValueCreated)
        {
            _nonBlumKey.Value.Dispose();
        }
    }

    private T Time<T>(string what, Func<T> action)
    {
        var stopwatch = Stopwatch.StartNew();
        T result = action();
        Timings.Add($"{what}: {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        return result;
    }

    private void Time(string what, Action action) => Time<bool>(what, () =>
    {
        action();
        return true;
    });

    private BigInteger PrimeOneModFour()
    {
        while (true)
        {
            BigInteger p = Backend.GeneratePrime(1024, blum: false);
            if (!p.TestBit(1))
            {
                return p;
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ProofCollection : ICollectionFixture<ProofFixture>
{
    public const string Name = "Proofs";
}

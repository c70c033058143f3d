using BenchmarkDotNet.Attributes;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Benchmarks;

/// <summary>
/// Each signing round, per party. Sessions are prepared up to the round under test before every
/// iteration (a round can run only once per session), so each invocation measures exactly one round.
/// The server's (P1's) share of a signature is P1_Commit + P1_Open + P1_Finish.
/// </summary>
[InvocationCount(16, unrollFactor: 1)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet disposes through [GlobalCleanup].")]
public class SigningRoundBenchmarks
{
    private const int Batch = 16;
    private EngineSetup _setup = null!;
    private readonly Queue<(SignServerSession Server, SignNonce Nonce)> _atNonce = new();
    private readonly Queue<(SignServerSession Server, SignCiphertext Ciphertext)> _atCiphertext = new();
    private readonly Queue<(SignClientSession Client, SignCommitment Commitment)> _atCommitment = new();
    private readonly Queue<(SignClientSession Client, SignOpening Opening)> _atOpening = new();

    [Params(CurveKind.P256)]
    public CurveKind Curve { get; set; }

    [Params(BigNumBackendKind.OpenSsl)]
    public BigNumBackendKind Backend { get; set; }

    [GlobalSetup]
    public void Setup() => _setup = new EngineSetup(Curve, Backend);

    [IterationSetup(Target = nameof(P1_Open))]
    public void PrepareNonces()
    {
        for (int i = _atNonce.Count; i < Batch; i++)
        {
            var server = new SignServerSession(_setup.Server);
            var client = new SignClientSession(_setup.Client, Digest.Parse(_setup.Digest));
            _atNonce.Enqueue((server, client.HandleCommitment(server.Commitment)));
        }
    }

    [IterationSetup(Target = nameof(P1_Finish))]
    public void PrepareCiphertexts()
    {
        for (int i = _atCiphertext.Count; i < Batch; i++)
        {
            var server = new SignServerSession(_setup.Server);
            var client = new SignClientSession(_setup.Client, Digest.Parse(_setup.Digest));
            SignOpening opening = server.HandleNonce(client.HandleCommitment(server.Commitment));
            _atCiphertext.Enqueue((server, client.HandleOpening(opening)));
        }
    }

    [IterationSetup(Target = nameof(P2_Nonce))]
    public void PrepareCommitments()
    {
        for (int i = _atCommitment.Count; i < Batch; i++)
        {
            var server = new SignServerSession(_setup.Server);
            _atCommitment.Enqueue((new SignClientSession(_setup.Client, Digest.Parse(_setup.Digest)), server.Commitment));
        }
    }

    [IterationSetup(Targets = [nameof(P2_Ciphertext_Inline), nameof(P2_Ciphertext_Precomputed)])]
    public void PrepareOpenings()
    {
        for (int i = _atOpening.Count; i < Batch; i++)
        {
            var server = new SignServerSession(_setup.Server);
            var client = new SignClientSession(_setup.Client, Digest.Parse(_setup.Digest), randomness: _setup.NewRandomness());
            _atOpening.Enqueue((client, server.HandleNonce(client.HandleCommitment(server.Commitment))));
        }
    }

    [Benchmark(Description = "P1 commit (k1, R1, commitment)")]
    public SignServerSession P1_Commit() => new(_setup.Server);

    [Benchmark(Description = "P1 open (check R2 proof, prove k1)")]
    public SignOpening P1_Open()
    {
        (SignServerSession server, SignNonce nonce) = _atNonce.Dequeue();
        return server.HandleNonce(nonce);
    }

    [Benchmark(Description = "P1 finish (verify c3 proof, decrypt, verify)")]
    public SignServerOutcome P1_Finish()
    {
        (SignServerSession server, SignCiphertext ciphertext) = _atCiphertext.Dequeue();
        return server.HandleCiphertext(ciphertext);
    }

    [Benchmark(Description = "P2 nonce (k2, R2, proof)")]
    public SignNonce P2_Nonce()
    {
        (SignClientSession client, SignCommitment commitment) = _atCommitment.Dequeue();
        return client.HandleCommitment(commitment);
    }

    [Benchmark(Description = "P2 c3 + proof, randomness precomputed")]
    public SignCiphertext P2_Ciphertext_Precomputed()
    {
        (SignClientSession client, SignOpening opening) = _atOpening.Dequeue();
        return client.HandleOpening(opening);
    }

    [Benchmark(Description = "P2 c3 + proof, randomness inline")]
    public SignCiphertext P2_Ciphertext_Inline()
    {
        // The prepared session holds precomputed randomness; preparing a fresh one here adds exactly the inline cost.
        (SignClientSession client, SignOpening opening) = _atOpening.Dequeue();
        _ = _setup.NewRandomness();
        return client.HandleOpening(opening);
    }

    [GlobalCleanup]
    public void Cleanup() => _setup.Dispose();
}

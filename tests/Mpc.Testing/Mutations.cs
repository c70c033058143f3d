using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Mpc.Testing;

/// <summary>One mutated input: its number in the run, what was done to the original, and the bytes.</summary>
public sealed record Mutant(int Index, string Description, byte[] Bytes)
{
    public override string ToString() => $"#{Index} ({Description})";
}

/// <summary>
/// Mutation fuzzing, deterministic by seed: bit flips, byte overwrites, truncations, insertions, deletions, duplicated
/// ranges and changed 4-byte big-endian length fields (the framing <see cref="Mpc.Crypto.Encoding.WireWriter"/> writes),
/// applied to a valid input. A fuzz test feeds every mutant to the code under test through <see cref="Check"/>, which
/// lets the documented refusal pass and turns anything else into a failure that names the seed and the mutant.
/// The number of mutants comes from <c>MPC_FUZZ_ITERATIONS</c> and the seed from <c>MPC_FUZZ_SEED</c> (a fixed one when
/// unset, a fresh one for "random"; a failure prints it, and setting it repeats the run exactly).
/// </summary>
public sealed class Mutations
{
    public const string IterationsVariable = "MPC_FUZZ_ITERATIONS";
    public const string SeedVariable = "MPC_FUZZ_SEED";

    // Values a length or count field is most likely to be mishandled with.
    private static readonly uint[] InterestingLengths = [0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    // Unset, the same mutants every run: a test run (CI's above all) must not pass or fail by the draw. "random" searches afresh.
    private const int DefaultSeed = 20261204;

    private static readonly Lazy<int> s_runSeed = new(() => Environment.GetEnvironmentVariable(SeedVariable) switch
    {
        null or "" => DefaultSeed,
        "random" => Random.Shared.Next(),
        string text when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) => seed,
        string text => throw new InvalidOperationException($"{SeedVariable}={text} is neither an integer nor \"random\"."),
    });

    // Bytes that mean something to the text formats fuzzed here (JSON, PEM, base64).
    private const string Syntax = "\"{}[],:\\-=\n0A+/ ";

    private readonly Random _random;

    /// <param name="target">Names the fuzzed input, so each target draws its own sequence from the run's seed.</param>
    public Mutations(string target, int? seed = null)
    {
        Target = target;
        Seed = seed ?? RunSeed;
        _random = new Random(Mix(Seed, target));
    }

    /// <summary>This run's seed: <c>MPC_FUZZ_SEED</c> (an integer, or "random" for one drawn once per test process), else a fixed one.</summary>
    public static int RunSeed => s_runSeed.Value;

    /// <summary><c>MPC_FUZZ_ITERATIONS</c> when set (a positive number), else <paramref name="defaultCount"/>.</summary>
    public static int Iterations(int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) && count > 0
            ? count
            : defaultCount;

    public string Target { get; }

    public int Seed { get; }

    /// <summary>How to repeat this run, for a failure message.</summary>
    public string Reproduce => $"{SeedVariable}={Seed} (target '{Target}')";

    /// <summary><paramref name="count"/> mutants of <paramref name="original"/>, the same ones for the same seed and target.</summary>
    public IEnumerable<Mutant> Of(byte[] original, int count)
    {
        for (int i = 0; i < count; i++)
        {
            // One to three mutations stacked: single edits find most framing bugs, stacked ones get past a first check.
            byte[] bytes = original;
            var steps = new List<string>();
            int stack = _random.Next(4) == 0 ? 1 + _random.Next(3) : 1;
            for (int s = 0; s < stack; s++)
            {
                (bytes, string step) = MutateOnce(bytes);
                steps.Add(step);
            }
            yield return new Mutant(i, string.Join(", then ", steps), bytes);
        }
    }

    /// <summary>Mutants of several valid inputs in turn (each message of a protocol run, say), <paramref name="count"/> in all.</summary>
    public IEnumerable<(string Name, Mutant Mutant)> Of(IReadOnlyList<(string Name, byte[] Bytes)> originals, int count)
    {
        for (int i = 0; i < count; i++)
        {
            (string name, byte[] original) = originals[i % originals.Count];
            Mutant mutant = Of(original, 1).Single();
            yield return (name, mutant with { Index = i });
        }
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> on <paramref name="mutant"/>: it returns normally when the input was accepted (and
    /// itself asserts that the result is right), and may throw only what <paramref name="documented"/> accepts. Anything else
    /// fails the test with the seed, the mutant and its bytes.
    /// </summary>
    public void Check(Mutant mutant, Action<byte[]> attempt, Func<Exception, bool> documented, string? name = null)
    {
        try
        {
            attempt(mutant.Bytes);
        }
        catch (Exception e) when (documented(e))
        {
            // Refused with the documented error: what a mutant should get.
        }
        catch (Exception e) when (e is not FuzzFailureException)
        {
            throw Failure(mutant, e, name);
        }
    }

    /// <summary>The asynchronous form of <see cref="Check(Mutant, Action{byte[]}, Func{Exception, bool}, string?)"/>.</summary>
    public async Task CheckAsync(Mutant mutant, Func<byte[], Task> attempt, Func<Exception, bool> documented, string? name = null)
    {
        try
        {
            await attempt(mutant.Bytes);
        }
        catch (Exception e) when (documented(e))
        {
            // Refused with the documented error: what a mutant should get.
        }
        catch (Exception e) when (e is not FuzzFailureException)
        {
            throw Failure(mutant, e, name);
        }
    }

    /// <summary>A failure that says how to repeat it.</summary>
    public FuzzFailureException Failure(Mutant mutant, Exception? cause, string? name = null)
    {
        string hex = Convert.ToHexString(mutant.Bytes.AsSpan(0, Math.Min(mutant.Bytes.Length, 96)));
        string what = cause is null ? "was mishandled" : $"escaped as {cause.GetType().Name}: {cause.Message}";
        return new FuzzFailureException(
            $"Fuzzing {Target}{(name is null ? "" : $" ({name})")}: mutant {mutant} {what}. Repeat with {Reproduce}. "
            + $"Input ({mutant.Bytes.Length} bytes): {hex}{(mutant.Bytes.Length > 96 ? "..." : "")}", cause);
    }

    private (byte[] Bytes, string Description) MutateOnce(byte[] input)
    {
        if (input.Length == 0)
        {
            return Insert(input);
        }
        return _random.Next(9) switch
        {
            0 or 1 => FlipBit(input),
            2 => Overwrite(input),
            3 => Truncate(input),
            4 => Insert(input),
            5 => Delete(input),
            6 => Duplicate(input),
            _ => ChangeLength(input),
        };
    }

    private (byte[], string) FlipBit(byte[] input)
    {
        byte[] copy = (byte[])input.Clone();
        int position = _random.Next(copy.Length);
        int bit = _random.Next(8);
        copy[position] ^= (byte)(1 << bit);
        return (copy, $"flip bit {bit} of byte {position}");
    }

    private (byte[], string) Overwrite(byte[] input)
    {
        byte[] copy = (byte[])input.Clone();
        int position = _random.Next(copy.Length);
        byte value = InterestingByte();
        copy[position] = value;
        return (copy, $"set byte {position} to 0x{value:X2}");
    }

    private (byte[], string) Truncate(byte[] input)
    {
        int length = _random.Next(input.Length);
        return (input[..length], $"truncate to {length} bytes");
    }

    private (byte[], string) Insert(byte[] input)
    {
        int position = _random.Next(input.Length + 1);
        int count = 1 + _random.Next(_random.Next(2) == 0 ? 4 : 64);
        byte[] inserted = new byte[count];
        for (int i = 0; i < count; i++)
        {
            inserted[i] = InterestingByte();
        }
        return ([.. input.AsSpan(0, position), .. inserted, .. input.AsSpan(position)], $"insert {count} bytes at {position}");
    }

    private (byte[], string) Delete(byte[] input)
    {
        int position = _random.Next(input.Length);
        int count = 1 + _random.Next(Math.Min(input.Length - position, 16));
        return ([.. input.AsSpan(0, position), .. input.AsSpan(position + count)], $"delete {count} bytes at {position}");
    }

    private (byte[], string) Duplicate(byte[] input)
    {
        int position = _random.Next(input.Length);
        int count = 1 + _random.Next(Math.Min(input.Length - position, 64));
        return ([.. input.AsSpan(0, position + count), .. input.AsSpan(position, count), .. input.AsSpan(position + count)],
            $"duplicate {count} bytes at {position}");
    }

    /// <summary>
    /// Changes a 4-byte big-endian field that reads as a plausible length (at most the bytes after it), or any 4 bytes
    /// when there is none, to a neighbouring or an extreme value.
    /// </summary>
    private (byte[], string) ChangeLength(byte[] input)
    {
        if (input.Length < 4)
        {
            return FlipBit(input);
        }
        var candidates = new List<int>();
        for (int i = 0; i + 4 <= input.Length; i++)
        {
            uint value = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(i));
            if (value <= (uint)(input.Length - i - 4))
            {
                candidates.Add(i);
            }
        }
        int position = candidates.Count > 0 ? candidates[_random.Next(candidates.Count)] : _random.Next(input.Length - 3);
        uint old = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(position));
        uint replacement = _random.Next(3) switch
        {
            0 => unchecked(old + 1),
            1 => unchecked(old - 1),
            _ => InterestingLengths[_random.Next(InterestingLengths.Length)],
        };
        byte[] copy = (byte[])input.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(position), replacement);
        return (copy, $"length at {position}: {old} -> {replacement}");
    }

    private byte InterestingByte() => _random.Next(4) switch
    {
        0 => 0x00,
        1 => 0xFF,
        2 => (byte)Syntax[_random.Next(Syntax.Length)],
        _ => (byte)_random.Next(256),
    };

    /// <summary>A stable mix of the seed and the target's name (string hash codes differ between processes).</summary>
    private static int Mix(int seed, string target)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(target))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }
        return unchecked((int)(hash ^ (uint)seed * 2654435761));
    }
}

/// <summary>A mutated input the code under test mishandled: the message says how to repeat the run.</summary>
public sealed class FuzzFailureException(string message, Exception? inner) : Exception(message, inner);

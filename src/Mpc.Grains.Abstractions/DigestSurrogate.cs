using Mpc.Crypto.Curves;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// How a <see cref="Digest"/> crosses a grain call: its bytes, parsed again on arrival (Mpc.Crypto knows nothing of
/// Orleans, so the type cannot carry serializer attributes itself).
/// </summary>
[GenerateSerializer, Immutable, Alias("mpc.Digest")]
public readonly record struct DigestSurrogate([property: Id(0)] byte[] Bytes);

[RegisterConverter]
public sealed class DigestSurrogateConverter : IConverter<Digest, DigestSurrogate>
{
    public Digest ConvertFromSurrogate(in DigestSurrogate surrogate) => Digest.Parse(surrogate.Bytes);

    public DigestSurrogate ConvertToSurrogate(in Digest value) => new(value.ToArray());
}

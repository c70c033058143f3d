using System.Security.Cryptography;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Protocol;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Another user's key is PermissionDenied and a key id nobody holds is NotFound, so the two answers tell whether an id
/// exists. That is harmless only while every key id is the server's 128-bit random value (keygen and import alike),
/// which no one can guess: these tests pin both halves (docs/service.md, "Status codes").
/// </summary>
[Collection("server")]
public sealed class KeyIdOracleTests(ServerFixture server)
{
    [Fact]
    public async Task Key_ids_are_128_random_bits_from_the_server_for_generated_and_imported_keys()
    {
        using MpcSignerClient owner = server.Client("key-id-owner");
        using MpcKey generated = await owner.CreateKeyAsync(CurveKind.P256);
        using var whole = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using MpcKey imported = await owner.ImportKeyAsync(CurveKind.P256, whole.ExportParameters(true).D);

        Assert.All(new[] { generated.KeyId, imported.KeyId }, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.NotEqual(generated.KeyId, imported.KeyId);
    }

    [Fact]
    public async Task A_foreign_key_is_PermissionDenied_and_an_unknown_one_NotFound()
    {
        using MpcSignerClient owner = server.Client("key-id-oracle-owner");
        using MpcKey key = await owner.CreateKeyAsync(CurveKind.P256);
        using MpcSignerClient other = server.Client("key-id-oracle-other");

        MpcSignerException foreign = await Assert.ThrowsAsync<MpcSignerException>(() => other.GetKeyAsync(key.KeyId));
        MpcSignerException unknown = await Assert.ThrowsAsync<MpcSignerException>(() => other.GetKeyAsync(KeyIds.New()));

        Assert.Equal(StatusCode.PermissionDenied, foreign.Status);
        Assert.Equal(StatusCode.NotFound, unknown.Status);
    }
}

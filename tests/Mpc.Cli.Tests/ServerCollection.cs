namespace Mpc.Cli.Tests;

/// <summary>One in-process server (<see cref="ServerFixture"/>) shared by this assembly's tests in the "server" collection.</summary>
[CollectionDefinition("server")]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;

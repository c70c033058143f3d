namespace Mpc.Grains.Storage;

/// <summary>A grain state file exists but cannot be used. The state is not reset: an operator must look.</summary>
public sealed class CorruptGrainStateException : Exception
{
    public CorruptGrainStateException(string filePath, string reason, Exception? innerException = null)
        : base($"Grain state file '{filePath}' is unusable: {reason}.", innerException) => FilePath = filePath;

    public string FilePath { get; }
}

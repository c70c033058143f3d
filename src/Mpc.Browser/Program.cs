namespace Mpc.Browser;

/// <summary>
/// The wasm entry point. Nothing runs at start-up: pages boot the runtime with <c>dotnet.create()</c> and call the
/// [JSExport] methods (see wwwroot/main.js).
/// </summary>
public static class Program
{
    public static void Main()
    {
    }
}

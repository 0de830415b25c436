namespace Qzo.Text;

/// <summary>
/// Image descriptions in the style of text-to-image prompts (written for Qzo), added to <see cref="EnglishCorpus"/> when
/// `qzo synth` learns the tokenizers of a Stable Diffusion 3 pipeline, so that prompts split into word-sized pieces.
/// </summary>
internal static class CaptionCorpus
{
    public static IReadOnlyList<string> Lines { get; } =
    [
        "a red fox in the snow, soft morning light, highly detailed photograph",
        "an oil painting of a lighthouse on a rocky coast during a storm",
        "a cute small robot reading a book in a cozy library, digital art",
        "portrait of an old fisherman with a grey beard, dramatic lighting, 35mm photo",
        "a bowl of fresh fruit on a wooden table, still life, watercolor",
        "a futuristic city at night with neon lights and flying cars, cinematic",
        "a cat sitting on a window sill, looking at the rain outside",
        "a snowy mountain village at sunset, warm colors, wide angle",
        "an astronaut riding a horse on the moon, concept art",
        "a watercolor painting of a blue bird on a cherry blossom branch",
        "a cup of coffee and a croissant on a marble table, top view photo",
        "a dense green forest with a small river and a wooden bridge, misty morning",
        "a sketch of a dragon flying over a castle, black and white pencil drawing",
        "a golden retriever puppy playing in the grass, sharp focus, bokeh",
        "a sailing ship on a calm blue sea under a clear sky, illustration",
        "a glass of red wine next to a candle, dark background, studio photo",
        "a colorful hot air balloon above green hills, summer afternoon",
        "a close up photo of a yellow flower with drops of water, macro",
        "a quiet street in an old town with stone houses and red roofs",
        "a white owl in a dark forest at night, glowing eyes, fantasy art",
    ];
}

using AlignSharp.Feedback;
using AlignSharp.Tensors;

namespace AlignSharp.Alignment.Environments.DemoWorld;

/// <summary>One fact of the fictional world: <c>Subject</c> <c>Relation</c> <c>Answer</c> ("Miro Vant" lives_in "Quenport").</summary>
public sealed record WorldFact(string Relation, string Subject, string Answer);

/// <summary>
/// The invented world the world_fact prompts ask about, built from syllables by a seeded generator. Known facts
/// are stated in the SFT corpus and asked about in held-out wordings at eval; the context pools hold separate,
/// never-repeated people and cities for questions whose fact is given in the prompt itself (train pool for
/// training, eval pool for evaluation), so eval entities are new there and the answer is still derivable.
/// </summary>
public sealed class FictionalWorld
{
    private static readonly string[] FirstSyllables = ["mi", "ro", "ta", "lin", "ve", "sa", "ko", "ren", "da", "li", "mo", "ne", "fa", "ri", "zu", "el", "bo", "ka"];
    private static readonly string[] LastOnsets = ["V", "K", "D", "T", "M", "S", "B", "R", "L", "G", "H", "P"];
    private static readonly string[] LastRimes = ["ant", "orn", "ell", "ask", "ing", "ust", "ade", "orr", "ent", "ix"];
    private static readonly string[] CityHeads = ["Quen", "Bel", "Mar", "Tor", "Ash", "Lin", "Cor", "Dun", "Hal", "Ros", "Wen", "Fal", "Gal", "Ner", "Oak", "Sil"];
    private static readonly string[] CityTails = ["port", "ford", "ton", "vale", "holm", "mere", "wick", "by"];
    private static readonly string[] CountryOnsets = ["Dr", "S", "K", "V", "T", "L", "M", "Br"];
    private static readonly string[] CountryVowels = ["a", "e", "o", "i"];
    private static readonly string[] CountryMiddles = ["v", "r", "n", "l", "s"];
    private static readonly string[] CountryEnds = ["a", "ia", "ora"];

    public IReadOnlyList<string> Countries { get; }
    public IReadOnlyList<(string Name, string Country)> Cities { get; }
    public IReadOnlyList<(string Name, string City, string Job)> People { get; }

    /// <summary>Every fact about the known people and cities, in a seeded order.</summary>
    public IReadOnlyList<WorldFact> Facts { get; }

    public IReadOnlyList<string> TrainContextPeople { get; }
    public IReadOnlyList<string> TrainContextCities { get; }
    public IReadOnlyList<string> EvalContextPeople { get; }
    public IReadOnlyList<string> EvalContextCities { get; }

    public FictionalWorld(Rng rng, int people = 16, int cities = 8, int countries = 3)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Countries = Names(rng, used, countries, CountryName);
        Cities = Names(rng, used, cities, CityName).Select((c, i) => (c, Countries[i % countries])).ToArray();
        People = Names(rng, used, people, PersonName)
            .Select(p => (p, Cities[rng.NextInt(cities)].Name, WorldTemplates.Jobs[rng.NextInt(WorldTemplates.Jobs.Length)])).ToArray();
        TrainContextPeople = Names(rng, used, 40, PersonName);
        TrainContextCities = Names(rng, used, 16, CityName);
        EvalContextPeople = Names(rng, used, 30, PersonName);
        EvalContextCities = Names(rng, used, 12, CityName);

        var facts = new List<WorldFact>();
        foreach (var (name, city, job) in People)
        {
            facts.Add(new("lives_in", name, city));
            facts.Add(new("works_as", name, job));
        }
        foreach (var (name, country) in Cities) facts.Add(new("in_country", name, country));
        Shuffle(rng, facts);
        Facts = facts;
    }

    private static string[] Names(Rng rng, HashSet<string> used, int count, Func<Rng, string> make)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            string name;
            do name = make(rng); while (!used.Add(name));
            names[i] = name;
        }
        return names;
    }

    private static string Pick(Rng rng, string[] options) => options[rng.NextInt(options.Length)];

    private static string PersonName(Rng rng)
    {
        string first = Pick(rng, FirstSyllables) + Pick(rng, FirstSyllables);
        return char.ToUpperInvariant(first[0]) + first[1..] + " " + Pick(rng, LastOnsets) + Pick(rng, LastRimes);
    }

    private static string CityName(Rng rng) => Pick(rng, CityHeads) + Pick(rng, CityTails);

    private static string CountryName(Rng rng) => Pick(rng, CountryOnsets) + Pick(rng, CountryVowels) + Pick(rng, CountryMiddles) + Pick(rng, CountryEnds);

    public static void Shuffle<T>(Rng rng, IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}

using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What the configuration binder passes over without a word, checked at start: a setting it does not know (a typo,
/// Chat:Limits:MaxConection), one value where it reads a list (Chat__AllowedOrigins=https://… where it reads
/// Chat__AllowedOrigins__0) or a section, and a list or section where it reads one value. Each would leave the
/// default in force while the operator believes the setting is applied.
/// </summary>
public static class SettingsShape
{
    /// <summary>Binds <paramref name="section"/> to <typeparamref name="TOptions"/>, checked at start for its shape and by the validators registered for it.</summary>
    public static OptionsBuilder<TOptions> AddSettings<TOptions>(this IServiceCollection services, string section) where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(provider =>
            new ShapeValidator<TOptions>(provider.GetRequiredService<IConfiguration>().GetSection(section)));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>What an operator is told who set a list as one value.</summary>
    public static string ListSentence(string path, string example = "…") =>
        $"{path} is a list: set its items as {path}:0, {path}:1, … ({Environment(path)}__0={example} in the environment), not one value.";

    /// <summary>Everything wrong with the shape of <paramref name="section"/> as settings of <paramref name="type"/>, in the order the configuration lists it.</summary>
    public static IEnumerable<string> Problems(Type type, IConfigurationSection section)
    {
        if (!string.IsNullOrEmpty(section.Value))
        {
            yield return SectionSentence(section.Path, type);
        }

        foreach (var problem in SectionProblems(type, section))
        {
            yield return problem;
        }
    }

    private static IEnumerable<string> SectionProblems(Type type, IConfigurationSection section)
    {
        var settings = Settings(type);
        foreach (var child in section.GetChildren())
        {
            var setting = settings.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            var problems = setting is null
                ? [$"{child.Path} is not a setting: {section.Path} has {string.Join(", ", settings.Select(p => p.Name))}."]
                : ValueProblems(setting.PropertyType, child);
            foreach (var problem in problems)
            {
                yield return problem;
            }
        }
    }

    private static IEnumerable<string> ValueProblems(Type type, IConfigurationSection value)
    {
        switch (KindOf(type))
        {
            case Kind.One when value.GetChildren().FirstOrDefault() is { } part:
                yield return $"{value.Path} is one value: set {value.Path} ({Environment(value.Path)} in the environment), not {part.Path}.";
                break;
            case Kind.List:
                if (!string.IsNullOrEmpty(value.Value))
                {
                    yield return ListSentence(value.Path);
                }

                var itemType = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
                foreach (var item in value.GetChildren())
                {
                    var problems = int.TryParse(item.Key, out var index) && index >= 0
                        ? ValueProblems(itemType, item)
                        : [$"{item.Path} is not an item of {value.Path}: its items are {value.Path}:0, {value.Path}:1 and so on."];
                    foreach (var problem in problems)
                    {
                        yield return problem;
                    }
                }

                break;
            case Kind.Section:
                foreach (var problem in Problems(type, value))
                {
                    yield return problem;
                }

                break;
        }
    }

    private static string SectionSentence(string path, Type type) =>
        Settings(type).FirstOrDefault()?.Name is { } first
            ? $"{path} is a section, not one value: set the settings in it, such as {path}:{first} ({Environment(path)}__{first}=… in the environment)."
            : $"{path} is a section, not one value.";

    private static string Environment(string path) => path.Replace(":", "__", StringComparison.Ordinal);

    // What the binder sets: public properties with a public setter.
    private static List<PropertyInfo> Settings(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).ToList();

    private enum Kind { One, List, Section, Map }

    private static Kind KindOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type.IsPrimitive || type.IsEnum || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string)) ? Kind.One
            : typeof(IDictionary).IsAssignableFrom(type) || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)) ? Kind.Map
            : typeof(IEnumerable).IsAssignableFrom(type) ? Kind.List
            : Kind.Section;
    }

    private sealed class ShapeValidator<TOptions>(IConfigurationSection section) : IValidateOptions<TOptions> where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options) =>
            name == Options.Options.DefaultName && Problems(typeof(TOptions), section).ToList() is { Count: > 0 } problems
                ? ValidateOptionsResult.Fail(problems)
                : ValidateOptionsResult.Skip;
    }
}

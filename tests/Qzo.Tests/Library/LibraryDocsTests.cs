using System.Reflection;
using System.Xml.Linq;

namespace Qzo.Tests.Library;

/// <summary>The library's front door and every library type in its signatures carry XML docs (shipped as Qzo.xml).</summary>
public class LibraryDocsTests
{
    static readonly Type[] FrontDoor = [typeof(QzoModel), typeof(QzoTask), typeof(ComputeDevice)];

    [Fact]
    public void TheFrontDoorItsMembersAndTheTypesTheyUseHaveSummaries()
    {
        var summaries = XDocument.Load(Path.ChangeExtension(typeof(QzoModel).Assembly.Location, ".xml")).Descendants("member")
            .Where(m => !string.IsNullOrWhiteSpace(m.Element("summary")?.Value)).Select(m => (string)m.Attribute("name")!).ToHashSet();
        var members = FrontDoor.SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static |
                                                             BindingFlags.DeclaredOnly))
            .Where(m => m is not MethodInfo { IsSpecialName: true } && !(m.DeclaringType!.IsEnum && m.Name == "value__")).ToList();
        var used = members.SelectMany(Signature).Concat(FrontDoor).SelectMany(Unwrap)
            .Where(t => t.Assembly == typeof(QzoModel).Assembly).Distinct().ToList();

        var missing = used.Where(t => !summaries.Contains("T:" + t.FullName)).Select(t => t.FullName!)
            .Concat(members.Where(m => !summaries.Any(s => s.StartsWith(Prefix(m), StringComparison.Ordinal)))
                .Select(m => $"{m.DeclaringType!.Name}.{m.Name}"))
            .ToList();
        Assert.True(missing.Count == 0, "no <summary> for: " + string.Join(", ", missing));
        Assert.Contains(typeof(Qzo.Training.ZoOptions), used);
    }

    static IEnumerable<Type> Signature(MemberInfo member) => member switch
    {
        MethodBase m => m.GetParameters().Select(p => p.ParameterType).Append((m as MethodInfo)?.ReturnType ?? typeof(void)),
        PropertyInfo p => [p.PropertyType],
        FieldInfo f => [f.FieldType],
        _ => [],
    };

    static IEnumerable<Type> Unwrap(Type type) =>
        type.IsGenericType ? type.GetGenericArguments().SelectMany(Unwrap).Prepend(type)
        : type.HasElementType ? Unwrap(type.GetElementType()!)
        : [Nullable.GetUnderlyingType(type) ?? type];

    /// <summary>The start of the member's XML doc id (overloads share it; each is checked by name).</summary>
    static string Prefix(MemberInfo m) => m switch
    {
        MethodInfo => $"M:{m.DeclaringType!.FullName}.{m.Name}",
        PropertyInfo => $"P:{m.DeclaringType!.FullName}.{m.Name}",
        FieldInfo => $"F:{m.DeclaringType!.FullName}.{m.Name}",
        _ => $"{m.MemberType}:{m.DeclaringType!.FullName}.{m.Name}",
    };
}

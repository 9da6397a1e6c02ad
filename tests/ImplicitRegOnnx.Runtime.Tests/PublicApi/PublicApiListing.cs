using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace ImplicitRegOnnx.Runtime.Tests.PublicApi;

/// <summary>
/// Renders the public surface of an assembly as sorted text, one line per type and member, so a checked-in copy
/// shows every change to the API as a diff. It lists what a referencing app can see: public types (nested ones
/// too) and their public and protected members, with parameter names, defaults and nullable annotations, since
/// each of those is part of the contract (renaming a parameter breaks callers that name it).
/// </summary>
internal static class PublicApiListing
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string Render(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeHeader(type)).Append('\n');
            foreach (var line in Members(type).Order(StringComparer.Ordinal))
            {
                text.Append("    ").Append(line).Append('\n');
            }
        }
        return text.ToString();
    }

    private static string TypeHeader(Type type)
    {
        var kind = type.IsEnum ? "enum"
            : type.IsInterface ? "interface"
            : IsDelegate(type) ? "delegate"
            : type.IsValueType ? (IsRecord(type) ? "record struct" : "struct")
            : IsRecord(type) ? "record" : "class";
        var modifiers = new List<string>();
        if (!type.IsValueType && !type.IsInterface && !IsDelegate(type))
        {
            if (type.IsAbstract && type.IsSealed) modifiers.Add("static");
            else if (type.IsAbstract) modifiers.Add("abstract");
            else if (type.IsSealed) modifiers.Add("sealed");
        }
        if (type.IsValueType && type.IsDefined(typeof(IsReadOnlyAttribute), false)) modifiers.Add("readonly");
        var bases = new List<string>();
        if (type.IsEnum)
        {
            bases.Add(Name(Enum.GetUnderlyingType(type)));
        }
        else if (!type.IsInterface && type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType)
                 && b != typeof(MulticastDelegate))
        {
            bases.Add(Name(b));
        }
        if (!type.IsEnum && !IsDelegate(type))
        {
            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic)
                .Where(i => !(IsRecord(type) && i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>)))
                .Select(Name).Order(StringComparer.Ordinal));
        }
        var header = $"{string.Join(" ", modifiers.Append(kind))} {FullName(type)}";
        return bases.Count == 0 ? header : $"{header} : {string.Join(", ", bases)}";
    }

    private static IEnumerable<string> Members(Type type)
    {
        if (type.IsEnum)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                yield return $"{field.Name} = {Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
            }
            yield break;
        }
        if (IsDelegate(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            yield return $"Invoke({Parameters(invoke.GetParameters())}) : {Returned(invoke)}";
            yield break;
        }
        var nullability = new NullabilityInfoContext();
        foreach (var member in type.GetMembers(Declared))
        {
            switch (member)
            {
                case ConstructorInfo ctor when Visible(ctor) && !ctor.IsStatic:
                    yield return $"{Access(ctor)}ctor({Parameters(ctor.GetParameters())})";
                    break;
                case MethodInfo method when Visible(method) && !method.IsSpecialName || method.IsSpecialName && method.Name.StartsWith("op_", StringComparison.Ordinal) && Visible(method):
                    if (IsCompilerGenerated(method)) break;
                    yield return $"{Access(method)}{Static(method.IsStatic)}{Virtual(method)}{method.Name}{GenericArguments(method)}({Parameters(method.GetParameters())}) : {Returned(method)}";
                    break;
                case PropertyInfo property when !IsCompilerGenerated(property):
                {
                    var getter = property.GetMethod is { } g && Visible(g) ? g : null;
                    var setter = property.SetMethod is { } s && Visible(s) ? s : null;
                    if (getter is null && setter is null) break;
                    var accessors = new List<string>();
                    if (getter is not null) accessors.Add("get;");
                    if (setter is not null) accessors.Add(IsInitOnly(setter) ? "init;" : "set;");
                    var any = getter ?? setter!;
                    var index = property.GetIndexParameters();
                    var name = index.Length == 0 ? property.Name : $"this[{Parameters(index)}]";
                    yield return $"{Access(any)}{Static(any.IsStatic)}{Virtual(any)}{Nullable(property.PropertyType, nullability.Create(property))} {name} {{ {string.Join(" ", accessors)} }}";
                    break;
                }
                case FieldInfo field when (field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly) && !IsCompilerGenerated(field):
                {
                    var constant = field.IsLiteral ? $" = {Literal(field.GetRawConstantValue())}" : "";
                    var modifier = field.IsLiteral ? "const " : $"{Static(field.IsStatic)}{(field.IsInitOnly ? "readonly " : "")}";
                    yield return $"{(field.IsPublic ? "" : "protected ")}{modifier}{Nullable(field.FieldType, nullability.Create(field))} {field.Name}{constant}";
                    break;
                }
                case EventInfo @event when @event.AddMethod is { } add && Visible(add):
                    yield return $"{Access(add)}{Static(add.IsStatic)}event {Name(@event.EventHandlerType!)} {@event.Name}";
                    break;
                case Type nested when nested.IsNestedPublic:
                    break; // listed as a type of its own
            }
        }
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static string Access(MethodBase method) => method.IsPublic ? "" : "protected ";

    private static string Static(bool isStatic) => isStatic ? "static " : "";

    private static string Virtual(MethodInfo method) =>
        method.DeclaringType!.IsInterface ? ""
        : method.IsAbstract ? "abstract "
        : method.IsVirtual && !method.IsFinal && method.GetBaseDefinition() == method ? "virtual "
        : method.IsVirtual && method.GetBaseDefinition() != method ? "override " : "";

    // Members the compiler synthesizes (a record's Equals, GetHashCode, ToString, operators, Deconstruct,
    // EqualityContract, Clone) follow from the type being a record, which the header says.
    private static bool IsCompilerGenerated(MemberInfo member) => member.IsDefined(typeof(CompilerGeneratedAttribute), false);

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static bool IsRecord(Type type) =>
        type.GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance) is not null
        || type.IsValueType && type.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance) is not null;

    private static bool IsDelegate(Type type) => typeof(Delegate).IsAssignableFrom(type);

    private static string GenericArguments(MethodInfo method) =>
        method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(a => a.Name))}>" : "";

    private static string Returned(MethodInfo method) =>
        Nullable(method.ReturnType, new NullabilityInfoContext().Create(method.ReturnParameter));

    private static string Parameters(ParameterInfo[] parameters)
    {
        var nullability = new NullabilityInfoContext();
        return string.Join(", ", parameters.Select(p =>
        {
            var type = p.ParameterType;
            var prefix = type.IsByRef ? (p.IsOut ? "out " : p.IsIn ? "in " : "ref ") : "";
            var rendered = type.IsByRef ? Name(type.GetElementType()!) : Nullable(type, nullability.Create(p));
            if (p.IsDefined(typeof(ParamArrayAttribute), false)) prefix = "params " + prefix;
            var defaultValue = p.HasDefaultValue ? $" = {Literal(p.RawDefaultValue)}" : "";
            return $"{prefix}{rendered} {p.Name}{defaultValue}";
        }));
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Nullable(Type type, NullabilityInfo info)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>))
        {
            return Name(type.GetGenericArguments()[0]) + "?";
        }
        if (type.IsArray && info.ElementType is { } element)
        {
            return $"{Nullable(type.GetElementType()!, element)}[]{(info.ReadState == NullabilityState.Nullable ? "?" : "")}";
        }
        string name;
        if (type.IsGenericType && info.GenericTypeArguments.Length == type.GetGenericArguments().Length)
        {
            var definition = Name(type.GetGenericTypeDefinition());
            definition = definition[..definition.IndexOf('<', StringComparison.Ordinal)];
            name = $"{definition}<{string.Join(", ", type.GetGenericArguments().Zip(info.GenericTypeArguments, Nullable))}>";
        }
        else
        {
            name = Name(type);
        }
        return !type.IsValueType && info.ReadState == NullabilityState.Nullable ? name + "?" : name;
    }

    private static string FullName(Type type) =>
        type.IsNested ? $"{FullName(type.DeclaringType!)}.{Name(type)}" : $"{type.Namespace}.{Name(type)}";

    private static string Name(Type type)
    {
        if (type.IsByRef) return Name(type.GetElementType()!);
        if (type.IsArray) return $"{Name(type.GetElementType()!)}[{new string(',', type.GetArrayRank() - 1)}]";
        if (type.IsGenericParameter) return type.Name;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>)) return Name(type.GetGenericArguments()[0]) + "?";
        var keyword = Keyword(type);
        if (keyword is not null) return keyword;
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0) name = name[..tick];
        var own = type.IsNested ? $"{Name(type.DeclaringType!)}.{name}" : name;
        if (!type.IsGenericType) return own;
        var arguments = type.GetGenericArguments();
        if (type.IsNested) arguments = arguments[type.DeclaringType!.GetGenericArguments().Length..];
        return arguments.Length == 0 ? own : $"{own}<{string.Join(", ", arguments.Select(Name))}>";
    }

    private static string? Keyword(Type type) =>
        type == typeof(void) ? "void" : type == typeof(bool) ? "bool" : type == typeof(byte) ? "byte"
        : type == typeof(sbyte) ? "sbyte" : type == typeof(short) ? "short" : type == typeof(ushort) ? "ushort"
        : type == typeof(int) ? "int" : type == typeof(uint) ? "uint" : type == typeof(long) ? "long"
        : type == typeof(ulong) ? "ulong" : type == typeof(float) ? "float" : type == typeof(double) ? "double"
        : type == typeof(decimal) ? "decimal" : type == typeof(string) ? "string" : type == typeof(object) ? "object"
        : type == typeof(char) ? "char" : null;
}

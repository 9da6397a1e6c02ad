namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// One axis of a grid: a single option and its values, or several options zipped together (the i-th
/// value of each goes into the same point, e.g. a batch size with its learning rate).
/// </summary>
public sealed record SweepAxis(IReadOnlyList<string> Names, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>An axis over one option.</summary>
    public static SweepAxis Single(string name, IEnumerable<string> values) =>
        new([name], [.. values.Select(v => (IReadOnlyList<string>)[v])]);
}

/// <summary>Expands option lists into the points of a grid (the cartesian product of its axes).</summary>
public static class SweepGrid
{
    /// <summary>
    /// The axes for option lists: every option is its own axis, except those named together in a
    /// <paramref name="zipped"/> group, which become one axis and must have lists of equal length.
    /// Axes keep the order of <paramref name="lists"/>.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: a zipped axis has no list, is in two groups, or the lengths differ.</exception>
    public static IReadOnlyList<SweepAxis> Axes(IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> lists, IReadOnlyList<IReadOnlyList<string>>? zipped = null)
    {
        var byName = lists.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var groupOf = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in zipped ?? [])
        {
            foreach (var name in group)
            {
                if (!byName.ContainsKey(name))
                {
                    throw ImplicitRegException.BadInput($"axis '{name}' is zipped but has no values");
                }
                if (!groupOf.TryAdd(name, group))
                {
                    throw ImplicitRegException.BadInput($"axis '{name}' is in two zipped groups");
                }
            }
            var lengths = group.Select(n => byName[n].Count).Distinct().ToList();
            if (lengths.Count > 1)
            {
                throw ImplicitRegException.BadInput($"zipped axes need lists of equal length: {string.Join(", ", group.Select(n => $"'{n}' has {byName[n].Count}"))}");
            }
        }
        var axes = new List<SweepAxis>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, values) in lists)
        {
            if (!done.Add(name))
            {
                continue;
            }
            if (groupOf.TryGetValue(name, out var group))
            {
                done.UnionWith(group);
                var rows = Enumerable.Range(0, values.Count).Select(i => (IReadOnlyList<string>)[.. group.Select(n => byName[n][i])]).ToList();
                axes.Add(new SweepAxis(group, rows));
            }
            else
            {
                axes.Add(SweepAxis.Single(name, values));
            }
        }
        return axes;
    }

    /// <summary>The points of the grid, the last axis varying fastest; duplicates (same key) once.</summary>
    public static IReadOnlyList<SweepPoint> Expand(IReadOnlyList<SweepAxis> axes)
    {
        IEnumerable<List<KeyValuePair<string, string>>> partial = [[]];
        foreach (var axis in axes)
        {
            var current = axis;
            partial = partial.SelectMany(prefix => current.Rows.Select(row =>
                new List<KeyValuePair<string, string>>([.. prefix, .. current.Names.Select((n, i) => KeyValuePair.Create(n, row[i]))])));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. partial.Select(values => new SweepPoint(values)).Where(p => seen.Add(p.Key))];
    }

    /// <summary>Splits a list value ("0.1,0.2, 0.4") into its trimmed items; empty items are an error.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an item is empty.</exception>
    public static IReadOnlyList<string> SplitList(string list)
    {
        var items = list.Split(',', StringSplitOptions.TrimEntries);
        if (items.Any(i => i.Length == 0))
        {
            throw ImplicitRegException.BadInput($"'{list}' has an empty item; separate values with single commas");
        }
        return items;
    }

    /// <summary>Settings given as comma-separated lists ("lr" → "0.05,0.1"), split (<see cref="SplitList(string)"/>); an empty item names the setting's parameter.</summary>
    /// <param name="lists">Setting name (<see cref="Training.TrainingSettings.Names"/>) → its comma-separated values, in the order given.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an item is empty.</exception>
    public static IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> SplitLists(IEnumerable<KeyValuePair<string, string>> lists) =>
        [.. lists.Select(l => KeyValuePair.Create(l.Key, SplitList(l.Value, Training.TrainingSettings.Find(l.Key)?.Parameter ?? l.Key)))];

    /// <summary>Zipped groups given as comma-separated names ("batch-size,lr"; leading dashes ignored), for <see cref="Axes"/>.</summary>
    /// <param name="groups">One comma-separated list of setting names per group.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming <c>SweepFromFilesOptions.Zip</c>: an item is empty.</exception>
    public static IReadOnlyList<IReadOnlyList<string>> SplitZip(IEnumerable<string> groups) =>
        [.. groups.Select(g => (IReadOnlyList<string>)[.. SplitList(g, "SweepFromFilesOptions.Zip").Select(n => n.TrimStart('-'))])];

    /// <summary>Splits a list value as <see cref="SplitList(string)"/>, an error naming <paramref name="parameter"/> in front.</summary>
    /// <param name="list">The comma-separated items.</param>
    /// <param name="parameter">What the list was given for (e.g. <c>SweepFromFilesOptions.Experiments</c>).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an item is empty.</exception>
    public static IReadOnlyList<string> SplitList(string list, string parameter)
    {
        try
        {
            return SplitList(list);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(parameter);
        }
    }
}

namespace ImplicitRegOnnx.Onnx.Tests.Passes;
public class OpsetUpgradeScanTests
{
    [Fact]
    public void Scan()
    {
        var hist = new SortedDictionary<string, SortedSet<long>>();
        var byOpset = new SortedDictionary<long,int>();
        foreach (var path in Directory.EnumerateFiles("/usr/share/libonnx-testdata/data", "model.onnx", SearchOption.AllDirectories))
        {
            Model m; try { m = Model.Load(path); } catch (OnnxFormatException) { continue; }
            var v = m.OpsetVersion("") ?? 0;
            byOpset[v] = byOpset.GetValueOrDefault(v) + 1;
            if (v >= 17) continue;
            foreach (var g in m.Graph.SelfAndSubgraphs()) foreach (var n in g.Nodes)
            {
                var k = (n.IsStandard ? "" : n.Domain + ".") + n.OpType;
                if (!hist.TryGetValue(k, out var s)) hist[k] = s = [];
                s.Add(v);
            }
        }
        File.WriteAllLines("/tmp/scan/out.txt", byOpset.Select(p => $"opset {p.Key}: {p.Value}").Concat(hist.Select(p => $"{p.Key}: {string.Join(",", p.Value)}")));
    }
}

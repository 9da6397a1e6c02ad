// Trains a tiny multiclass linear classifier with ML.NET on fixed rows and exports it with
// Microsoft.ML.OnnxConverter. Usage: dotnet run --project tools/mlnet-export -- OUT.onnx
using Microsoft.ML;
using Microsoft.ML.Data;

var output = args.Length > 0 ? args[0] : "mlnet_linear_classifier.onnx";
var ml = new MLContext(seed: 1);
// Three well-separated classes in 4 features; a few rows are enough for a linear model.
var rows = new List<Row>();
var random = new Random(7);
for (var i = 0; i < 30; i++)
{
    var label = i % 3;
    var features = new float[4];
    for (var f = 0; f < 4; f++)
    {
        features[f] = (f == label ? 3f : 0f) + (float)(random.NextDouble() - 0.5) + f * 10f;
    }
    rows.Add(new Row { Label = label, Features = features });
}
var data = ml.Data.LoadFromEnumerable(rows);
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.NormalizeMinMax("Features"))
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 50))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var model = pipeline.Fit(data);
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
Console.WriteLine($"training accuracy {metrics.MacroAccuracy:P1}");
using (var stream = File.Create(output))
{
    ml.Model.ConvertToOnnx(model, data, stream);
}
Console.WriteLine($"wrote {output}");

internal sealed class Row
{
    public float Label { get; set; }

    [VectorType(4)]
    public float[] Features { get; set; } = [];
}

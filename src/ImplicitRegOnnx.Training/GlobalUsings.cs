global using ImplicitRegOnnx.Onnx;
global using Attribute = ImplicitRegOnnx.Onnx.Attribute;

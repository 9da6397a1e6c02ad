// ONNX attributes, not System.Attribute, are what rules talk about.
global using Attribute = ImplicitRegOnnx.Onnx.Attribute;

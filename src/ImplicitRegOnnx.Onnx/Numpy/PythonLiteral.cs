using System.Globalization;
using System.Text;

namespace ImplicitRegOnnx.Onnx.Numpy;

/// <summary>
/// A parser for the small subset of Python literal syntax that .npy headers use (numpy writes the
/// header with repr() and reads it with ast.literal_eval): dicts, tuples, lists, strings, integers
/// (with Python 2's trailing L), True, False and None. Dicts become ordered key/value lists,
/// tuples and lists become <see cref="List{T}"/> of object, integers <see cref="long"/>.
/// </summary>
internal sealed class PythonLiteral
{
    private readonly string _text;
    private int _pos;

    private PythonLiteral(string text) => _text = text;

    /// <summary>A tuple, as distinct from a list (structured dtypes use lists of tuples).</summary>
    internal sealed class Tuple(List<object?> items)
    {
        public List<object?> Items { get; } = items;
    }

    /// <summary>Parses one literal; the text must hold nothing else but whitespace.</summary>
    public static object? Parse(string text)
    {
        var parser = new PythonLiteral(text);
        var value = parser.ParseValue();
        parser.SkipWhitespace();
        if (parser._pos != text.Length)
        {
            throw parser.Error("unexpected text after the literal");
        }
        return value;
    }

    private object? ParseValue()
    {
        SkipWhitespace();
        if (_pos >= _text.Length)
        {
            throw Error("unexpected end");
        }
        var c = _text[_pos];
        switch (c)
        {
            case '{':
                return ParseDict();
            case '(':
                _pos++;
                return ParseSequence(')', isTuple: true);
            case '[':
                _pos++;
                return ParseSequence(']', isTuple: false);
            case '\'' or '"':
                return ParseString();
            default:
                if (c == '-' || c == '+' || char.IsAsciiDigit(c))
                {
                    return ParseInteger();
                }
                if (char.IsAsciiLetter(c))
                {
                    var start = _pos;
                    while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
                    {
                        _pos++;
                    }
                    return _text[start.._pos] switch
                    {
                        "True" => true,
                        "False" => false,
                        "None" => null,
                        var word => throw Error($"unexpected name '{word}'"),
                    };
                }
                throw Error($"unexpected character '{c}'");
        }
    }

    private List<KeyValuePair<object?, object?>> ParseDict()
    {
        _pos++; // '{'
        var entries = new List<KeyValuePair<object?, object?>>();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}')
            {
                _pos++;
                return entries;
            }
            var key = ParseValue();
            SkipWhitespace();
            Expect(':');
            var value = ParseValue();
            entries.Add(new(key, value));
            SkipWhitespace();
            if (Peek() == ',')
            {
                _pos++;
            }
            else if (Peek() != '}')
            {
                throw Error("expected ',' or '}'");
            }
        }
    }

    private object ParseSequence(char close, bool isTuple)
    {
        var items = new List<object?>();
        var sawComma = false;
        while (true)
        {
            SkipWhitespace();
            if (Peek() == close)
            {
                _pos++;
                // "(3)" is the integer 3 in Python, "(3,)" a one-element tuple.
                if (isTuple && items.Count == 1 && !sawComma)
                {
                    return items[0]!;
                }
                return isTuple ? new Tuple(items) : items;
            }
            items.Add(ParseValue());
            SkipWhitespace();
            if (Peek() == ',')
            {
                _pos++;
                sawComma = true;
            }
            else if (Peek() != close)
            {
                throw Error($"expected ',' or '{close}'");
            }
        }
    }

    private string ParseString()
    {
        var quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unterminated string");
            }
            var c = _text[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= _text.Length)
            {
                throw Error("unterminated string");
            }
            var e = _text[_pos++];
            sb.Append(e switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                _ => e, // \\, \', \" and anything else verbatim
            });
        }
    }

    private long ParseInteger()
    {
        var start = _pos;
        if (_text[_pos] is '-' or '+')
        {
            _pos++;
        }
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
        var digits = _text[start.._pos];
        if (_pos < _text.Length && _text[_pos] is 'L' or 'l')
        {
            _pos++; // Python 2 long, as old numpy wrote shapes
        }
        if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Error($"bad integer '{digits}'");
        }
        return value;
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }
        _pos++;
    }

    private FormatException Error(string what) => new($"{what} at offset {_pos}");
}

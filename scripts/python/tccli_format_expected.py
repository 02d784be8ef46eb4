#!/usr/bin/env python3
"""Regenerate the expected outputs used by src/format.rs tests.

The expected outputs of cli/src/format.rs's tests, from tccli's own text and
table formatters: prints the `case!` invocations that the Rust test module
holds between the GENERATED markers; `--write` replaces that block in place.

Usage, with the pinned tccli of scripts/python/setup-venv.sh:
    "$(scripts/python/setup-venv.sh)/bin/python" scripts/python/tccli_format_expected.py [--write]
"""
import io
import json
import os
import re
import sys

from tccli import table as tccli_table
from tccli import text as tccli_text
from tccli import format_output

# Behave as when stdout is not a terminal: plain styler, 80 columns.
tccli_table.is_a_tty = lambda: False
tccli_table.determine_terminal_width = lambda default_width=80: 80

# (test name, JSON input).  Objects are decoded with their keys inserted in
# sorted order, matching serde_json's sorted Map.
CASES = [
    ("describe_instances", r'''{
  "InstanceSet": [
    {"CPU": 2, "InstanceId": "ins-abc123", "InstanceName": "web-1",
     "Memory": 4, "Placement": {"ProjectId": 0, "Zone": "ap-guangzhou-3"},
     "PrivateIpAddresses": ["10.0.0.1", "10.0.0.2"], "RenewFlag": null,
     "Tags": []},
    {"CPU": 4, "InstanceId": "ins-def456", "InstanceName": "db-1",
     "Memory": 8, "Placement": {"ProjectId": 1, "Zone": "ap-guangzhou-4"},
     "PrivateIpAddresses": ["10.0.1.5"],
     "Tags": [{"Key": "env", "Value": "prod"}]}
  ],
  "RequestId": "6ef60bec-0242-43af-bb20-270359fb54a7",
  "TotalCount": 2
}'''),
    ("narrow_list_of_objects", r'''{"Zones": [
      {"Zone": "gz-3", "ZoneState": "AVAILABLE"},
      {"Zone": "gz-4", "ZoneState": "UNAVAILABLE"}]}'''),
    ("empty_list", r'''[]'''),
    ("empty_object", r'''{}'''),
    ("top_level_string", r'''"hello world"'''),
    ("top_level_number", r'''42'''),
    ("top_level_null", r'''null'''),
    ("list_of_scalars", r'''[1, "two", 3.5, true, null]'''),
    ("nested_lists", r'''[[1, 2], [3, 4], [5, 6]]'''),
    ("nested_lists_ragged", r'''[[1, 2], [3, [4, 5]], "x"]'''),
    ("object_with_nested_lists", r'''{"Matrix": [[1, 2], [3, 4]], "Name": "m",
      "Tags": ["a", ["b", "c"]]}'''),
    ("nulls", r'''{"A": null, "B": [null, 1], "C": {"D": null, "E": 1}}'''),
    ("booleans", r'''{"Enabled": true, "Flags": [true, false],
      "Nested": {"On": false, "Off": true}}'''),
    ("floats", r'''{"Price": 12.5, "Values": [1.0, 0.5, 1e-05, 1e16, 123.456,
      -0.0, 1e15, 0.0001, 2.5e-300, 1.7976931348623157e308, 0.1, 100.0,
      832966553062042.25, 0.30000000000000004, 123456789012.0]}'''),
    ("unicode_cjk", r'''{"InstanceName": "测试实例", "Zone": "广州三区",
      "Tags": [{"Key": "环境", "Value": "生产"}, {"Key": "ß", "Value": "café"}],
      "标签": ["值一", "值二"]}'''),
    ("single_scalar_key", r'''{"RequestId": "abc-123"}'''),
    ("single_scalar_key_with_children", r'''{"RequestId": "abc-123",
      "Result": {"Ok": true, "Count": 3}}'''),
    ("no_scalars", r'''{"Items": [], "Meta": {"Inner": {"X": 1, "Y": [2]}}}'''),
    ("heterogeneous_objects", r'''[
      {"a": 1, "b": [1, "x'y", "q\"", "\u00e9\n\t\u00a0\u4e2d", 2.0, null]},
      {"a": {"k": null, "l": [[]], "t": true}, "c": "z"},
      {"b": 7, "d": {}}]'''),
    ("top_level_list_of_objects", r'''[{"Id": 1, "Sub": {"X": 1}},
      {"Id": 2, "Sub": {"X": 2}, "Extra": "e"}]'''),
    ("control_characters", r'''{"Msg": "line1\nline2", "Tab": "a\tb"}'''),
    ("objects_without_scalars", r'''{"L": [{"x": []}, {"x": [1]}]}'''),
    ("wide_converted_to_vertical", r'''{"InstanceChargeType": "PREPAID",
      "InstanceId": "ins-0123456789abcdef", "InstanceName": "a-rather-long-name",
      "Ipv6Address": "2402:4e00:1016:d700:0:9ae4:2d6a:f1e9",
      "Rows": [{"Alpha": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Beta": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "Gamma": "ccccccccccccccccccc"},
               {"Alpha": "a", "Beta": "b", "Gamma": "c"}]}'''),
    ("wide_single_row", r'''{"AAAAAAAAAAAAAAAAAAAA": "value-one-is-long",
      "BBBBBBBBBBBBBBBBBBBB": "value-two-is-longer",
      "CCCCCCCCCCCCCCCCCCCC": "value-three", "Inner": [{"P": 1, "Q": 2}]}'''),
    ("deepish", r'''{"a": {"b": {"c": {"d": [{"e": 2, "f": [{"g": "h"}]},
      {"e": 3}]}}}}'''),
    ("empty_key", r'''{"": [1, 2], "k": {"": "v"}}'''),
    ("list_of_objects_then_empty_list", r'''[{}, []]'''),
    ("list_of_objects_then_scalar", r'''[{"a": 1}, 2]'''),
    ("list_scalar_then_list", r'''[1, [2, 3]]'''),
]


def sorted_object(pairs):
    return dict(sorted(pairs))


def run_text(value):
    out = io.StringIO()
    try:
        format_output.TextResult()._format_response(value, out)
    except Exception:
        return None
    return out.getvalue()


def run_table(value):
    out = io.StringIO()
    try:
        format_output.TableResult()._format_response("action", value, out)
    except Exception:
        return None
    return out.getvalue()


def rust_str(s):
    """A Rust string literal (non-ASCII kept as is)."""
    parts = []
    for ch in s:
        if ch == '\\':
            parts.append('\\\\')
        elif ch == '"':
            parts.append('\\"')
        elif ch == '\n':
            parts.append('\\n')
        elif ch == '\t':
            parts.append('\\t')
        elif ch == '\r':
            parts.append('\\r')
        elif ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 or not ch.isprintable():
            parts.append('\\u{%x}' % ord(ch))
        else:
            parts.append(ch)
    return '"' + ''.join(parts) + '"'


def rust_expected(s, indent):
    if s is None:
        return 'None'
    lines = s.splitlines(keepends=True)
    if len(lines) <= 1:
        return 'Some(%s)' % rust_str(s)
    pad = ' ' * (indent + 4)
    body = ''.join('%s%s,\n' % (pad, rust_str(line)) for line in lines)
    return 'Some(concat!(\n%s%s))' % (body, ' ' * indent)


def generate():
    chunks = []
    for name, src in CASES:
        value = json.loads(src, object_pairs_hook=sorted_object)
        chunks.append(
            '    case!(\n'
            '        %s,\n'
            '        r#"%s"#,\n'
            '        %s,\n'
            '        %s\n'
            '    );\n' % (name, src, rust_expected(run_text(value), 8),
                          rust_expected(run_table(value), 8)))
    return ''.join(chunks)


BEGIN = '    // BEGIN GENERATED by scripts/python/tccli_format_expected.py\n'
END = '    // END GENERATED\n'


def main():
    generated = generate()
    if '--write' not in sys.argv[1:]:
        sys.stdout.write(generated)
        return
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        '..', '..', 'cli', 'src', 'format.rs')
    with open(path, encoding='utf-8') as f:
        source = f.read()
    pattern = re.compile(re.escape(BEGIN) + '.*?' + re.escape(END), re.S)
    if not pattern.search(source):
        sys.exit('markers not found in %s' % path)
    source = pattern.sub(lambda _: BEGIN + generated + END, source, count=1)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(source)


if __name__ == '__main__':
    main()

"""Compares, field by field, the Flyte 1 and Flyte 2 messages the server converts into each other by
re-decoding their bytes: every field both have must share number, type and label (recursively), so
the bytes one protocol writes read as the same values in the other. Prints one JSON object:
{"<v1 message> ~ <v2 message>": [differences]}; a field only one side has is listed as "only in vN".

usage: compare_descriptors.py GENERATED_DIR V1_SET V2_SET
"""

import json
import sys

sys.path.insert(0, sys.argv[1])

from google.protobuf import descriptor_pb2  # noqa: E402


def messages(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    found = {}

    def walk(prefix, types):
        for m in types:
            name = f"{prefix}.{m.name}"
            found[name] = m
            walk(name, m.nested_type)

    for file in fds.file:
        walk("." + file.package, file.message_type)
    return found


v1, v2 = messages(sys.argv[2]), messages(sys.argv[3])


def compare(a, b, out, seen):
    if (a, b) in seen:
        return
    seen.add((a, b))
    fa = {f.number: f for f in v1[a].field}
    fb = {f.number: f for f in v2[b].field}
    for number in sorted(set(fa) | set(fb)):
        x, y = fa.get(number), fb.get(number)
        if x is None or y is None:
            out.append(f"{a[1:]}.{(x or y).name} ({number}) only in {'v1' if x else 'v2'}")
        elif x.type != y.type or x.label != y.label:
            out.append(f"{a[1:]}.{x.name} ({number}): v1 type {x.type}/{x.label}, v2 type {y.type}/{y.label}")
        elif x.type == x.TYPE_MESSAGE:
            compare(x.type_name, y.type_name, out, seen)


pairs = [
    (".flyteidl.core.TaskTemplate", ".flyteidl2.core.TaskTemplate"),
    (".flyteidl.core.Literal", ".flyteidl2.core.Literal"),
    (".flyteidl.admin.TaskExecutionMetadata", ".flyteidl2.connector.TaskExecutionMetadata"),
    (".flyteidl.core.TaskLog", ".flyteidl2.core.TaskLog"),
]
result = {}
for a, b in pairs:
    out = []
    compare(a, b, out, set())
    result[f"{a[1:]} ~ {b[1:]}"] = out
print(json.dumps(result))

"""Writes Python-declared tasks the way flytekit 1.16.5 serializes them, with protobuf classes compiled
by protoc from flyteidl's protos (no flytekit, which is not installable here):

- flyte-package.tgz: what `pyflyte package` writes. flytekit/tools/serialize_helpers.py
  persist_registrable_entities names each entity "<index>_<name>_<1 task|2 workflow|3 launch plan>.pb",
  the index zero-padded to ceil(log10(count)) digits, and writes TaskSpec.SerializeToString();
  flytekit/tools/repo.py package() adds every file of that folder to a "w:gz" tarfile with
  arcname=<file name> (no directory).
- task.pb (one admin.TaskSpec), template.pb (one core.TaskTemplate), inputs.pb (a core.LiteralMap);
- flytectl.json: one admin.Task in protobuf's JSON mapping, tab-indented, as flytectl's printer
  (flytectl/pkg/printer/printer.go, jsonpb.Marshaler{Indent: tab}) prints `get task -o json`;
  flytectl-list.json: two versions, a JSON list, as it prints when several versions match.

usage: task_specs.py GENERATED_DIR OUT_DIR
"""

import json
import math
import os
import sys
import tarfile
import tempfile

sys.path.insert(0, sys.argv[1])
out = sys.argv[2]

from google.protobuf import json_format  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from flyteidl.admin import description_entity_pb2, task_pb2, workflow_pb2  # noqa: E402
from flyteidl.core import (  # noqa: E402
    compiler_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2 as core_workflow_pb2,
)

FLYTEKIT_VERSION = "1.16.5"


def simple(kind, tag=None):
    t = types_pb2.LiteralType(simple=kind)
    if tag:
        t.structure.tag = tag
    return t


def variables(spec):
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=t, description=d) for name, (t, d) in spec.items()}
    )


def template(name, task_type, version, inputs, outputs, custom, task_version="v1"):
    # flytekit/tools/translator.py get_serializable_task: Identifier(TASK, project, domain, name, version),
    # type, metadata (base_task.py to_taskmetadata_model: runtime FLYTE_SDK <version> "python"),
    # interface, custom=get_custom(), task_type_version, config.
    t = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project="flytesnacks", domain="development", name=name, version=task_version
        ),
        type=task_type,
        task_type_version=version,
        metadata=tasks_pb2.TaskMetadata(
            runtime=tasks_pb2.RuntimeMetadata(
                type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version=FLYTEKIT_VERSION, flavor="python"
            ),
            retries=literals_pb2.RetryStrategy(retries=1),
        ),
        interface=interface_pb2.TypedInterface(inputs=variables(inputs), outputs=variables(outputs)),
    )
    t.metadata.timeout.FromSeconds(600)
    if custom is not None:
        s = struct_pb2.Struct()
        s.update(custom)
        t.custom.CopyFrom(s)
    return t


def spec(t, short):
    return task_pb2.TaskSpec(
        template=t, description=description_entity_pb2.DescriptionEntity(short_description=short)
    )


optional_str = types_pb2.LiteralType(
    union_type=types_pb2.UnionType(
        variants=[simple(types_pb2.STRING, "str"), simple(types_pb2.NONE, "none")]
    )
)

query = template(
    "my_pkg.tasks.query",
    "warehouse_query",
    1,
    {
        "day": (simple(types_pb2.DATETIME), "the day to total"),
        "limit": (simple(types_pb2.INTEGER), "at most this many rows"),
        "tags": (types_pb2.LiteralType(collection_type=simple(types_pb2.STRING)), "labels"),
        "mode": (optional_str, ""),
        "version": (
            types_pb2.LiteralType(
                union_type=types_pb2.UnionType(
                    variants=[simple(types_pb2.INTEGER, "int"), simple(types_pb2.NONE, "none")]
                )
            ),
            "schema version",
        ),
    },
    {"rows": (simple(types_pb2.INTEGER), ""), "echo": (simple(types_pb2.STRING), "")},
    {"warehouse": "analytics", "priority": 2},
)
other = template("my_pkg.tasks.other", "bigquery_query_job_task", 0, {}, {}, {"Location": "US"})
long_name = "my_pkg." + "a_rather_long_module_name_" * 5 + "ping"
ping = template(long_name, "warehouse_query", 1, {}, {"rows": (simple(types_pb2.INTEGER), "")}, None)

workflow = workflow_pb2.WorkflowSpec(
    template=core_workflow_pb2.WorkflowTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.WORKFLOW, project="flytesnacks", domain="development", name="my_pkg.wf.main", version="v1"
        )
    )
)

entities = [
    ("task", spec(query, "Totals a day of orders.")),
    ("task", spec(other, "")),
    ("workflow", workflow),
    ("task", spec(ping, "")),
]


def persist(folder, items):
    # serialize_helpers.py _determine_text_chars / persist_registrable_entities.
    width = 0 if len(items) == 0 else math.ceil(math.log(len(items), 10))
    for i, (kind, entity) in enumerate(items):
        index = str(i).zfill(width)
        suffix = {"task": 1, "workflow": 2}[kind]
        name = entity.template.id.name
        with open(os.path.join(folder, f"{index}_{name}_{suffix}.pb"), "wb") as f:
            f.write(entity.SerializeToString())


def package(output, items):
    with tempfile.TemporaryDirectory() as tmp:
        persist(tmp, items)
        with tarfile.open(output, "w:gz") as tar:
            for ws_file in os.listdir(tmp):
                tar.add(os.path.join(tmp, ws_file), arcname=ws_file)


package(os.path.join(out, "flyte-package.tgz"), entities)
package(os.path.join(out, "workflows-only.tgz"), [("workflow", workflow)])

with open(os.path.join(out, "task.pb"), "wb") as f:
    f.write(spec(query, "Totals a day of orders.").SerializeToString())
with open(os.path.join(out, "template.pb"), "wb") as f:
    f.write(query.SerializeToString())
with open(os.path.join(out, "other.pb"), "wb") as f:
    f.write(spec(other, "").SerializeToString())


def admin_task(t, created):
    task = task_pb2.Task(
        id=t.id,
        closure=task_pb2.TaskClosure(compiled_task=compiler_pb2.CompiledTask(template=t)),
        short_description="Totals a day of orders.",
    )
    task.closure.created_at.FromJsonString(created)
    return task


def printed(message):
    # jsonpb.Marshaler{Indent: "\t"}: lowerCamelCase names, enum names, int64 as strings, Duration "600s".
    return json.loads(json_format.MessageToJson(message))


with open(os.path.join(out, "flytectl.json"), "w") as f:
    json.dump(printed(admin_task(query, "2026-11-20T10:00:00Z")), f, indent="\t")
older = tasks_pb2.TaskTemplate()
older.CopyFrom(query)
older.id.version = "v0"
older.custom["warehouse"] = "old"
with open(os.path.join(out, "flytectl-list.json"), "w") as f:
    json.dump(
        [printed(admin_task(query, "2026-11-20T10:00:00Z")), printed(admin_task(older, "2026-11-01T10:00:00Z"))],
        f,
        indent="\t",
    )

day = literals_pb2.Literal()
day.scalar.primitive.datetime.FromJsonString("2026-11-20T00:00:00Z")
inputs = literals_pb2.LiteralMap(
    literals={
        "day": day,
        "limit": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=7))),
        "tags": literals_pb2.Literal(
            collection=literals_pb2.LiteralCollection(
                literals=[literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value="a")))]
            )
        ),
        "mode": literals_pb2.Literal(
            scalar=literals_pb2.Scalar(
                union=literals_pb2.Union(
                    value=literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void())),
                    type=simple(types_pb2.NONE, "none"),
                )
            )
        ),
    }
)
with open(os.path.join(out, "inputs.pb"), "wb") as f:
    f.write(inputs.SerializeToString())
print(json.dumps({"template_bytes": query.SerializeToString().hex(), "inputs_bytes": inputs.SerializeToString().hex()}))

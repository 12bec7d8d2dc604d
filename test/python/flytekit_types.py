"""Literals encoded and decoded the way flytekit 1.16's type engine does it, without flytekit: the
independent side of the data interop tests. Each kind below follows one flytekit transformer
(flytekit v1.16.5, flytekit/core/type_engine.py unless said otherwise):

- int, float, str, bool, datetime, duration: the SimpleTransformers (`Primitive` fields; datetime is a
  `Timestamp` with microseconds, duration a `Duration`);
- list_int: ListTransformer (a `LiteralCollection`); dict_str_int: DictTransformer for Dict[str, int]
  (a `LiteralMap`);
- untyped_dict: DictTransformer for `dict` (STRUCT type with the msgpack annotation,
  `Scalar.binary{msgpack.dumps(value), tag "msgpack"}`);
- dataclass: DataclassTransformer (mashumaro's MessagePackEncoder: nested dataclasses as maps,
  datetimes as `isoformat()`, bytes as bin);
- pydantic: flytekit/extras/pydantic_transformer (`model_dump_json()` -> `json.loads` -> msgpack, so
  datetimes are Pydantic's JSON text with "Z");
- optional_int: UnionTransformer (a `Union` literal whose stored type carries the variant's tag);
- enum: EnumTransformer (the value as a string primitive); blob: FlyteFilePathTransformer (a `Blob`);
  structured_dataset: StructuredDatasetTransformerEngine (uri + format).

Both struct forms are read, as flytekit reads both: msgpack `Binary` and the older generic `Struct`.
"""

import dataclasses
import datetime
import enum
import json

import msgpack
from flyteidl.core import literals_pb2 as L
from flyteidl.core import types_pb2 as T
from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2

UTC = datetime.timezone.utc
MSGPACK_ANNOTATION = {"cache-key-metadata": {"serialization-format": "msgpack"}}


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    x: int
    when: datetime.datetime


@dataclasses.dataclass
class Outer:
    name: str
    inner: Inner
    tags: list
    score: float
    raw: bytes


class Model:
    """Stands in for a Pydantic BaseModel: what matters on the wire is its JSON form."""

    fields = ("id", "label", "ratio", "when")

    def __init__(self, id, label, ratio, when):
        self.id, self.label, self.ratio, self.when = id, label, ratio, when

    def model_dump_json(self):
        # Pydantic v2 writes an aware UTC datetime as "...Z".
        when = self.when.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return json.dumps({"id": self.id, "label": self.label, "ratio": self.ratio, "when": when})

    @classmethod
    def model_validate_json(cls, text):
        d = json.loads(text)
        return cls(d["id"], d["label"], d["ratio"], datetime.datetime.fromisoformat(d["when"]))

    def __eq__(self, other):
        return isinstance(other, Model) and all(getattr(self, f) == getattr(other, f) for f in self.fields)

    def __repr__(self):
        return f"Model({', '.join(f'{f}={getattr(self, f)!r}' for f in self.fields)})"


def annotation(value):
    s = struct_pb2.Struct()
    s.update(value)
    return T.TypeAnnotation(annotations=s)


def simple(kind):
    return T.LiteralType(simple=kind)


def literal_type(kind):
    if kind in SIMPLE:
        return simple(SIMPLE[kind])
    if kind == "list_int":
        return T.LiteralType(collection_type=simple(T.INTEGER))
    if kind == "dict_str_int":
        return T.LiteralType(map_value_type=simple(T.INTEGER))
    if kind in ("untyped_dict", "pydantic"):
        return T.LiteralType(simple=T.STRUCT, annotation=annotation(MSGPACK_ANNOTATION))
    if kind == "dataclass":
        inner = T.LiteralType(
            simple=T.STRUCT,
            structure=T.TypeStructure(dataclass_type={"x": simple(T.INTEGER), "when": simple(T.DATETIME)}),
        )
        fields = {"name": simple(T.STRING), "inner": inner, "tags": T.LiteralType(collection_type=simple(T.STRING)), "score": simple(T.FLOAT)}
        return T.LiteralType(
            simple=T.STRUCT, structure=T.TypeStructure(dataclass_type=fields), annotation=annotation(MSGPACK_ANNOTATION)
        )
    if kind == "optional_int":
        return T.LiteralType(
            union_type=T.UnionType(
                variants=[
                    T.LiteralType(simple=T.INTEGER, structure=T.TypeStructure(tag="int")),
                    T.LiteralType(simple=T.NONE, structure=T.TypeStructure(tag="none")),
                ]
            )
        )
    if kind == "enum":
        return T.LiteralType(enum_type=T.EnumType(values=[c.value for c in Color]))
    if kind == "blob":
        return T.LiteralType(blob=T.BlobType(format="", dimensionality=T.BlobType.SINGLE))
    if kind == "structured_dataset":
        return T.LiteralType(structured_dataset_type=T.StructuredDatasetType(format="parquet"))
    raise ValueError(kind)


SIMPLE = {"int": T.INTEGER, "float": T.FLOAT, "str": T.STRING, "bool": T.BOOLEAN, "datetime": T.DATETIME, "duration": T.DURATION}


def primitive(**kw):
    return L.Literal(scalar=L.Scalar(primitive=L.Primitive(**kw)))


def msgpack_literal(value):
    return L.Literal(scalar=L.Scalar(binary=L.Binary(value=msgpack.packb(value), tag="msgpack")))


def dataclass_to_dict(value):
    """mashumaro's msgpack dialect: nested dataclasses become maps, datetimes isoformat text."""
    if dataclasses.is_dataclass(value):
        return {f.name: dataclass_to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [dataclass_to_dict(v) for v in value]
    return value


def to_literal(kind, value):
    if kind == "int":
        return primitive(integer=value)
    if kind == "float":
        return primitive(float_value=value)
    if kind == "str":
        return primitive(string_value=value)
    if kind == "bool":
        return primitive(boolean=value)
    if kind == "datetime":
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(value)
        return primitive(datetime=ts)
    if kind == "duration":
        d = duration_pb2.Duration()
        d.FromTimedelta(value)
        return primitive(duration=d)
    if kind == "list_int":
        return L.Literal(collection=L.LiteralCollection(literals=[to_literal("int", v) for v in value]))
    if kind == "dict_str_int":
        return L.Literal(map=L.LiteralMap(literals={k: to_literal("int", v) for k, v in value.items()}))
    if kind == "untyped_dict":
        return msgpack_literal(value)
    if kind == "dataclass":
        return msgpack_literal(dataclass_to_dict(value))
    if kind == "pydantic":
        return msgpack_literal(json.loads(value.model_dump_json()))
    if kind == "optional_int":
        variants = literal_type(kind).union_type.variants
        if value is None:
            inner, stored = L.Literal(scalar=L.Scalar(none_type=L.Void())), variants[1]
        else:
            inner, stored = to_literal("int", value), variants[0]
        return L.Literal(scalar=L.Scalar(union=L.Union(value=inner, type=stored)))
    if kind == "enum":
        return primitive(string_value=value.value)
    if kind == "blob":
        meta = L.BlobMetadata(type=T.BlobType(format="", dimensionality=T.BlobType.SINGLE))
        return L.Literal(scalar=L.Scalar(blob=L.Blob(uri=value, metadata=meta)))
    if kind == "structured_dataset":
        uri, fmt = value
        meta = L.StructuredDatasetMetadata(structured_dataset_type=T.StructuredDatasetType(format=fmt))
        return L.Literal(scalar=L.Scalar(structured_dataset=L.StructuredDataset(uri=uri, metadata=meta)))
    raise ValueError(kind)


def struct_value(lit):
    """A struct literal's value in either form flytekit reads."""
    scalar = lit.scalar
    if scalar.HasField("binary"):
        if scalar.binary.tag != "msgpack":
            raise TypeError(f"unsupported binary tag {scalar.binary.tag!r}")
        return msgpack.unpackb(scalar.binary.value, strict_map_key=False)
    if scalar.HasField("generic"):
        return json_format.MessageToDict(scalar.generic)
    raise TypeError(f"not a struct literal: {lit}")


def unwrap(lit):
    while lit.HasField("scalar") and lit.scalar.HasField("union"):
        lit = lit.scalar.union.value
    return lit


def to_python(kind, lit):
    lit = unwrap(lit)
    p = lit.scalar.primitive
    if kind == "int":
        return p.integer
    if kind == "float":
        return p.float_value
    if kind == "str":
        return p.string_value
    if kind == "bool":
        return p.boolean
    if kind == "datetime":
        return p.datetime.ToDatetime(tzinfo=UTC)
    if kind == "duration":
        return p.duration.ToTimedelta()
    if kind == "list_int":
        return [to_python("int", v) for v in lit.collection.literals]
    if kind == "dict_str_int":
        return {k: to_python("int", v) for k, v in lit.map.literals.items()}
    if kind == "untyped_dict":
        return struct_value(lit)
    if kind == "dataclass":
        d = struct_value(lit)
        when = datetime.datetime.fromisoformat(d["inner"]["when"])
        return Outer(d["name"], Inner(d["inner"]["x"], when), d["tags"], d["score"], d["raw"])
    if kind == "pydantic":
        return Model.model_validate_json(json.dumps(struct_value(lit)))
    if kind == "optional_int":
        return None if lit.scalar.HasField("none_type") else p.integer
    if kind == "enum":
        return Color(p.string_value)
    if kind == "blob":
        return lit.scalar.blob.uri
    if kind == "structured_dataset":
        sd = lit.scalar.structured_dataset
        return (sd.uri, sd.metadata.structured_dataset_type.format)
    raise ValueError(kind)


WHEN = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)

# name -> (kind, the Python value a flytekit task would pass)
CASES = {
    "i_small": ("int", 42),
    "i_big": ("int", 2**63 - 1),
    "f": ("float", 2.5),
    "s": ("str", "h\u00e9llo \u2603 \U0001F600"),
    "b": ("bool", True),
    "dt": ("datetime", WHEN),
    "dur": ("duration", datetime.timedelta(seconds=90, microseconds=250)),
    "ints": ("list_int", [1, -2, 2**40]),
    "counts": ("dict_str_int", {"a": 1, "b": 2}),
    "untyped": ("untyped_dict", {"k": [1, 2.5, "x", None, True], "n": {"deep": 2**60}, "raw": b"\x00\xff"}),
    "dc": ("dataclass", Outer("run", Inner(7, WHEN), ["a", "b"], 0.75, b"\x01\x02")),
    "model": ("pydantic", Model(3, "m", 1.5, WHEN)),
    "opt_none": ("optional_int", None),
    "opt_some": ("optional_int", 5),
    "color": ("enum", Color.GREEN),
    "file": ("blob", "s3://bucket/data/file.bin"),
    "table": ("structured_dataset", ("s3://bucket/sd/", "parquet")),
}

# Cases that only the untyped echo sees: an integral float inside an untyped dict.
UNTYPED_ONLY = {"untyped_float": ("untyped_dict", {"r": 2.0})}


def strictly_equal(a, b):
    """Equal and of the same types all the way down (2 and 2.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return all(strictly_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, Model):
        return all(strictly_equal(getattr(a, f), getattr(b, f)) for f in Model.fields)
    return a == b

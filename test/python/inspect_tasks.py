"""Reads a generated tasks.py back with Python's ast (without importing it: flytekit is not
installable here) and prints, as JSON, what each class declares.

usage: inspect_tasks.py TASKS_PY
"""

import ast
import json
import sys

tree = ast.parse(open(sys.argv[1]).read())
out = {"tasks": {}, "dataclasses": {}, "enums": {}, "all": None}
for node in tree.body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
        out["all"] = ast.literal_eval(node.value)
    if not isinstance(node, ast.ClassDef):
        continue
    bases = [ast.unparse(b) for b in node.bases]
    decorators = [ast.unparse(d) for d in node.decorator_list]
    if "dataclass" in decorators:
        out["dataclasses"][node.name] = {
            s.target.id: {"type": ast.unparse(s.annotation), "default": ast.unparse(s.value) if s.value else None}
            for s in node.body
            if isinstance(s, ast.AnnAssign)
        }
        continue
    if bases == ["enum.Enum"]:
        out["enums"][node.name] = {s.targets[0].id: ast.literal_eval(s.value) for s in node.body if isinstance(s, ast.Assign)}
        continue
    info = {"bases": bases, "docstring": ast.get_docstring(node)}
    for s in node.body:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            name = s.targets[0].id
            if name in ("_TASK_TYPE", "_TASK_TYPE_VERSION", "_CONFIG_KEYS", "_DOCSTRING"):
                info[name] = ast.literal_eval(s.value)
            elif name in ("_INPUTS", "_OUTPUTS"):
                info[name] = {
                    ast.literal_eval(k): (
                        {"type": ast.unparse(v.elts[0]), "default": ast.unparse(v.elts[1])}
                        if isinstance(v, ast.Tuple)
                        else {"type": ast.unparse(v), "default": None}
                    )
                    for k, v in zip(s.value.keys, s.value.values)
                }
        if isinstance(s, ast.FunctionDef):
            if s.name == "__init__":
                a = s.args
                info["init_args"] = [x.arg for x in a.args]
                info["init_kwonly"] = {
                    x.arg: {"type": ast.unparse(x.annotation), "default": ast.unparse(d)}
                    for x, d in zip(a.kwonlyargs, a.kw_defaults)
                }
            info.setdefault("methods", []).append(s.name)
    out["tasks"][node.name] = info
print(json.dumps(out))

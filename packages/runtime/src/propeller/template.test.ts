import { describe, expect, it } from "vitest";
import { LiteralMap } from "../gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import {
  goFloat,
  renderArg,
  renderTemplate,
  sanitizePerRetryKey,
  type TemplateVariables,
} from "./template.js";

// flyteplugins/go/tasks/pluginmachinery/core/template/template.go at v1.16.8.
const inputs = LiteralMap.fromPartial({
  literals: {
    i: { scalar: { primitive: { integer: 5n } } },
    f: { scalar: { primitive: { floatValue: 1e6 } } },
    g: { scalar: { primitive: { floatValue: 0.5 } } },
    b: { scalar: { primitive: { boolean: true } } },
    s: { scalar: { primitive: { stringValue: "hi there" } } },
    t: { scalar: { primitive: { datetime: { seconds: 1714521600n, nanos: 0 } } } },
    tn: { scalar: { primitive: { datetime: { seconds: 1714521600n, nanos: 120_000_000 } } } },
    d: { scalar: { primitive: { duration: { seconds: 10n, nanos: 5 } } } },
    blob: { scalar: { blob: { uri: "s3://bucket/key", metadata: undefined } } },
    list: {
      collection: {
        literals: [
          { scalar: { primitive: { stringValue: "a" } } },
          { scalar: { primitive: { stringValue: "b" } } },
        ],
      },
    },
    m: { map: { literals: { k: { scalar: { primitive: { integer: 1n } } } } } },
    st: { scalar: { generic: { a: 1 } } },
  },
});

const vars: TemplateVariables = {
  inputPrefix: "/r/in",
  inputPath: "/r/in/inputs.pb",
  outputPrefix: "/r/out/0",
  rawOutputDataPrefix: "/raw/ab/x",
  perRetryUniqueKey: "f3a-n0-0",
  taskTemplatePath: "/r/task.pb",
  checkpointOutputPrefix: "/raw/ab/x/_flytecheckpoints",
  prevCheckpointPrefix: "",
  namespace: "p-d",
  inputs,
};

describe("renderArg as template.go", () => {
  it("renders the fixed placeholders, case-insensitive, with `.` or `$` and spaces (template.go:43-52)", () => {
    expect(renderArg("{{.Input}} {{$input}} {{ .inputPrefix }} {{.OUTPUTPREFIX}}", vars)).toBe(
      "/r/in/inputs.pb /r/in/inputs.pb /r/in /r/out/0",
    );
    expect(renderArg("{{.rawOutputDataPrefix}} {{.checkpointOutputPrefix}} {{.namespace}}", vars)).toBe(
      "/raw/ab/x /raw/ab/x/_flytecheckpoints p-d",
    );
  });

  it('writes "" for an empty previous checkpoint (template.go:116-118)', () => {
    expect(renderArg("--prev={{.prevCheckpointPrefix}}", vars)).toBe('--prev=""');
    expect(renderArg("{{.prevCheckpointPrefix}}", { ...vars, prevCheckpointPrefix: "/p" })).toBe("/p");
  });

  it("keeps only [A-Za-z0-9_] in perRetryUniqueKey and starts it with a letter (template.go:88-90)", () => {
    expect(renderArg("{{.perRetryUniqueKey}}", vars)).toBe("f3a_n0_0");
    expect(sanitizePerRetryKey("9abc-def")).toBe("aabc_def");
  });

  it("formats inputs as Go does (template.go:170-241)", () => {
    expect(renderArg("{{.inputs.i}} {{.inputs.b}} {{.inputs.s}}", vars)).toBe("5 true hi there");
    expect(renderArg("{{.inputs.f}} {{.inputs.g}}", vars)).toBe("1e+06 0.5");
    expect(renderArg("{{.inputs.t}} {{.inputs.tn}}", vars)).toBe(
      "2024-05-01T00:00:00Z 2024-05-01T00:00:00.12Z",
    );
    expect(renderArg("{{.inputs.d}}", vars)).toBe("seconds:10 nanos:5");
    expect(renderArg("{{.inputs.blob}} {{ .Inputs.list }}", vars)).toBe("s3://bucket/key [a,b]");
  });

  it("fails on a missing input or a type Propeller cannot render (template.go:146-154, 232-240)", () => {
    expect(() => renderArg("{{.inputs.nope}}", vars)).toThrow(
      "0: input template [{{.inputs.nope}}]: requested input is not found [nope]\r\n",
    );
    expect(() => renderArg("{{.inputs.m}}", vars)).toThrow(/unexpected primitive type/);
    expect(() => renderArg("{{.inputs.st}}", vars)).toThrow(/unexpected scalar type \[generic\]/);
  });

  it("renders container args only, not the command (flyteplugins/.../webapi/agent/plugin.go:113-129)", () => {
    const t = TaskTemplate.fromPartial({
      container: { image: "x", command: ["{{.input}}"], args: ["{{.input}}"] },
    });
    const r = renderTemplate(t, vars);
    expect(r.container?.command).toEqual(["{{.input}}"]);
    expect(r.container?.args).toEqual(["/r/in/inputs.pb"]);
  });
});

describe("goFloat", () => {
  it("matches Go's %v for float64", () => {
    expect([1e6, 123456, 1234567, 0.0001, 0.00001, 1.5e-7, 2, -3.25, 1e21].map(goFloat)).toEqual([
      "1e+06",
      "123456",
      "1.234567e+06",
      "0.0001",
      "1e-05",
      "1.5e-07",
      "2",
      "-3.25",
      "1e+21",
    ]);
  });
});

"""Evaluate an exported ValidatingAdmissionPolicy's CEL with cel-python.

cel-python (PyPI `cel-python`, module `celpy`) is an independent CEL
implementation; tests/policy_export.rs runs this driver so that the
exported expressions are checked by a second engine besides the Rust
`cel-interpreter` crate.

stdin:  {"variables": [[name, expression], ...],
         "expressions": [expression, ...],
         "objects": [object, ...]}
stdout: a JSON list with, for each object, whether every expression is
        true, evaluated the way the API server does: `object` is the
        admitted object and `variables.<name>` each variable, in order.

The exported expressions use only standard CEL (`matches`, `contains`,
`has`, the `all` and `map` macros, `+`, `?:`), which cel-python provides;
no Kubernetes library function is needed. An expression that fails to
compile or evaluate, or does not give a bool, is an error (exit 1).
"""

import json
import sys

import celpy
from celpy import celtypes


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)


def main():
    request = json.load(sys.stdin)
    env = celpy.Environment()

    def program(expression):
        try:
            return env.program(env.compile(expression))
        except celpy.CELParseError as e:
            fail(f"cel-python cannot parse {expression!r}: {e}")

    variables = [(name, program(e), e) for name, e in request["variables"]]
    validations = [(program(e), e) for e in request["expressions"]]
    verdicts = []
    for obj in request["objects"]:
        values = celtypes.MapType()
        activation = {"object": celpy.json_to_cel(obj), "variables": values}
        for name, prog, text in variables:
            value = prog.evaluate(activation)
            if isinstance(value, celpy.CELEvalError):
                fail(f"variable {name} ({text!r}): {value}")
            values[celtypes.StringType(name)] = value
        admitted = True
        for prog, text in validations:
            value = prog.evaluate(activation)
            if not isinstance(value, celtypes.BoolType):
                fail(f"{text!r} gave {value!r}, not a bool")
            admitted = admitted and bool(value)
        verdicts.append(admitted)
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()

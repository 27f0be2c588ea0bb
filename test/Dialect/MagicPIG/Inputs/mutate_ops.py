"""Random mutations of the ops of a .mlir file, for robustness tests.

    mutate_ops.py INPUT COUNT SEED > mutants.mlir

Takes each func.func of INPUT and writes COUNT mutants in -split-input-file
form, each with one change of the kind a hand-edited or buggy producer makes:
a dimension size or element type (of one type, everywhere it occurs), an
integer or float attribute, a dropped token. Deterministic for a given SEED, so a failure names a reproducible
mutant (its number is in a comment above it).
"""

import random
import re
import sys

DIMS = ["0", "1", "3", "?", "17", "1024", "4611686018427387904"]
TYPES = ["f32", "f16", "bf16", "i1", "i8", "i32", "i64", "index", "f64"]
INTS = ["0", "-1", "1", "2", "16", "17", "64", "9223372036854775807",
        "-9223372036854775808"]
FLOATS = ["0.0", "-1.0", "0x7FC00000", "0x7F800000", "1.0e+38"]


def functions(text):
    """The func.func blocks of `text` (each ends at a line '}')."""
    return re.findall(r"^func\.func .*?^}\n", text, flags=re.S | re.M)


def mutate_type(func, rng):
    """Changes one dimension or the element type of one shaped type
    everywhere it occurs, so that the SSA types stay consistent and the op
    verifiers (not the parser) judge the result."""
    shaped = sorted(set(re.findall(r"(?:tensor|memref)<[^<>]*>", func)))
    if not shaped:
        return None
    old = rng.choice(shaped)
    parts = old[old.index("<") + 1:-1].split("x")
    i = rng.randrange(len(parts))
    parts[i] = rng.choice(TYPES if i == len(parts) - 1 else DIMS)
    new = old[:old.index("<") + 1] + "x".join(parts) + ">"
    return func.replace(old, new)


def mutate_attribute(func, rng):
    spots = [(m, INTS) for m in re.finditer(r"(?<=\()(-?\d+)(?=\))", func)]
    spots += [(m, FLOATS)
              for m in re.finditer(r"(?<=\()(-?\d+\.\d+(e[-+]\d+)?)(?=\))", func)]
    if not spots:
        return None
    spot, choices = rng.choice(spots)
    return func[:spot.start()] + rng.choice(choices) + func[spot.end():]


def mutate(func, rng):
    changes = [mutate_type, mutate_attribute]
    rng.shuffle(changes)
    for change in changes:
        mutated = change(func, rng)
        if mutated is not None:
            return mutated
    return func


def drop_token(func, rng):
    tokens = list(re.finditer(r"[%\w.]+|[(),:<>\[\]{}=]", func))
    spot = rng.choice(tokens)
    return func[:spot.start()] + func[spot.end():]


def main():
    text = open(sys.argv[1]).read()
    count, seed = int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    funcs = functions(text)
    out = []
    for i in range(count):
        func = rng.choice(funcs)
        changes = rng.choice([1, 1, 2, 3])
        for _ in range(changes):
            func = drop_token(func, rng) if rng.random() < 0.15 else mutate(func, rng)
        out.append(f"// mutant {i}\n{func}")
    sys.stdout.write("\n// -----\n".join(out))


if __name__ == "__main__":
    main()

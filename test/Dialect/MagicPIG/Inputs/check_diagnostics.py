"""Checks the diagnostics of a run over mutate_ops.py's mutants.

    check_diagnostics.py MUTANTS STDERR MIN_ERRORS

Every error must carry the location of a line of MUTANTS (file:line:col),
and at least MIN_ERRORS mutants must have been rejected, so that a mutator
which stopped mutating cannot pass unnoticed. Prints the error count.
"""

import re
import sys

mutants, stderr, min_errors = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(mutants).read().count("\n") + 1
errors = [l for l in open(stderr) if " error: " in l or l.startswith("error:")]
located = re.compile(re.escape(mutants) + r":(\d+):(\d+): error: ")
for error in errors:
    match = located.match(error)
    if not match or not 1 <= int(match.group(1)) <= lines:
        sys.exit(f"unlocated diagnostic: {error.rstrip()}")
if len(errors) < min_errors:
    sys.exit(f"only {len(errors)} mutants rejected, expected >= {min_errors}")
print(f"{len(errors)} located errors")

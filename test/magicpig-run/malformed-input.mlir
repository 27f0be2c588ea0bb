// Input that does not parse is reported at its location, followed by one
// line from the runner, with a non-zero exit.

// RUN: not magicpig-run %s -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s
// RUN: cat %s | not magicpig-run -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=STDIN

// CHECK: malformed-input.mlir:[[@LINE+5]]:{{[0-9]+}}: error: use of undeclared SSA value name
// CHECK: magicpig-run: could not parse '{{.*}}malformed-input.mlir'
// STDIN: <stdin>:[[@LINE+3]]:{{[0-9]+}}: error: use of undeclared SSA value name
// STDIN: magicpig-run: could not parse the standard input
llvm.func @main() {
  llvm.return %undefined : i64
}
